"""Tests of irn.info: plug-in entropies against dit, closed forms and information identities."""

from collections import Counter

import dit
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irn import info

TOLERANCE = 1e-10


def empirical(*columns) -> dit.Distribution:
    """The empirical distribution of sample columns, with repeated outcomes merged
    (``dit.Distribution(outcomes, pmf)`` does not merge them itself)."""
    counts = Counter(zip(*(np.asarray(c).tolist() for c in columns)))
    outcomes = list(counts)
    total = sum(counts.values())
    return dit.Distribution(outcomes, [counts[o] / total for o in outcomes])


def random_samples(seed: int, samples: int = 300, alphabet: int = 3, variables: int = 3):
    """(variables, samples) draws from a random joint distribution (dependent variables)."""
    rng = np.random.default_rng(seed)
    pmf = rng.dirichlet(np.full(alphabet**variables, 0.5))
    joint = rng.choice(alphabet**variables, size=samples, p=pmf)
    return np.stack([(joint // alphabet**k) % alphabet for k in range(variables)])


@pytest.mark.parametrize("seed", range(5))
def test_matches_dit_on_random_distributions(seed):
    x, y, z = random_samples(seed)
    d = empirical(x, y, z)
    assert info.entropy(x) == pytest.approx(dit.shannon.entropy(d, [0]), abs=TOLERANCE)
    assert info.entropy(x, y, z) == pytest.approx(dit.shannon.entropy(d, [0, 1, 2]), abs=TOLERANCE)
    assert info.conditional_entropy(x, np.column_stack([y, z])) == pytest.approx(
        dit.shannon.conditional_entropy(d, [0], [1, 2]), abs=TOLERANCE
    )
    assert info.mutual_information(x, y) == pytest.approx(
        dit.shannon.mutual_information(d, [0], [1]), abs=TOLERANCE
    )
    assert info.conditional_mutual_information(x, y, z) == pytest.approx(
        dit.multivariate.coinformation(d, [[0], [1]], [2]), abs=TOLERANCE
    )
    assert info.co_information(x, y, z) == pytest.approx(
        dit.multivariate.coinformation(d, [[0], [1], [2]]), abs=TOLERANCE
    )


def test_two_dimensional_variable_is_the_joint_variable():
    x, y, z = random_samples(7, variables=3)
    d = empirical(x, y, z)
    yz = np.column_stack([y, z])
    assert info.entropy(yz) == pytest.approx(dit.shannon.entropy(d, [1, 2]), abs=TOLERANCE)
    assert info.mutual_information(x, yz) == pytest.approx(
        dit.shannon.mutual_information(d, [0], [1, 2]), abs=TOLERANCE
    )
    assert info.entropy(yz) == pytest.approx(info.entropy(y, z), abs=TOLERANCE)
    codes = info.joint_code(y, z)
    assert codes.shape == y.shape and codes.min() == 0
    assert np.unique(codes).size == np.unique(yz, axis=0).shape[0]


def test_zero_columns_is_a_constant():
    x, y, _ = random_samples(3)
    nothing = np.zeros((x.size, 0), dtype=int)
    assert info.entropy(nothing) == 0.0
    assert info.conditional_mutual_information(x, y, nothing) == pytest.approx(
        info.mutual_information(x, y), abs=TOLERANCE
    )


def test_closed_forms():
    x = np.array([0, 0, 1, 1] * 25)
    y = np.array([0, 1, 0, 1] * 25)
    xor = x ^ y
    assert info.entropy(x) == pytest.approx(1.0)
    assert info.mutual_information(x, y) == pytest.approx(0.0, abs=TOLERANCE)  # independent
    assert info.mutual_information(x, x) == pytest.approx(1.0)  # copy
    assert info.mutual_information(x, xor) == pytest.approx(0.0, abs=TOLERANCE)
    assert info.conditional_mutual_information(x, y, xor) == pytest.approx(1.0)
    assert info.co_information(x, y, xor) == pytest.approx(-1.0)
    assert info.co_information(x, x, x) == pytest.approx(1.0)
    assert info.entropy(np.arange(8)) == pytest.approx(3.0)
    assert info.entropy_of_counts([1, 1, 2]) == pytest.approx(1.5)


def test_float_integer_codes_are_accepted():
    x = np.array([0.0, 1.0, 2.0, 1.0])
    assert info.entropy(x) == pytest.approx(info.entropy(x.astype(int)))


codes = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(
        *(st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array) for _ in range(3))
    )
)


@settings(max_examples=60, deadline=None)
@given(codes)
def test_identities(xyz):
    x, y, z = xyz
    mi = info.mutual_information(x, y)
    assert mi >= 0.0
    assert info.conditional_mutual_information(x, y, z) >= 0.0
    assert mi == pytest.approx(info.mutual_information(y, x), abs=TOLERANCE)
    assert info.mutual_information(x, x) == pytest.approx(info.entropy(x), abs=TOLERANCE)
    # chain rule I(X; Y,Z) = I(X;Z) + I(X;Y|Z)
    assert info.mutual_information(x, np.column_stack([y, z])) == pytest.approx(
        info.mutual_information(x, z) + info.conditional_mutual_information(x, y, z),
        abs=TOLERANCE,
    )
    # H(X,Y) = H(X) + H(Y|X); co-information is symmetric
    assert info.entropy(x, y) == pytest.approx(
        info.entropy(x) + info.conditional_entropy(y, x), abs=TOLERANCE
    )
    co = info.co_information(x, y, z)
    assert co == pytest.approx(info.co_information(z, x, y), abs=TOLERANCE)
    assert co == pytest.approx(info.co_information(y, z, x), abs=TOLERANCE)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: info.entropy(np.array([], dtype=int)), "variables\\[0\\]"),
        (lambda: info.entropy(), "variables"),
        (lambda: info.mutual_information([0, 1, 1], [0, 1]), "y"),
        (lambda: info.mutual_information([0.5, 1.0], [0, 1]), "x"),
        (lambda: info.mutual_information(["a", "b"], [0, 1]), "x"),
        (lambda: info.mutual_information([0, np.nan], [0, 1]), "x"),
        (lambda: info.conditional_mutual_information([0, 1], [0, 1], np.zeros((2, 2, 2))), "given"),
        (lambda: info.co_information([0, 1], [0, 1], [0]), "z"),
        (lambda: info.entropy_of_counts([-1, 2]), "counts"),
        (lambda: info.entropy_of_counts([0, 0]), "counts"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()

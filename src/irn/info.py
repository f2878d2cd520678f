"""Information core: plug-in entropy and mutual information of discrete samples, in bits.

The relay method (Hintze, Najam & Schossau, arXiv 2510.01271, §II.C, Eq. 1; Hintze & Adami,
Entropy 25:401, 2023) is built from joint entropies of discrete variables estimated from
samples. This module holds those estimates and nothing else (no torch, no other ``irn``
module), so it imports fast and can be checked on its own.

A *variable* is an integer-coded sample array: ``(samples,)`` for one variable, or
``(samples, k)`` for the joint variable made of ``k`` columns (a row is one joint outcome;
``k = 0`` is a constant). Every estimate is the plug-in (maximum-likelihood) estimate from
counts, which is biased upward on finite samples; :func:`irn.relay.relay_null` estimates that
bias for relay values.

Sign convention for the co-information: ``I(X;Y;Z) = I(X;Y) - I(X;Y|Z)``, so XOR (``Z = X ^ Y``)
has co-information ``-1`` bit (synergy) and three copies of one fair bit have ``+1``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "joint_code",
    "entropy_of_counts",
    "entropy",
    "conditional_entropy",
    "mutual_information",
    "conditional_mutual_information",
    "co_information",
]


def _as_variable(values, name: str) -> np.ndarray:
    """Check one variable and return it as an int64 array of shape (samples, k)."""
    array = np.asarray(values)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be a 1-D (samples,) or 2-D (samples, k) integer array, "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {array.shape}")
    if array.dtype.kind in "biu":
        array = array.astype(np.int64, copy=False)
    elif array.dtype.kind == "f":
        if not (np.all(np.isfinite(array)) and np.all(array == np.round(array))):
            raise ValueError(f"{name} must be integer-valued (integer codes of outcomes)")
        array = array.astype(np.int64)
    else:
        raise ValueError(f"{name} must be integer-valued, got dtype {array.dtype}")
    return array.reshape(array.shape[0], -1)


def _check_variables(variables, names) -> list[np.ndarray]:
    """Validate several variables and check that they have the same number of samples."""
    arrays = [_as_variable(values, name) for values, name in zip(variables, names)]
    samples = arrays[0].shape[0]
    for array, name in zip(arrays[1:], names[1:]):
        if array.shape[0] != samples:
            raise ValueError(
                f"{name} has {array.shape[0]} samples but {names[0]} has {samples}; "
                "all variables need the same number of samples"
            )
    return arrays


def _dense_code(columns: np.ndarray) -> np.ndarray:
    """Dense ids 0..m-1 of the rows of an int64 array (samples, k); k = 0 gives all zeros."""
    code = np.zeros(columns.shape[0], dtype=np.int64)
    for column in columns.T:
        values, inverse = np.unique(column, return_inverse=True)
        _, code = np.unique(code * len(values) + inverse.ravel(), return_inverse=True)
        code = code.ravel().astype(np.int64, copy=False)
    return code


def joint_code(*variables) -> np.ndarray:
    """Integer code of the joint outcome of several variables.

    Parameters
    ----------
    *variables : array_like, shape (samples,) or (samples, k)
        Integer-valued variables with the same number of samples.

    Returns
    -------
    ndarray, shape (samples,)
        int64 codes 0…m−1, one value per distinct joint outcome.
    """
    if not variables:
        raise ValueError("variables must name at least one variable")
    names = [f"variables[{i}]" for i in range(len(variables))]
    arrays = _check_variables(variables, names)
    return _dense_code(np.concatenate(arrays, axis=1))


def entropy_of_counts(counts) -> float:
    """Entropy in bits of the distribution given by non-negative counts.

    Parameters
    ----------
    counts : array_like
        Non-negative counts of any shape, with a positive sum.

    Returns
    -------
    float
        The entropy in bits.
    """
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if counts.size == 0 or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("counts must be a non-empty array of finite non-negative numbers")
    total = counts.sum()
    if total <= 0:
        raise ValueError("counts must have a positive sum")
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def _entropy_of_code(code: np.ndarray) -> float:
    return entropy_of_counts(np.bincount(code))


def entropy(*variables) -> float:
    """Joint plug-in entropy ``H(V1, ..., Vk)`` in bits.

    Parameters
    ----------
    *variables : array_like, shape (samples,) or (samples, k)
        Integer-valued variables with the same number of samples.

    Returns
    -------
    float
        The entropy in bits.
    """
    return _entropy_of_code(joint_code(*variables))


def conditional_entropy(x, given) -> float:
    """Conditional entropy ``H(X | Z) = H(X, Z) - H(Z)`` in bits.

    Parameters
    ----------
    x, given : array_like, shape (samples,) or (samples, k)
        Integer-valued variables X and Z with the same number of samples.

    Returns
    -------
    float
        The conditional entropy in bits.
    """
    x, given = _check_variables((x, given), ("x", "given"))
    return _entropy_of_code(_dense_code(np.hstack([x, given]))) - _entropy_of_code(
        _dense_code(given)
    )


def _mutual_information_of_codes(x: np.ndarray, y: np.ndarray, given: np.ndarray) -> float:
    """``I(X;Y|Z)`` from dense codes (samples,) each, via the 2x2-by-z count table."""
    nx, ny, nz = x.max() + 1, y.max() + 1, given.max() + 1
    counts = np.bincount((given * nx + x) * ny + y, minlength=nz * nx * ny).reshape(nz, nx, ny)
    value = (
        entropy_of_counts(counts.sum(axis=2))
        + entropy_of_counts(counts.sum(axis=1))
        - entropy_of_counts(counts.sum(axis=(1, 2)))
        - entropy_of_counts(counts)
    )
    # The plug-in estimate is exactly non-negative; only rounding noise can make it negative.
    return max(value, 0.0)


def mutual_information(x, y) -> float:
    """Mutual information ``I(X;Y)`` in bits.

    Parameters
    ----------
    x, y : array_like, shape (samples,) or (samples, k)
        Integer-valued variables with the same number of samples.

    Returns
    -------
    float
        The mutual information in bits (never negative).
    """
    x, y = _check_variables((x, y), ("x", "y"))
    constant = np.zeros(x.shape[0], dtype=np.int64)
    return _mutual_information_of_codes(_dense_code(x), _dense_code(y), constant)


def conditional_mutual_information(x, y, given) -> float:
    """Conditional mutual information ``I(X;Y|Z)`` in bits.

    Parameters
    ----------
    x, y, given : array_like, shape (samples,) or (samples, k)
        Integer-valued variables X, Y and Z with the same number of samples. ``given`` with zero
        columns, shape (samples, 0), is a constant: the result is then ``I(X;Y)``.

    Returns
    -------
    float
        The conditional mutual information in bits (never negative).
    """
    x, y, given = _check_variables((x, y, given), ("x", "y", "given"))
    return _mutual_information_of_codes(_dense_code(x), _dense_code(y), _dense_code(given))


def co_information(x, y, z) -> float:
    """Co-information ``I(X;Y;Z) = I(X;Y) - I(X;Y|Z)`` in bits (negative means synergy).

    Symmetric in its three arguments.

    Parameters
    ----------
    x, y, z : array_like, shape (samples,) or (samples, k)
        Integer-valued variables with the same number of samples.

    Returns
    -------
    float
        The co-information in bits: −1 for XOR (``z = x ^ y``), +1 for three copies of a fair bit.
    """
    x, y, z = _check_variables((x, y, z), ("x", "y", "z"))
    cx, cy, cz = _dense_code(x), _dense_code(y), _dense_code(z)
    constant = np.zeros(cx.shape[0], dtype=np.int64)
    return _mutual_information_of_codes(cx, cy, constant) - _mutual_information_of_codes(
        cx, cy, cz
    )

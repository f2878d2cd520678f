"""Chapter parameters checked in one place, before a chapter does any work.

Every chapter of the book opens with a ``parameters`` cell (papermill replaces its values), and a
reader may pass anything there: ``seed=-1``, ``alpha=5``, ``samples=-5``, a claims folder that does
not exist. ``check`` looks at every parameter a chapter names against a *spec* — one rule per
parameter — and raises ONE ``ValueError`` that names the parameter, what is allowed and what it
got, before any network is trained or loaded::

    from irn import params
    run = params.check(globals(), {
        "seed": params.integer(low=0),
        "alpha": params.number(0, 1, closed=False),
        "task_names": params.list_of(tasks.TASKS),
        "example": params.optional(params.integer(0, replicates - 1)),
    })

``run`` is the dict of the checked values in spec order, for the chapter's claim records and its
reproducibility line (``irn.provenance.reproducibility(run, trained)``). Rules are small frozen
dataclasses (``Rule``): a test and the words that say what it allows. ``params`` is the ground
floor of irn: it imports no other irn module, and every public function of the library checks its
arguments through ``require`` and the rules here before it does any work. Hand-written because papermill passes plain Python values and the book needs
messages a reader can act on, not a schema validator's dump (pydantic/jsonschema would add a
dependency for a dozen rules).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Rule:
    """One parameter rule: a test and the words that say what it allows.

    Attributes
    ----------
    test : callable
        ``test(value) -> bool``; an exception it raises (TypeError, ValueError) counts as False.
    allowed : str
        What the rule allows, for the message ("an integer >= 0").
    """

    test: Callable[[Any], bool]
    allowed: str

    def ok(self, value) -> bool:
        """Whether the rule allows ``value``.

        Parameters
        ----------
        value : object
            Anything.

        Returns
        -------
        bool
            True when ``test(value)`` is true; False when it is false or raises.
        """
        try:
            return bool(self.test(value))
        except (TypeError, ValueError):
            return False


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def integer(low: int | None = None, high: int | None = None) -> Rule:
    """An integer (not a bool) in ``low…high``.

    Parameters
    ----------
    low, high : int or None, optional
        The bounds, inclusive; None leaves that side open.

    Returns
    -------
    Rule
        The rule.
    """
    if low is not None and high is not None and low > high:
        raise ValueError(f"high must be >= low, got low={low!r}, high={high!r}")
    words = ("an integer" + (f" in {low}…{high}" if low is not None and high is not None
                             else f" >= {low}" if low is not None else f" <= {high}" if high is not None else ""))
    return Rule(lambda v: _is_int(v) and (low is None or v >= low) and (high is None or v <= high), words)


def number(low: float | None = None, high: float | None = None, closed: bool = True) -> Rule:
    """A finite number (int or float, not a bool) between ``low`` and ``high``.

    Parameters
    ----------
    low, high : float or None, optional
        The bounds; None leaves that side open.
    closed : bool, optional
        Whether the bounds themselves are allowed; False for an open interval (e.g. a significance
        level in (0, 1)).

    Returns
    -------
    Rule
        The rule.
    """
    if low is not None and high is not None and (low > high or (low == high and not closed)):
        raise ValueError(f"high must be {'>' if not closed else '>='} low, got low={low!r}, high={high!r}: "
                         "the rule would allow nothing")
    def inside(v):
        if not _is_number(v):
            return False
        above = low is None or (v >= low if closed else v > low)
        below = high is None or (v <= high if closed else v < high)
        return above and below

    left, right = ("[", "]") if closed else ("(", ")")
    if low is not None and high is not None:
        words = f"a number in {left}{low}, {high}{right}"
    elif low is not None:
        words = f"a number {'>=' if closed else '>'} {low}"
    elif high is not None:
        words = f"a number {'<=' if closed else '<'} {high}"
    else:
        words = "a finite number"
    return Rule(inside, words)


def boolean() -> Rule:
    """True or False.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(lambda v: isinstance(v, bool), "True or False")


def one_of(options) -> Rule:
    """One of a set of options (compared with ``==``; a bool never stands in for 0 or 1).

    Parameters
    ----------
    options : iterable
        The allowed values.

    Returns
    -------
    Rule
        The rule.
    """
    options = tuple(options)
    return Rule(lambda v: any(_same_kind(v, o) and v == o for o in options),
                f"one of {', '.join(repr(o) for o in options)}")


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Real):
        return "number"
    return type(value).__name__


def _same_kind(a, b) -> bool:
    """Equal values of one kind only: a bool never stands in for 0 or 1, nor a string for a number
    (numpy scalars count as their Python kind)."""
    return _kind(a) == _kind(b)


def list_of(options, min_length: int = 1) -> Rule:
    """A list of distinct values from a set of options.

    YAML lists from papermill's ``-y`` arrive as lists; a bare string is refused, not split into
    letters.

    Parameters
    ----------
    options : iterable
        The allowed values.
    min_length : int, optional
        The shortest allowed list.

    Returns
    -------
    Rule
        The rule.
    """
    member = one_of(options)
    return Rule(lambda v: isinstance(v, (list, tuple)) and len(v) >= min_length
                and len(set(map(repr, v))) == len(v) and all(member.ok(x) for x in v),
                f"a list of distinct values from {', '.join(repr(o) for o in tuple(options))} "
                f"(at least {min_length})")


def optional(rule: Rule) -> Rule:
    """None, or a value another rule allows.

    Parameters
    ----------
    rule : Rule
        The rule for values other than None.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(lambda v: v is None or rule.ok(v), f"None or {rule.allowed}")


def either(*rules: Rule) -> Rule:
    """A value any of several rules allows.

    Parameters
    ----------
    *rules : Rule
        At least one rule.

    Returns
    -------
    Rule
        The rule.
    """
    if not rules:
        raise ValueError("rules must name at least one Rule")
    return Rule(lambda v: any(r.ok(v) for r in rules), " or ".join(r.allowed for r in rules))


def folder(empty: bool = True) -> Rule:
    """A path (string) of an existing folder.

    Parameters
    ----------
    empty : bool, optional
        Also allow "" (the default place).

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(lambda v: isinstance(v, str) and ((empty and v == "") or (v != "" and Path(v).is_dir())),
                "an existing folder" + (" or '' (the default)" if empty else ""))


def rule(test: Callable[[Any], bool], allowed: str) -> Rule:
    """A chapter's own rule, e.g. one that depends on another parameter.

    Parameters
    ----------
    test : callable
        ``test(value) -> bool``.
    allowed : str
        What it allows, for the message.

    Returns
    -------
    Rule
        The rule.
    """
    if not callable(test) or not isinstance(allowed, str) or not allowed:
        raise ValueError("rule needs a callable test and a non-empty allowed description")
    return Rule(test, allowed)


def directory() -> Rule:
    """A path (str or ``os.PathLike``) that is a folder or can become one.

    Not an existing file, and no part of it above is a file (so ``mkdir(parents=True)`` would
    succeed as far as paths go).

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(lambda v: isinstance(v, (str, os.PathLike)) and str(v) != "" and _can_be_folder(Path(v)),
                "a folder path (an existing folder, or one that can be created: not a file, not under a file)")


def _can_be_folder(path: Path) -> bool:
    for part in (path, *path.parents):
        if part.exists():
            return part.is_dir()
    return True


def callable_() -> Rule:
    """Anything that can be called (a function, a class, an object with ``__call__``).

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(callable, "a callable")


def sequence(item: Rule | None = None, min_length: int = 0) -> Rule:
    """A list or tuple (not a string, set or generator: order matters and it is read twice).

    Parameters
    ----------
    item : Rule or None, optional
        The rule every item must meet (None: any item).
    min_length : int, optional
        The fewest items.

    Returns
    -------
    Rule
        The rule.
    """
    words = f"a list or tuple of at least {min_length} item{'s' if min_length != 1 else ''}" if min_length else \
        "a list or tuple"
    return Rule(lambda v: isinstance(v, (list, tuple)) and len(v) >= min_length
                and (item is None or all(item.ok(x) for x in v)),
                words + (f", each {item.allowed}" if item is not None else ""))


def index(high: int | None = None, low: int | None = 0) -> Rule:
    """An integer-valued index in ``low…high``.

    A Python or numpy integer, or a float with no fractional part: 2.0 is 2, but 2.5 is refused
    rather than truncated.

    Parameters
    ----------
    high : int or None, optional
        The largest allowed index (None: no bound).
    low : int or None, optional
        The smallest allowed index (None: no bound).

    Returns
    -------
    Rule
        The rule.
    """
    words = ("an integer" + (f" in {low}…{high}" if low is not None and high is not None
                             else f" >= {low}" if low is not None else f" <= {high}" if high is not None else "")
             + " (integer-valued)")
    return Rule(lambda v: _is_integral(v) and (low is None or v >= low) and (high is None or v <= high), words)


def _is_integral(value) -> bool:
    if isinstance(value, bool):
        return False
    if _is_int(value):
        return True
    return isinstance(value, Real) and math.isfinite(float(value)) and float(value) == int(value)


#: The book's one significance level: the default of every test and verdict (chapters pass their
#: own ``alpha`` parameter, checked by ``SIGNIFICANCE``).
ALPHA = 0.05
#: The rules most chapters share.
SEED = integer(low=0)
SIGNIFICANCE = number(0, 1, closed=False)
SHARE = Rule(lambda v: _is_number(v) and 0 < v <= 1, "a share in (0, 1]")


_checked_at: float | None = None  # time.monotonic() of the last successful check: a run's start


def require(value, name: str, rule: Rule):
    """Return ``value`` if ``rule`` allows it, else raise the one ValueError every check of irn raises.

    The library's own argument checks (``tasks.check_count``, ``tasks.check_noise``, …) go through
    here, as `check` does.

    Parameters
    ----------
    value : object
        The argument.
    name : str
        Its name, for the message.
    rule : Rule
        What is allowed.

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    ValueError
        "{name} must be {rule.allowed}, got {value!r}".
    """
    if not isinstance(rule, Rule):
        raise ValueError(f"rule must be an irn.params.Rule, got {type(rule).__name__}")
    if not rule.ok(value):
        raise ValueError(f"{name} must be {rule.allowed}, got {value!r}")
    return value


def array(value, name: str, *, ndim: int | tuple | None = None, shape: tuple | None = None,
          min_samples: int | None = None, kind: str = "number", allow_nan: bool = False) -> np.ndarray:
    """A value as a numpy array, or one ValueError naming the parameter and what is allowed.

    Strings, objects and ragged lists are refused. Torch tensors are read through numpy. Every value
    must be finite (``allow_nan=True`` lets NaN through, never ±inf).

    Parameters
    ----------
    value : array_like
        The argument.
    name : str
        Its name, for the message.
    ndim : int or tuple of int or None, optional
        The allowed number(s) of dimensions.
    shape : tuple or None, optional
        The allowed shape, ``None`` entries matching any length.
    min_samples : int or None, optional
        At least this many rows (axis 0).
    kind : {"number", "integer", "binary", "any"}, optional
        "number" (bool, int or float: returned as float64), "integer" (integer-valued: returned as
        int64, 2.0 accepted, 2.5 refused), "binary" (0/1 only: returned as uint8) or "any"
        (numeric, dtype kept).
    allow_nan : bool, optional
        Let NaN through.

    Returns
    -------
    ndarray
        The checked array, with the dtype ``kind`` gives.
    """
    if kind not in ARRAY_KINDS:
        raise ValueError(f"kind must be one of {ARRAY_KINDS}, got {kind!r}")
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        out = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a numeric array, got a ragged or unreadable {type(value).__name__}") from None
    if out.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {out.dtype} ({type(value).__name__})")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and out.ndim not in allowed:
        dims = " or ".join(str(d) for d in allowed)
        raise ValueError(f"{name} must be a {dims}-D array, got shape {out.shape}")
    if shape is not None and (len(shape) != out.ndim or any(s is not None and s != o for s, o in zip(shape, out.shape))):
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {out.shape}")
    if min_samples is not None and (out.ndim == 0 or out.shape[0] < min_samples):
        raise ValueError(f"{name} must hold at least {min_samples} samples (rows), got shape {out.shape}")
    if out.dtype.kind == "f":
        bad = ~np.isfinite(out) & ~(np.isnan(out) if allow_nan else False)
        if bad.any():
            what = "finite numbers or NaN" if allow_nan else "finite numbers (no NaN or inf)"
            raise ValueError(f"{name} must hold {what}; {int(bad.sum())} of {out.size} values are not")
    if kind == "number":
        return out.astype(np.float64, copy=False)
    if kind == "integer":
        if out.dtype.kind == "f" and not np.all(np.isnan(out) | (out == np.round(out))):
            raise ValueError(f"{name} must hold integer values (no fractions are truncated), got {value!r}")
        return out.astype(np.int64)
    if kind == "binary":
        if not np.all((out == 0) | (out == 1)):
            raise ValueError(f"{name} must hold binary values 0/1 only")
        return np.ascontiguousarray(out, dtype=np.uint8)
    return out


ARRAY_KINDS = ("number", "integer", "binary", "any")


def check_count(value, name: str, minimum: int) -> int:
    """Check a count.

    Parameters
    ----------
    value : int
        The argument.
    name : str
        Its name, for the message.
    minimum : int
        The smallest allowed count.

    Returns
    -------
    int
        ``value`` as an int.

    Raises
    ------
    ValueError
        When ``value`` is not an integer >= ``minimum``.
    """
    return int(require(value, name, integer(low=minimum)))


def check(values: dict, spec: dict[str, Rule]) -> dict:
    """Check every parameter a chapter names, in order, and mark the start of its run.

    A successful check marks the start of a chapter run: `irn.provenance.reproducibility` reports
    the time since.

    Parameters
    ----------
    values : dict
        The chapter's variables (``globals()`` in a notebook) or any dict.
    spec : dict of str to Rule
        Parameter name → rule.

    Returns
    -------
    dict
        {name: value} in spec order.

    Raises
    ------
    ValueError
        ONE error for the first bad or missing parameter: "seed must be an integer >= 0, got -1".
    """
    global _checked_at
    if not isinstance(values, dict):
        raise ValueError(f"values must be a dict (e.g. globals()), got {type(values).__name__}")
    if not isinstance(spec, dict) or not all(isinstance(r, Rule) for r in spec.values()):
        raise ValueError("spec must be a dict of parameter name -> irn.params.Rule")
    for name, checked in spec.items():
        if name not in values:
            raise ValueError(f"{name} is missing: the parameters cell must set it ({checked.allowed})")
        require(values[name], name, checked)
    _checked_at = time.monotonic()
    return {name: values[name] for name in spec}


def started() -> float | None:
    """The start of a chapter run.

    Returns
    -------
    float or None
        ``time.monotonic()`` of the last successful `check`, or None.
    """
    return _checked_at

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
reproducibility line: ``params.reproducibility(run, trained)`` ends every chapter with the
parameters, the irn commit, the package versions and the zoo entries the run used. Rules are small frozen dataclasses (``Rule``): a test and the words that
say what it allows. Hand-written because papermill passes plain Python values and the book needs
messages a reader can act on, not a schema validator's dump (pydantic/jsonschema would add a
dependency for a dozen rules).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Rule:
    """One parameter rule: ``test(value) -> bool`` and ``allowed``, the words for the message."""

    test: Callable[[Any], bool]
    allowed: str

    def ok(self, value) -> bool:
        try:
            return bool(self.test(value))
        except (TypeError, ValueError):
            return False


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))


def integer(low: int | None = None, high: int | None = None) -> Rule:
    """An integer (not a bool) in ``low…high`` (either bound may be None)."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"high must be >= low, got low={low!r}, high={high!r}")
    words = ("an integer" + (f" in {low}…{high}" if low is not None and high is not None
                             else f" >= {low}" if low is not None else f" <= {high}" if high is not None else ""))
    return Rule(lambda v: _is_int(v) and (low is None or v >= low) and (high is None or v <= high), words)


def number(low: float | None = None, high: float | None = None, closed: bool = True) -> Rule:
    """A finite number (int or float, not a bool) between ``low`` and ``high``; ``closed=False``
    excludes the bounds (e.g. a significance level in (0, 1))."""
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
    """True or False."""
    return Rule(lambda v: isinstance(v, bool), "True or False")


def one_of(options) -> Rule:
    """One of ``options`` (compared with ``==``; a bool never stands in for 0 or 1)."""
    options = tuple(options)
    return Rule(lambda v: not isinstance(v, bool) and any(type(v) is type(o) and v == o for o in options)
                or (isinstance(v, bool) and any(o is v for o in options)),
                f"one of {', '.join(repr(o) for o in options)}")


def list_of(options, min_length: int = 1) -> Rule:
    """A list of distinct values from ``options``, at least ``min_length`` long (YAML lists from
    papermill's ``-y`` arrive as lists; a bare string is refused, not split into letters)."""
    member = one_of(options)
    return Rule(lambda v: isinstance(v, (list, tuple)) and len(v) >= min_length
                and len(set(map(repr, v))) == len(v) and all(member.ok(x) for x in v),
                f"a list of distinct values from {', '.join(repr(o) for o in tuple(options))} "
                f"(at least {min_length})")


def optional(rule: Rule) -> Rule:
    """None, or a value ``rule`` allows."""
    return Rule(lambda v: v is None or rule.ok(v), f"None or {rule.allowed}")


def either(*rules: Rule) -> Rule:
    """A value any of ``rules`` allows."""
    if not rules:
        raise ValueError("rules must name at least one Rule")
    return Rule(lambda v: any(r.ok(v) for r in rules), " or ".join(r.allowed for r in rules))


def folder(empty: bool = True) -> Rule:
    """A path (string) of an existing folder; ``empty=True`` also allows "" (the default place)."""
    return Rule(lambda v: isinstance(v, str) and ((empty and v == "") or (v != "" and Path(v).is_dir())),
                "an existing folder" + (" or '' (the default)" if empty else ""))


def rule(test: Callable[[Any], bool], allowed: str) -> Rule:
    """A chapter's own rule, e.g. one that depends on another parameter."""
    if not callable(test) or not isinstance(allowed, str) or not allowed:
        raise ValueError("rule needs a callable test and a non-empty allowed description")
    return Rule(test, allowed)


#: The rules most chapters share.
SEED = integer(low=0)
ALPHA = number(0, 1, closed=False)


_checked_at: float | None = None  # time.monotonic() of the last successful check: a run's start


def require(value, name: str, rule: Rule):
    """Return ``value`` if ``rule`` allows it, else raise the one ``ValueError`` every check of
    irn raises: "{name} must be {rule.allowed}, got {value!r}". The library's own argument checks
    (``tasks.check_count``, ``tasks.check_noise``, …) go through here, as ``check`` does."""
    if not isinstance(rule, Rule):
        raise ValueError(f"rule must be an irn.params.Rule, got {type(rule).__name__}")
    if not rule.ok(value):
        raise ValueError(f"{name} must be {rule.allowed}, got {value!r}")
    return value


def check_count(value, name: str, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``; raise ValueError otherwise."""
    return int(require(value, name, integer(low=minimum)))


def check(values: dict, spec: dict[str, Rule]) -> dict:
    """Check ``values[name]`` against ``spec[name]`` for every name of ``spec``, in order.

    values: the chapter's variables (``globals()`` in a notebook) or any dict; spec: parameter
    name → ``Rule``. Raises ONE ``ValueError`` for the first bad or missing parameter:
    "seed must be an integer >= 0, got -1". Returns {name: value} in spec order. A successful
    check marks the start of a chapter run: ``reproducibility`` reports the time since.
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


@dataclass(frozen=True)
class Reproducibility:
    """What a chapter run depends on, shown as one line at its end.

    parameters: the checked parameters (``check``'s result); commit: the irn commit (None when
    unknown); versions: package → version; zoo_entries: the zoo entry names the run used;
    seconds: wall time since the parameters were checked (the run so far), None without a check.
    """

    parameters: dict
    commit: str | None
    versions: dict
    zoo_entries: tuple
    seconds: float | None = None

    def _repr_markdown_(self) -> str:
        shown = ", ".join(f"`{k}={v!r}`" for k, v in self.parameters.items())
        entries = ", ".join(f"`{e}`" for e in self.zoo_entries) or "none"
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        commit = f"commit `{self.commit[:12]}`" if self.commit else "commit unknown"
        ran = ""
        if self.seconds is not None:
            minutes, seconds = divmod(round(self.seconds), 60)
            ran = f" This run took {f'{minutes} min ' if minutes else ''}{seconds} s (from the parameter check on)."
        return (f"**Reproducibility.** Parameters: {shown}. irn {commit}; {versions}. "
                f"Zoo entries ({len(self.zoo_entries)}): {entries}.{ran}")


def irn_commit() -> str | None:
    """The commit irn was installed from: pip's record of a ``git+`` install (Colab), else
    ``git rev-parse HEAD`` of the source folder (an editable install), else None."""
    import json
    import subprocess
    from importlib import metadata

    try:
        record = json.loads(metadata.distribution("irn").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, json.JSONDecodeError):
        record = {}
    if record.get("vcs_info", {}).get("commit_id"):
        return record["vcs_info"]["commit_id"]
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                                capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def reproducibility(parameters: dict, trained=()) -> Reproducibility:
    """The reproducibility line of a chapter run: its checked ``parameters`` (dict), the irn
    commit, the versions of python, irn, torch, numpy, pandas, and the zoo entries of ``trained``
    (``irn.train.Trained`` conditions, or a list of them, which may also hold the names of
    ``irn.zoo.cached`` entries, ``zoo.cached_key(name, spec)``)."""
    import platform
    from importlib import metadata

    if not isinstance(parameters, dict):
        raise ValueError(f"parameters must be a dict (check's result), got {type(parameters).__name__}")
    from irn import zoo  # here, not at the top: params is imported before any model code
    from irn.train import Trained

    trained = [trained] if isinstance(trained, Trained) else list(trained)
    if not all(isinstance(t, (Trained, str)) for t in trained):
        raise ValueError("trained must be irn.train.Trained conditions or zoo entry names")
    versions = {"python": platform.python_version()}
    for package in ("irn", "torch", "numpy", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    entries = tuple(dict.fromkeys(t if isinstance(t, str) else t.meta.get("key") or zoo.entry_key(t.condition, t.config)
                                  for t in trained))
    seconds = None if _checked_at is None else time.monotonic() - _checked_at
    return Reproducibility(dict(parameters), irn_commit(), versions, entries, seconds)

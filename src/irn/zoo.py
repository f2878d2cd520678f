"""The zoo of trained replicates: safetensors weights with a JSON sidecar (DESIGN §6).

One entry holds the replicates of one condition. Its name carries a hash of everything that
determines the weights (condition, ``TrainConfig``, training code version), so a changed config
or training code never reuses an old entry. The sidecar records seeds, epochs to criterion,
restarts, accuracy, library and torch versions and the SHA-256 of the weights file, which is
checked on every load: a corrupted or truncated entry is reported, never half-loaded. Writes go
to a temporary file that is renamed into place. Nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import irn
from irn import tasks
from irn.models import Stacked
from irn.train import TRAINING_CODE_VERSION, Condition, TrainConfig, Trained, train

FORMAT = 1


class ZooError(RuntimeError):
    """A zoo entry exists but cannot be trusted (corrupted, truncated or inconsistent)."""


def default_zoo() -> Path:
    """``$IRN_ZOO`` if set, else ``~/.cache/irn/zoo``."""
    return Path(os.environ.get("IRN_ZOO", Path.home() / ".cache" / "irn" / "zoo"))


def _spec(condition: Condition, config: TrainConfig) -> dict:
    return {"condition": {"arch": condition.arch, "task": condition.task, "delay": condition.delay},
            "config": dataclasses.asdict(config), "training_code_version": TRAINING_CODE_VERSION,
            "format": FORMAT}


def entry_key(condition: Condition, config: TrainConfig) -> str:
    """The entry's file stem: readable condition label + hash of everything behind the weights."""
    digest = hashlib.sha256(json.dumps(_spec(condition, config), sort_keys=True).encode()).hexdigest()
    return f"{condition.label}-{digest[:16]}"


def _paths(zoo: Path, condition: Condition, config: TrainConfig) -> tuple[Path, Path]:
    stem = Path(zoo) / entry_key(condition, config)
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def _atomic_write(path: Path, data: bytes):
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save(trained: Trained, zoo: Path | str | None = None) -> Path:
    """Write one condition's replicates to the zoo; return the weights path."""
    zoo = Path(zoo) if zoo is not None else default_zoo()
    zoo.mkdir(parents=True, exist_ok=True)
    weights, sidecar = _paths(zoo, trained.condition, trained.config)
    blob = st_save({k: v.detach().contiguous() for k, v in trained.model.state_dict().items()},
                   metadata={"irn": irn.__version__})
    meta = {**_spec(trained.condition, trained.config),
            "key": entry_key(trained.condition, trained.config),
            "weights_sha256": hashlib.sha256(blob).hexdigest(),
            "seeds": trained.seeds, "epochs": trained.epochs, "restarts": trained.restarts,
            "accuracy": trained.accuracy, "irn_version": irn.__version__,
            "torch_version": torch.__version__}
    _atomic_write(weights, blob)
    _atomic_write(sidecar, json.dumps(meta, indent=1).encode())
    return weights


def load(condition: Condition, config: TrainConfig, zoo: Path | str | None = None) -> Trained | None:
    """The stored replicates of ``condition`` trained with ``config``, or None if absent.

    Raises ZooError if the entry is there but corrupted, truncated or inconsistent.
    """
    zoo = Path(zoo) if zoo is not None else default_zoo()
    weights, sidecar = _paths(zoo, condition, config)
    if not sidecar.exists():
        return None
    try:
        meta = json.loads(sidecar.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ZooError(f"zoo entry {sidecar} is not valid JSON ({err}); delete it to retrain") from err
    if {k: meta.get(k) for k in _spec(condition, config)} != json.loads(json.dumps(_spec(condition, config))):
        raise ZooError(f"zoo entry {sidecar} describes another condition or config; delete it to retrain")
    if not weights.exists():
        raise ZooError(f"zoo entry {sidecar} has no weights file {weights.name}; delete it to retrain")
    blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("weights_sha256"):
        raise ZooError(f"zoo weights {weights} do not match their recorded SHA-256 "
                       "(corrupted or truncated); delete the entry to retrain")
    try:
        state = st_load(blob)
    except Exception as err:  # safetensors raises its own error types
        raise ZooError(f"zoo weights {weights} cannot be read: {err}") from err
    model = Stacked(condition.arch, config.replicates, tasks.n_inputs(condition.task), config.hidden)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ZooError(f"zoo weights {weights} do not fit the model: {err}") from err
    return Trained(condition, config, model, epochs=meta["epochs"], restarts=meta["restarts"],
                   seeds=meta["seeds"], accuracy=meta["accuracy"],
                   meta={k: meta[k] for k in ("irn_version", "torch_version", "key")})


def load_or_train(conditions, config: TrainConfig = TrainConfig(), zoo: Path | str | None = None,
                  progress: bool = True) -> list[Trained]:
    """Load every condition from the zoo, training (and storing) only what is missing.

    A corrupted entry is reported with a warning and retrained. Returns one ``Trained`` per
    condition, in order.
    """
    conditions = [conditions] if isinstance(conditions, Condition) else list(conditions)
    found: dict[Condition, Trained] = {}
    for c in conditions:
        try:
            t = load(c, config, zoo)
        except ZooError as err:
            warnings.warn(f"{err} — retraining {c.label}", stacklevel=2)
            t = None
        if t is not None:
            found[c] = t
    missing = [c for c in conditions if c not in found]
    if missing:
        for t in train(missing, config, progress=progress):
            save(t, zoo)
            found[t.condition] = t
    return [found[c] for c in conditions]


def load_or_train_reusing(conditions, config: TrainConfig = TrainConfig(), zoo: Path | str | None = None,
                          progress: bool = True, larger=(TrainConfig().replicates,)) -> list[Trained]:
    """``load_or_train``, except that a condition stored with more replicates — a count in
    ``larger``, by default the full protocol's 20 — gives its first ``config.replicates`` instead
    of training a small entry (the fast preset then reuses a filled full-protocol zoo).

    A replicate's network depends only on the run seed, the condition and its slot
    (``irn.train.replicate_seed``), so slot r of a 20-replicate entry is the network a smaller run
    trains in slot r — up to the float rounding of stacked training, which can move a snapshot by
    an epoch. The reused ``Trained`` names its source entry in ``meta["key"]`` and
    ``meta["subset_of"]``. Everything else as ``load_or_train``.
    """
    conditions = [conditions] if isinstance(conditions, Condition) else list(conditions)
    if isinstance(larger, int) or not all(isinstance(n, int) and n > 0 for n in larger):
        raise ValueError(f"larger must be a list of positive replicate counts, got {larger!r}")
    found: dict[Condition, Trained] = {}
    for c in conditions:
        for n in sorted(n for n in larger if n > config.replicates):
            bigger = dataclasses.replace(config, replicates=n)
            try:
                t = load(c, bigger, zoo)
            except ZooError:
                t = None
            if t is not None:
                k = config.replicates
                found[c] = Trained(c, config, t.model.select(range(k)), t.epochs[:k], t.restarts[:k],
                                   t.seeds[:k], t.accuracy[:k],
                                   {**t.meta, "subset_of": entry_key(c, bigger), "key": entry_key(c, bigger)})
                break
    missing = [c for c in conditions if c not in found]
    for t in load_or_train(missing, config, zoo, progress) if missing else []:
        found[t.condition] = t
    return [found[c] for c in conditions]


# -- any model: entries named by a hash of what made them (DESIGN §6, §10) ------------------------------
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def cached_key(name: str, spec: dict) -> str:
    """The file stem of a ``cached`` entry: ``name`` + hash of ``spec`` and the training code version."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be lower-case letters, digits, '.', '_' or '-', got {name!r}")
    try:
        text = json.dumps({"spec": spec, "training_code_version": TRAINING_CODE_VERSION, "format": FORMAT},
                          sort_keys=True)
    except TypeError as err:
        raise ValueError(f"spec must be a JSON-able dict of everything that determines the weights: {err}") from err
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cached(name: str, spec: dict, build, zoo: Path | str | None = None) -> tuple[Stacked, dict]:
    """A model of any shape from the zoo, built (trained) and stored only when it is missing.

    name: a readable prefix of the entry; spec: a JSON-able dict of everything that determines the
    weights (data, shape, training settings, seeds) — its hash names the entry, so a changed spec
    never reuses an old one; build(): returns ``(model, meta)`` (a ``Stacked`` and a JSON-able dict
    kept in the sidecar, e.g. epochs or errors). Returns ``(model, meta)``; a corrupted entry is
    reported with a warning and rebuilt, like the condition entries of ``load_or_train``.
    """
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a dict, got {type(spec).__name__}")
    if not callable(build):
        raise ValueError("build must be a callable returning (model, meta)")
    key = cached_key(name, spec)
    zoo = Path(zoo) if zoo is not None else default_zoo()
    weights, sidecar = zoo / f"{key}.safetensors", zoo / f"{key}.json"
    if sidecar.exists():
        try:
            return _load_cached(weights, sidecar, key)
        except ZooError as err:
            warnings.warn(f"{err} — rebuilding {key}", stacklevel=2)
    model, meta = build()
    if not isinstance(model, Stacked):
        raise ValueError(f"build must return (Stacked, dict), got {type(model).__name__} first")
    zoo.mkdir(parents=True, exist_ok=True)
    blob = st_save({k: v.detach().contiguous() for k, v in model.state_dict().items()},
                   metadata={"irn": irn.__version__})
    record = {"key": key, "spec": spec, "training_code_version": TRAINING_CODE_VERSION, "format": FORMAT,
              "shape": {"arch": model.arch, "replicates": model.replicates, "n_inputs": model.n_inputs,
                        "hidden": model.hidden, **model.shape_kwargs()},
              "meta": meta, "weights_sha256": hashlib.sha256(blob).hexdigest(),
              "irn_version": irn.__version__, "torch_version": torch.__version__}
    try:
        text = json.dumps(record, indent=1)
    except TypeError as err:
        raise ValueError(f"build's meta must be JSON-able: {err}") from err
    _atomic_write(weights, blob)
    _atomic_write(sidecar, text.encode())
    return model, meta


def _load_cached(weights: Path, sidecar: Path, key: str) -> tuple[Stacked, dict]:
    try:
        record = json.loads(sidecar.read_text())
        shape = dict(record["shape"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise ZooError(f"zoo entry {sidecar} is not a valid cached entry ({err})") from err
    if record.get("key") != key or not weights.exists():
        raise ZooError(f"zoo entry {sidecar} is inconsistent or has no weights file")
    blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != record.get("weights_sha256"):
        raise ZooError(f"zoo weights {weights} do not match their recorded SHA-256 (corrupted or truncated)")
    try:
        model = Stacked(shape.pop("arch"), shape.pop("replicates"), shape.pop("n_inputs"), shape.pop("hidden"),
                        **shape)
        model.load_state_dict(st_load(blob))
    except Exception as err:  # safetensors and load_state_dict raise their own types
        raise ZooError(f"zoo weights {weights} cannot be read into the recorded model: {err}") from err
    return model, record["meta"]

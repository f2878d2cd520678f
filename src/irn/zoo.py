"""The zoo of trained replicates: safetensors weights with a JSON sidecar.

One entry holds the replicates of one condition. Its name carries a hash of everything that
determines the weights (condition, ``TrainConfig``, training code version), so a changed config
or training code never reuses an old entry. The sidecar records seeds, epochs to criterion,
restarts, accuracy, library and torch versions and the SHA-256 of the weights file, which is
checked on every load: a corrupted or truncated entry is reported, never half-loaded. Nothing is
ever unpickled.

Concurrency (the sweeps of chapter 12 write from many processes, possibly on many machines
sharing one zoo). Every file goes to a uniquely named temporary file renamed into place. An entry's two
files are written under an exclusive ``flock`` of ``.<stem>.lock`` and read under a shared
one, so a reader never pairs a new sidecar with old weights. Training an entry first claims
``.<stem>.train.lock``: a second process asking for the same entry waits and then loads what
the first stored instead of training it again. ``load_or_train`` stores every training group
(the conditions trained in one stack) as soon as it finishes, so a killed run keeps every
finished group. POSIX ``flock`` is used as is (no library adds anything here); on network file
systems it holds where the file system supports ``flock`` (NFSv4, Lustre and GPFS do).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locking, writes stay atomic
    fcntl = None

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import irn
from irn import params, tasks
from irn.files import write_atomic
from irn.models import Stacked
from irn.parallel import process_pool, run_units
from irn.train import TRAINING_CODE_VERSION, Condition, TrainConfig, Trained, train, training_groups

FORMAT = 1


class ZooError(RuntimeError):
    """A zoo entry exists but cannot be trusted (corrupted, truncated or inconsistent)."""


def zoo_path(zoo) -> Path:
    """The zoo folder to use.

    A path that is a file, or lies under a file, is refused before any training.

    Parameters
    ----------
    zoo : str or os.PathLike or None
        A folder, or a path that can become one; None for `default_zoo`.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    params.require(zoo, "zoo", params.optional(params.directory()))
    return Path(zoo) if zoo is not None else default_zoo()


def default_zoo() -> Path:
    """The zoo folder: ``$IRN_ZOO`` if set, else ``~/.cache/irn/zoo``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    return Path(os.environ.get("IRN_ZOO", Path.home() / ".cache" / "irn" / "zoo"))


def _spec(condition: Condition, config: TrainConfig) -> dict:
    return {"condition": {"arch": condition.arch, "task": condition.task, "delay": condition.delay},
            "config": dataclasses.asdict(config), "training_code_version": TRAINING_CODE_VERSION,
            "format": FORMAT}


def entry_key(condition: Condition, config: TrainConfig) -> str:
    """The entry's file stem: a readable condition label and a hash of everything behind the weights.

    Parameters
    ----------
    condition : irn.train.Condition
        Architecture, task and training delay.
    config : irn.train.TrainConfig
        The training protocol.

    Returns
    -------
    str
        The stem, e.g. ``"gru-memory-delay4-"`` followed by 16 hex digits of the hash.
    """
    digest = hashlib.sha256(json.dumps(_spec(condition, config), sort_keys=True).encode()).hexdigest()
    return f"{condition.label}-{digest[:16]}"


def _paths(zoo: Path, condition: Condition, config: TrainConfig) -> tuple[Path, Path]:
    stem = Path(zoo) / entry_key(condition, config)
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")



@contextlib.contextmanager
def _locked(path: Path, exclusive: bool):
    """Hold ``flock`` on ``path`` (created if missing): exclusive for writers, shared for readers."""
    if fcntl is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_path(weights: Path, purpose: str = "") -> Path:
    return weights.with_name(f".{weights.stem}{purpose}.lock")


def _write_entry(weights: Path, sidecar: Path, blob: bytes, meta: dict) -> None:
    """Write one entry's weights and sidecar as a pair (exclusive lock, atomic renames)."""
    with _locked(_lock_path(weights), exclusive=True):
        write_atomic(weights, blob)
        write_atomic(sidecar, json.dumps(meta, indent=1))


def _read_entry(weights: Path, sidecar: Path) -> tuple[dict, bytes] | None:
    """(sidecar dict, weights bytes) read as a pair under a shared lock; None if absent.

    Raises ZooError for an unreadable sidecar, a missing weights file or a SHA-256 mismatch.
    """
    if not sidecar.exists():
        return None
    with _locked(_lock_path(weights), exclusive=False):
        try:
            meta = json.loads(sidecar.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ZooError(f"zoo entry {sidecar} is not valid JSON ({err}); delete it to retrain") from err
        if not weights.exists():
            raise ZooError(f"zoo entry {sidecar} has no weights file {weights.name}; delete it to retrain")
        blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("weights_sha256"):
        raise ZooError(f"zoo weights {weights} do not match their recorded SHA-256 "
                       "(corrupted or truncated); delete the entry to retrain")
    return meta, blob


@contextlib.contextmanager
def _claimed(weights_paths):
    """Exclusive training claims on several entries, taken in sorted order (no deadlock)."""
    with contextlib.ExitStack() as stack:
        for w in sorted(set(weights_paths)):
            stack.enter_context(_locked(_lock_path(w, ".train"), exclusive=True))
        yield


def save(trained: Trained, zoo: Path | str | None = None) -> Path:
    """Write one condition's replicates to the zoo (weights, then the sidecar, atomically).

    Parameters
    ----------
    trained : irn.train.Trained
        The trained replicates with their condition, config and training record.
    zoo : str or os.PathLike or None, optional
        The zoo folder (default `default_zoo`).

    Returns
    -------
    pathlib.Path
        The weights file written.
    """
    zoo = zoo_path(zoo)
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
    _write_entry(weights, sidecar, blob, meta)
    return weights


def load(condition: Condition, config: TrainConfig, zoo: Path | str | None = None) -> Trained | None:
    """The stored replicates of a condition trained with a config, or None if absent.

    Parameters
    ----------
    condition : irn.train.Condition
        Architecture, task and training delay.
    config : irn.train.TrainConfig
        The training protocol.
    zoo : str or os.PathLike or None, optional
        The zoo folder (default `default_zoo`).

    Returns
    -------
    irn.train.Trained or None
        The replicates, or None when the zoo has no such entry.

    Raises
    ------
    ZooError
        When the entry is there but corrupted, truncated or inconsistent.
    """
    zoo = zoo_path(zoo)
    weights, sidecar = _paths(zoo, condition, config)
    entry = _read_entry(weights, sidecar)
    if entry is None:
        return None
    meta, blob = entry
    if {k: meta.get(k) for k in _spec(condition, config)} != json.loads(json.dumps(_spec(condition, config))):
        raise ZooError(f"zoo entry {sidecar} describes another condition or config; delete it to retrain")
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


def _load_or_warn(condition: Condition, config: TrainConfig, zoo) -> Trained | None:
    try:
        return load(condition, config, zoo)
    except ZooError as err:
        warnings.warn(f"{err} — retraining {condition.label}", stacklevel=3)
        return None


def _train_group_and_store(group: list[Condition], config: TrainConfig, zoo, progress: bool) -> list[Trained]:
    """Claim the group's entries, train what is still missing after the claim, store it."""
    zoo = zoo_path(zoo)
    zoo.mkdir(parents=True, exist_ok=True)
    with _claimed(_paths(zoo, c, config)[0] for c in group):
        found = {}
        for c in group:  # another process may have stored it while we waited for the claim
            try:
                t = load(c, config, zoo)
            except ZooError:
                t = None
            if t is not None:
                found[c] = t
        missing = [c for c in group if c not in found]
        if missing:
            for t in train(missing, config, progress=progress):
                save(t, zoo)
                found[t.condition] = t
    return [found[c] for c in group]


def _train_in_worker(group: list[Condition], config: TrainConfig, zoo) -> None:
    """Worker entry point: train and store one group (no result sent back; the zoo holds it)."""
    _train_group_and_store(group, config, zoo, progress=False)


def load_or_train(conditions, config: TrainConfig = TrainConfig(), zoo: Path | str | None = None,
                  progress: bool = True, workers: int = 1) -> list[Trained]:
    """Load every condition from the zoo, training (and storing) only what is missing.

    Missing conditions are trained in their training groups (`irn.train.training_groups`: the
    conditions trained in one stack) and each group is stored as soon as it finishes, so an
    interrupted run keeps every finished group. A corrupted entry is reported with a warning and
    retrained.

    Parameters
    ----------
    conditions : sequence of irn.train.Condition
        The conditions to load or train.
    config : irn.train.TrainConfig, optional
        The training protocol (default: the paper's).
    zoo : str or os.PathLike or None, optional
        The zoo folder (default `default_zoo`).
    progress : bool, optional
        Show progress bars.
    workers : int, optional
        Processes training groups side by side, each with one torch thread (1 = in this process,
        with its thread setting).

    Returns
    -------
    list of irn.train.Trained
        One per condition, in order.
    """
    conditions = [conditions] if isinstance(conditions, Condition) else list(conditions)
    params.check_count(workers, "workers", 1)
    zoo = zoo_path(zoo)
    found: dict[Condition, Trained] = {}
    for c in conditions:
        t = _load_or_warn(c, config, zoo)
        if t is not None:
            found[c] = t
    missing = [c for c in conditions if c not in found]
    groups = training_groups(missing) if missing else []
    if workers > 1 and len(groups) > 1:
        with process_pool(workers) as pool:
            run_units([(g, config, zoo) for g in groups], _train_in_worker, executor=pool,
                      progress=progress, desc="training groups")
        for c in missing:
            found[c] = load(c, config, zoo)
    else:
        for g in groups:
            for t in _train_group_and_store(g, config, zoo, progress):
                found[t.condition] = t
    return [found[c] for c in conditions]


def load_or_train_reusing(conditions, config: TrainConfig = TrainConfig(), zoo: Path | str | None = None,
                          progress: bool = True, larger=(TrainConfig().replicates,)) -> list[Trained]:
    """`load_or_train`, except that a condition stored with more replicates gives its first
    ``config.replicates`` instead of training a small entry.

    A count in ``larger`` (by default the full protocol's 20) is looked for first, so the fast
    preset reuses a filled full-protocol zoo. A replicate's network depends only on the run seed,
    the condition and its slot (`irn.train.replicate_seed`), so slot r of a 20-replicate entry is
    the network a smaller run trains in slot r — up to the float rounding of stacked training,
    which can move a snapshot by an epoch. The reused ``Trained`` names its source entry in
    ``meta["key"]`` and ``meta["subset_of"]``.

    Parameters
    ----------
    conditions : sequence of irn.train.Condition
        The conditions to load or train.
    config : irn.train.TrainConfig, optional
        The training protocol (default: the paper's).
    zoo : str or os.PathLike or None, optional
        The zoo folder (default `default_zoo`).
    progress : bool, optional
        Show progress bars.
    larger : sequence of int, optional
        Replicate counts of stored entries that may be reused.

    Returns
    -------
    list of irn.train.Trained
        One per condition, in order.
    """
    conditions = [conditions] if isinstance(conditions, Condition) else list(conditions)
    params.require(larger, "larger", params.sequence(params.integer(low=1)))
    zoo = zoo_path(zoo)
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
    """The file stem of a `cached` entry.

    Parameters
    ----------
    name : str
        A readable prefix.
    spec : dict
        JSON-able description of everything that determines the weights.

    Returns
    -------
    str
        ``name`` and a hash of ``spec`` and the training code version.
    """
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

    A corrupted entry is reported with a warning and rebuilt, like the condition entries of
    `load_or_train`.

    Parameters
    ----------
    name : str
        A readable prefix of the entry.
    spec : dict
        A JSON-able dict of everything that determines the weights (data, shape, training settings,
        random seeds): its hash names the entry, so a changed spec never reuses an old one.
    build : callable
        ``build()`` returns ``(model, meta)``: an `irn.models.Stacked` and a JSON-able dict kept in
        the sidecar (e.g. epochs or errors).
    zoo : str or os.PathLike or None, optional
        The zoo folder (default `default_zoo`).

    Returns
    -------
    model : irn.models.Stacked
        The stored or newly built model.
    meta : dict
        Its sidecar's record.
    """
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a dict, got {type(spec).__name__}")
    params.require(build, "build", params.rule(callable, "a callable returning (model, meta)"))
    key = cached_key(name, spec)
    zoo = zoo_path(zoo)
    weights, sidecar = zoo / f"{key}.safetensors", zoo / f"{key}.json"
    if sidecar.exists():
        try:
            return _load_cached(weights, sidecar, key)
        except ZooError as err:
            warnings.warn(f"{err} — rebuilding {key}", stacklevel=2)
    zoo.mkdir(parents=True, exist_ok=True)
    with _claimed([weights]):  # a second process building the same entry waits, then loads it
        if sidecar.exists():
            try:
                return _load_cached(weights, sidecar, key)
            except ZooError:
                pass  # warned above; rebuild
        try:
            built = build()
            if not (isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], Stacked)):
                raise ValueError(f"build must return (irn.models.Stacked, dict), got {_described(built)}")
        except BaseException:
            if not sidecar.exists():  # nothing was stored: leave no claim file behind either
                _lock_path(weights, ".train").unlink(missing_ok=True)
            raise
        model, meta = built
        blob = st_save({k: v.detach().contiguous() for k, v in model.state_dict().items()},
                       metadata={"irn": irn.__version__})
        record = {"key": key, "spec": spec, "training_code_version": TRAINING_CODE_VERSION, "format": FORMAT,
                  "shape": {"arch": model.arch, "replicates": model.replicates, "n_inputs": model.n_inputs,
                            "hidden": model.hidden, **model.shape_kwargs()},
                  "meta": meta, "weights_sha256": hashlib.sha256(blob).hexdigest(),
                  "irn_version": irn.__version__, "torch_version": torch.__version__}
        try:
            json.dumps(record)
        except TypeError as err:
            raise ValueError(f"build's meta must be JSON-able: {err}") from err
        _write_entry(weights, sidecar, blob, record)
    return model, meta


def _described(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(type(v).__name__ for v in value) + ")"
    return type(value).__name__


def _load_cached(weights: Path, sidecar: Path, key: str) -> tuple[Stacked, dict]:
    entry = _read_entry(weights, sidecar)  # JSON, weights file and SHA-256 checked as a pair
    if entry is None:
        raise ZooError(f"zoo entry {sidecar} disappeared")
    record, blob = entry
    try:
        shape = dict(record["shape"])
    except (KeyError, TypeError) as err:
        raise ZooError(f"zoo entry {sidecar} is not a valid cached entry ({err})") from err
    if record.get("key") != key:
        raise ZooError(f"zoo entry {sidecar} is inconsistent")
    try:
        model = Stacked(shape.pop("arch"), shape.pop("replicates"), shape.pop("n_inputs"), shape.pop("hidden"),
                        **shape)
        model.load_state_dict(st_load(blob))
    except Exception as err:  # safetensors and load_state_dict raise their own types
        raise ZooError(f"zoo weights {weights} cannot be read into the recorded model: {err}") from err
    return model, record["meta"]

"""What a chapter run depended on: the reproducibility line that ends every chapter.

``reproducibility(run, trained)`` gathers the checked parameters (``irn.params.check``'s result),
the irn commit, the versions of python, irn, torch, numpy and pandas, the zoo entries the run used
and the time since the parameters were checked (the run so far). The line names how many zoo
entries were used and a short hash of their sorted names (two runs with the same hash used the same
trained networks); the names themselves sit in a collapsed block below it.

It sits above the training code (it names ``irn.train.Trained`` conditions and ``irn.zoo``
entries) and beside ``irn.claims``: both record a run for the reader, neither is used by the
analyses.
"""

from __future__ import annotations

import hashlib
import html
import json
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from irn import params, zoo
from irn.train import Trained

PACKAGES = ("irn", "torch", "numpy", "pandas")


@dataclass(frozen=True)
class Reproducibility:
    """What a chapter run depends on, shown as one line at its end.

    Attributes
    ----------
    parameters : dict
        The checked parameters (`irn.params.check`'s result).
    commit : str or None
        The irn commit (None when unknown).
    versions : dict
        Package name → version.
    zoo_entries : tuple of str
        The zoo entry names the run used.
    seconds : float or None
        Wall time since the parameters were checked (the run so far), None without a check.
    """

    parameters: dict
    commit: str | None
    versions: dict
    zoo_entries: tuple
    seconds: float | None = None

    @property
    def zoo_hash(self) -> str:
        """12 hex digits of the SHA-256 of the sorted entry names ("" for none): two runs with the
    same hash used the same trained networks."""
        if not self.zoo_entries:
            return ""
        return hashlib.sha256("\n".join(sorted(self.zoo_entries)).encode()).hexdigest()[:12]

    def _repr_markdown_(self) -> str:
        shown = ", ".join(f"`{k}={v!r}`" for k, v in self.parameters.items())
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        commit = f"commit `{self.commit[:12]}`" if self.commit else "commit unknown"
        ran = ""
        if self.seconds is not None:
            minutes, seconds = divmod(round(self.seconds), 60)
            ran = f" This run took {f'{minutes} min ' if minutes else ''}{seconds} s (from the parameter check on)."
        n = len(self.zoo_entries)
        if not n:
            entries = "Zoo entries: none."
        elif n == 1:
            entries = f"Zoo entry: `{self.zoo_entries[0]}`."
        else:
            entries = f"Zoo entries: {n} (list hash `{self.zoo_hash}`, listed below)."
        line = f"**Reproducibility.** Parameters: {shown}. irn {commit}; {versions}. {entries}{ran}"
        if n > 1:
            items = "".join(f"<li><code>{html.escape(e)}</code></li>" for e in self.zoo_entries)
            line += (f"\n\n<details><summary>The {n} zoo entries this run used</summary>"
                     f"<ul>{items}</ul></details>\n")
        return line


def irn_commit() -> str | None:
    """The commit irn was installed from.

    Returns
    -------
    str or None
        pip's record of a ``git+`` install (Colab), else ``git rev-parse HEAD`` of the source
        folder (an editable install), else None.
    """
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
    """The reproducibility line of a chapter run: display it as the chapter's last output.

    Parameters
    ----------
    parameters : dict
        The chapter's checked parameters (`irn.params.check`'s result).
    trained : irn.train.Trained or sequence, optional
        The trained conditions the run used, or a list of them, which may also hold the names of
        `irn.zoo.cached` entries (``zoo.cached_key(name, spec)``).

    Returns
    -------
    Reproducibility
        Parameters, commit, versions, zoo entries and the run's time so far; shown as Markdown.
    """
    params.require(parameters, "parameters", params.rule(lambda v: isinstance(v, dict),
                                                         "a dict (irn.params.check's result)"))
    trained = [trained] if isinstance(trained, Trained) else list(trained)
    if not all(isinstance(t, (Trained, str)) for t in trained):
        raise ValueError("trained must be irn.train.Trained conditions or zoo entry names")
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    entries = tuple(dict.fromkeys(t if isinstance(t, str) else t.meta.get("key") or zoo.entry_key(t.condition, t.config)
                                  for t in trained))
    start = params.started()
    seconds = None if start is None else time.monotonic() - start
    return Reproducibility(dict(parameters), irn_commit(), versions, entries, seconds)

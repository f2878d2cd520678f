"""The paper's claims as this run measured them: one record per claim, for the summary page.

Each chapter that tests a claim of Hintze, Najam & Schossau (arXiv 2510.01271) — or of another
source, named at the start of the claim's statement — ends with
``record_claim(...)``: it writes ``<claim_id>.json`` into the claims directory (env
``IRN_CLAIMS_DIR``, default ``./_claims`` — chapters of one book build run in the same folder, so
they share it) and glues the claim's value and verdict into the chapter with myst-nb, where the
page can cite them as ``{glue:text}`<claim_id>``` and ``{glue:text}`<claim_id>_verdict``` (``glue`` writes
what myst-nb reads, without importing myst-nb, so chapters run with the core install alone).
The summary page reads every record back with ``load_claims`` and shows a claim whose chapter
did not run as "not run"; ``summary_table`` turns that into the page's table.

Verdicts come from rules in code, not from prose: ``supports`` says whether one test result
backs the claim (p < alpha with the expected sign), ``verdict_of`` turns how many of the claim's
tests did so into "reproduced" (all, or a stated share), "partly" (some) or "not reproduced"
(none) — or "no verdict" when the tests could not have passed at all (``can_reach``: a
signed-rank test over 4 replicates never reaches p < 0.05), so a fast-preset run is not read as a
failed reproduction. A chapter states what its rule tests and records the rule's parameters
(alpha, binarisation method, …) with the claim.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from irn import params

CLAIMS_ENV = "IRN_CLAIMS_DIR"
DEFAULT_DIR = "_claims"
VERDICTS = ("reproduced", "partly", "not reproduced")
NO_VERDICT = "no verdict"  # the run's tests could not reach significance (too few replicates)
NOT_RUN = "not run"
ALPHA = 0.05

# The paper's claims in the order of the summary page: claim_id -> (chapter, statement).
PAPER_CLAIMS = {
    "random_delay_generalises": (2, "Training with random delays generalises better over delays "
                                    "than training with a fixed delay."),
    "greedy_matches_exhaustive": (3, "The greedy search finds (nearly) the most relaying node set "
                                     "of every size, as an exhaustive search does."),
    "knockout_hits_own_concept": (4, "Knocking out the nodes that relay a concept lowers the "
                                     "accuracy on that concept more than random knockouts of the same size."),
    "gated_keep_information_in_place": (5, "GRU and LSTM keep a concept's information in the same "
                                           "nodes over time, while the RNN moves it between nodes."),
    "rnn_lower_overlap": (5, "Relaying nodes overlap less between consecutive steps in the RNN "
                             "than in GRU and LSTM."),
    "rnn_random_delay_localises": (5, "RNNs trained with random delays localise information much "
                                      "like GRUs and LSTMs."),
    "concepts_spread_over_nodes": (6, "Concepts are not confined to single nodes but spread over "
                                      "several nodes."),
    "nodes_relay_several_concepts": (6, "Individual nodes may relay information about multiple "
                                        "concepts: some nodes appear to store information about "
                                        "more than one concept (smearing)."),
    "pca_resolves_states": (7, "A 2-D PCA of an RNN's hidden states resolves the 8 states of the "
                               "memory task."),
    "relay_removal_sharpens_clusters": (7, "Removing nodes least relaying first keeps a concept's "
                                           "clusters better separated than removing them at random."),
    # Ceni, Ashwin & Livi (arXiv 1807.10478), chapter 8
    "ena_flipflop_cube": (8, "A network that solves a task with a finite set of held states has them as "
                             "stable attractors joined by excitable connections: for the 3-bit flip-flop "
                             "8 stable states and the 24 transitions of the cube (Ceni, Ashwin & Livi)."),
    "ena_margin_above_one": (8, "The task's input pulses exceed the excitability thresholds of the "
                                "transitions the task needs (Ceni, Ashwin & Livi)."),
    "flow_outputs_further_along": (9, "Ivanovic et al.: there is a general direction of information "
                                      "flow — outputs sit further along the network than hidden "
                                      "neurons, and hidden neurons further than the inputs."),
    "flow_no_clear_layers": (9, "Ivanovic et al.: the fully recurrent network shows no clear "
                                "layer-like structure (the report is 'not yet sure' it forms layers)."),
    "relay_nodes_on_flow_paths": (9, "Bridge (irn): in the memory-task networks, the relay nodes sit on "
                                     "wider transfer-entropy flow paths from the inputs to the outputs "
                                     "than the other hidden nodes."),
    "ib_compression": (10, "After fitting, a recurrent layer compresses: its I(X;T) falls in the information "
                           "plane (Shwartz-Ziv & Tishby 2017; seed 003, question 3)."),
    "compression_needs_tanh": (10, "Compression appears with tanh units but not with ReLU units "
                                   "(Saxe et al. 2018)."),
    "information_tracks_learning": (10, "I(T;Y) rises as the network learns, so it indicates learning "
                                        "(seed 003, question 4)."),
    "drift_diffusion_phases": (10, "Minibatch training passes from drift (gradient SNR > 1) to diffusion "
                                   "(SNR < 1), and the switch coincides with the start of compression "
                                   "(Shwartz-Ziv & Tishby 2017; seed 003, question 5)."),
    "real_data_learned": (11, "The method applies to real-world time series classification (the "
                              "abstract): RNN, GRU and LSTM networks learn such tasks, within 0.05 of "
                              "the archives' 1-NN baselines."),
    "real_data_relay_above_null": (11, "On real time series, relay information at the answer stands clear of "
                                       "what finite samples alone give (shuffle null)."),
    "real_data_knockout_hits_own_class": (11, "On real time series, knocking out a class's relay nodes lowers "
                                              "that class's accuracy more than the other classes' and more "
                                              "than random knockouts of the same size."),
    "real_data_rnn_moves_information": (11, "On real time series, as on the synthetic tasks, the RNN moves "
                                            "information between nodes over time while GRU and LSTM keep it "
                                            "in place."),
    "relay_holds_at_scale": (12, "The relay method identifies functional nodes beyond the paper's 12 "
                                 "nodes — the paper names \"a possible scaling to extremely large "
                                 "networks\" as its limitation: knocking out a concept's top relay "
                                 "nodes costs it more than random nodes at every larger size."),
}

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Claim:
    """One claim as measured by one chapter run.

    value_text: the measured result in words and numbers (e.g. "0.41 vs 0.15, p = 0.0001");
    stats: the numbers behind it (JSON-serialisable: numbers, strings, lists, dicts);
    parameters: the chapter's run parameters (e.g. fast, replicates), shown on the summary page.
    """

    claim_id: str
    chapter: int
    statement: str
    value_text: str
    verdict: str
    stats: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    recorded: str = ""

    def _repr_markdown_(self) -> str:
        return f"**{self.claim_id}** — *{self.verdict}*: {self.value_text}."


def claims_dir(directory=None) -> Path:
    """The claims directory: ``directory``, else env ``IRN_CLAIMS_DIR``, else ``./_claims``."""
    if directory is None or directory == "":
        directory = os.environ.get(CLAIMS_ENV) or DEFAULT_DIR
    return Path(directory)


def supports(difference, p_value, expected_sign: int = 1, alpha: float = ALPHA) -> bool:
    """True when a test backs the claim: p < alpha and ``difference`` has the expected sign."""
    if expected_sign not in (1, -1):
        raise ValueError(f"expected_sign must be 1 or -1, got {expected_sign!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    difference, p_value = float(difference), float(p_value)
    return bool(p_value < alpha and np.sign(difference) == expected_sign)


def can_reach(n: int, alpha: float = ALPHA, paired: bool = True) -> bool:
    """Whether a two-sided rank test over ``n`` replicates can reach p < ``alpha`` at all: its
    smallest p-value is 2 / 2**n (Wilcoxon signed-rank, ``paired``) or 2 / C(2n, n) (Mann–Whitney
    U with n per group)."""
    params.check_count(n, "n", 1)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    smallest = 2 / 2 ** int(n) if paired else 2 / math.comb(2 * int(n), int(n))
    return smallest < alpha


def verdict_of(supported: int, total: int, reproduced_at: float = 1.0, reachable: bool = True) -> str:
    """"reproduced" when at least the share ``reproduced_at`` of ``total`` tests (or replicates)
    back the claim (default: all), "partly" when some do, else "not reproduced"; ``NO_VERDICT``
    when ``reachable`` is False (the tests could not have passed, see ``can_reach``)."""
    params.check_count(total, "total", 1)
    if isinstance(supported, bool) or not isinstance(supported, (int, np.integer)) \
            or not 0 <= supported <= total:
        raise ValueError(f"supported must be an integer in 0…{total}, got {supported!r}")
    if not 0 < reproduced_at <= 1:
        raise ValueError(f"reproduced_at must be a share in (0, 1], got {reproduced_at!r}")
    if not reachable:
        return NO_VERDICT
    return VERDICTS[0] if supported >= reproduced_at * total else VERDICTS[1] if supported else VERDICTS[2]


def _plain(value):
    """numpy scalars and arrays → plain Python, recursively (for JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if value is None or isinstance(value, (int, str)):
        return value
    raise ValueError(f"stats and parameters must hold numbers, strings, lists or dicts; got {type(value).__name__}")


def record_claim(claim_id: str, chapter: int, statement: str, value_text: str, verdict: str,
                 stats: dict | None = None, parameters: dict | None = None, directory=None) -> Claim:
    """Write ``<claim_id>.json`` into the claims directory and glue the value into the chapter.

    claim_id: lower-case identifier (letters, digits, _), normally a key of ``PAPER_CLAIMS``;
    verdict: one of ``VERDICTS`` or ``NO_VERDICT``. Glued names: ``claim_id`` (value_text) and
    ``claim_id + "_verdict"``. Returns the written ``Claim``.
    """
    if not isinstance(claim_id, str) or not _ID.match(claim_id):
        raise ValueError(f"claim_id must be a lower-case identifier (a-z, 0-9, _), got {claim_id!r}")
    params.check_count(chapter, "chapter", 1)
    for name, text in (("statement", statement), ("value_text", value_text)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if verdict not in (*VERDICTS, NO_VERDICT):
        raise ValueError(f"verdict must be one of {(*VERDICTS, NO_VERDICT)}, got {verdict!r}")
    for name, value in (("stats", stats), ("parameters", parameters)):
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{name} must be a dict or None, got {type(value).__name__}")
    claim = Claim(claim_id, int(chapter), statement, value_text, verdict,
                  _plain(stats or {}), _plain(parameters or {}),
                  datetime.now(timezone.utc).isoformat(timespec="seconds"))
    folder = claims_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(claim), indent=1, ensure_ascii=False)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{claim_id}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, folder / f"{claim_id}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    glue(claim_id, value_text)
    glue(f"{claim_id}_verdict", verdict)
    return claim


#: The MIME prefix under which myst-nb finds a glued value that is not displayed in its cell.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value) -> None:
    """Glue ``value`` into the running notebook under ``name``, for ``{glue:text}`name```.

    The output myst-nb's ``glue(name, value, display=False)`` writes — the value's display data
    under the papermill-record MIME prefix, named in ``scrapbook`` metadata — written with IPython
    alone, so a chapter runs where myst-nb (the book extra) is not installed, as on Colab. Nothing
    happens outside a notebook kernel (scripts, tests).
    """
    if not isinstance(name, str) or not _ID.match(name):
        raise ValueError(f"name must be a lower-case identifier (a-z, 0-9, _), got {name!r}")
    try:
        from IPython.core.formatters import format_display_data
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display
    except ImportError:
        return
    if not InteractiveShell.initialized():
        return
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


COLUMNS = ["claim_id", "chapter", "statement", "value_text", "verdict", "parameters", "recorded"]


def load_claims(directory=None, expected=None) -> pd.DataFrame:
    """Every claim record in the claims directory, plus a "not run" row for each expected claim
    that has none.

    expected: claim ids that should be there (default: the keys of ``PAPER_CLAIMS``, in that
    order; other records found follow them). A missing or empty directory gives all "not run".
    Columns: claim_id, chapter, statement, value_text, verdict (one of ``VERDICTS`` or "not run"),
    parameters (dict), recorded (UTC time, "" when not run), stats (dict).
    """
    expected = list(PAPER_CLAIMS) if expected is None else list(expected)
    folder = claims_dir(directory)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"directory must be a folder of claim records, got the file {folder}")
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            found[record["claim_id"]] = record
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a claim record ({error}); delete it or rerun its chapter") from None
    rows = []
    for claim_id in [*expected, *[c for c in found if c not in expected]]:
        if claim_id in found:
            rows.append({**found[claim_id]})
        else:
            chapter, statement = PAPER_CLAIMS.get(claim_id, (None, ""))
            rows.append({"claim_id": claim_id, "chapter": chapter, "statement": statement,
                         "value_text": "—", "verdict": NOT_RUN, "stats": {}, "parameters": {},
                         "recorded": ""})
    return pd.DataFrame(rows, columns=[*COLUMNS, "stats"])


SUMMARY_COLUMNS = ["chapter", "claim", "this run", "verdict", "protocol"]


def _protocol(parameters: dict) -> str:
    if not parameters:
        return "—"
    size = f", {parameters['replicates']} replicates" if "replicates" in parameters else ""
    return ("fast preset" if parameters.get("fast") else "full protocol") + size


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """The summary page's table: one row per claim of ``load_claims`` output, in its order.

    Columns: chapter (int, or "—" for a record without a known chapter), claim (the paper's
    statement), this run (the measured value), verdict (one of ``VERDICTS`` or "not run"; a verdict
    from a fast-preset run gets " (fast preset)" appended, since its tests have few replicates),
    protocol ("full protocol, 20 replicates", "fast preset, 4 replicates", or "—" when not run).
    """
    missing = [c for c in ("chapter", "statement", "value_text", "verdict", "parameters") if c not in table]
    if missing:
        raise ValueError(f"table must be the output of load_claims; it lacks {missing}")
    rows = []
    for row in table.itertuples():
        parameters = row.parameters if isinstance(row.parameters, dict) else {}
        chapter = "—" if row.chapter is None or pd.isna(row.chapter) else int(row.chapter)
        fast = row.verdict != NOT_RUN and bool(parameters.get("fast"))
        verdict = row.verdict + (" (fast preset)" if fast else "")
        rows.append((chapter, row.statement or "—", row.value_text, verdict,
                     _protocol(parameters) if row.verdict != NOT_RUN else "—"))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

"""Claim records: written atomically, read back as written, missing claims shown as not run,
verdicts follow their rules, bad input raises."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from irn import claims

CLAIM = dict(claim_id="relay_removal_sharpens_clusters", chapter=7,
             statement="Relay-ordered removal keeps clusters apart.", value_text="0.41 vs 0.15",
             verdict="reproduced")


def test_round_trip_and_missing(tmp_path):
    written = claims.record_claim(**CLAIM, stats={"p": np.float64(0.001), "n": np.int64(20),
                                                  "gap": float("nan"), "per": np.array([1, 2])},
                                  parameters={"fast": False, "replicates": 20}, directory=tmp_path)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    table = claims.load_claims(tmp_path)
    assert list(table.claim_id) == list(claims.PAPER_CLAIMS)
    row = table.set_index("claim_id").loc[CLAIM["claim_id"]]
    assert row.value_text == "0.41 vs 0.15" and row.verdict == "reproduced" and row.chapter == 7
    assert row.stats == {"p": 0.001, "n": 20, "gap": None, "per": [1, 2]}
    assert row.parameters == {"fast": False, "replicates": 20} and row.recorded == written.recorded
    missing = table[table.claim_id != CLAIM["claim_id"]]
    assert (missing.verdict == claims.NOT_RUN).all() and (missing.recorded == "").all()
    assert missing.set_index("claim_id").loc["greedy_matches_exhaustive"].chapter == 3


def test_rerun_overwrites_and_extra_claims_follow(tmp_path):
    claims.record_claim(**CLAIM, directory=tmp_path)
    claims.record_claim(**{**CLAIM, "verdict": "partly"}, directory=tmp_path)
    claims.record_claim("my_extra_claim", 9, "Something else.", "42", "not reproduced", directory=tmp_path)
    table = claims.load_claims(tmp_path)
    assert table.set_index("claim_id").loc[CLAIM["claim_id"]].verdict == "partly"
    assert table.claim_id.iloc[-1] == "my_extra_claim" and len(table) == len(claims.PAPER_CLAIMS) + 1


def test_directory_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.CLAIMS_ENV, str(tmp_path / "env"))
    claims.record_claim(**CLAIM)
    assert (tmp_path / "env" / f"{CLAIM['claim_id']}.json").exists()
    monkeypatch.delenv(claims.CLAIMS_ENV)
    monkeypatch.chdir(tmp_path)
    assert claims.claims_dir() == claims.claims_dir("") and str(claims.claims_dir()) == claims.DEFAULT_DIR


def test_nothing_run_shows_all_not_run(tmp_path):
    table = claims.load_claims(tmp_path / "absent")
    assert len(table) == len(claims.PAPER_CLAIMS) and (table.verdict == claims.NOT_RUN).all()


def test_corrupt_record_is_reported(tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json"):
        claims.load_claims(tmp_path)


def test_verdict_rules():
    assert claims.supports(0.2, 0.01) and not claims.supports(-0.2, 0.01)
    assert claims.supports(-0.2, 0.01, expected_sign=-1) and not claims.supports(0.2, 0.2)
    assert not claims.supports(0.2, math.nan)
    assert [claims.verdict_of(s, 3) for s in (3, 1, 0)] == ["reproduced", "partly", "not reproduced"]
    assert claims.verdict_of(18, 20, reproduced_at=0.9) == "reproduced"
    assert claims.verdict_of(17, 20, reproduced_at=0.9) == "partly"


@pytest.mark.parametrize("change, match", [
    ({"claim_id": "Bad Id"}, "claim_id"), ({"chapter": 0}, "chapter"), ({"verdict": "yes"}, "verdict"),
    ({"value_text": ""}, "value_text"), ({"stats": [1]}, "stats"), ({"stats": {"x": object()}}, "stats"),
])
def test_bad_input_raises_and_writes_nothing(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        claims.record_claim(**{**CLAIM, **change}, directory=tmp_path)
    assert not list(tmp_path.iterdir())


def test_bad_rule_input_raises():
    with pytest.raises(ValueError, match="expected_sign"):
        claims.supports(1, 0.01, expected_sign=0)
    with pytest.raises(ValueError, match="supported"):
        claims.verdict_of(4, 3)
    with pytest.raises(ValueError, match="total"):
        claims.verdict_of(0, 0)
    with pytest.raises(ValueError, match="reproduced_at"):
        claims.verdict_of(1, 2, reproduced_at=0)


def test_record_is_plain_json(tmp_path):
    claims.record_claim(**CLAIM, directory=tmp_path)
    record = json.loads((tmp_path / f"{CLAIM['claim_id']}.json").read_text(encoding="utf-8"))
    assert set(record) == {"claim_id", "chapter", "statement", "value_text", "verdict", "stats",
                           "parameters", "recorded"}


def test_summary_table_flags_fast_runs_and_lists_claims_not_run(tmp_path):
    claims.record_claim(**CLAIM, parameters={"fast": True, "replicates": 4}, directory=tmp_path)
    claims.record_claim("knockout_hits_own_concept", 4, "Knockouts hit their concept.", "+0.15",
                        "reproduced", parameters={"fast": False, "replicates": 20}, directory=tmp_path)
    summary = claims.summary_table(claims.load_claims(tmp_path))
    assert list(summary.columns) == ["chapter", "claim", "this run", "verdict", "protocol"]
    assert len(summary) == len(claims.PAPER_CLAIMS)
    rows = dict(zip(claims.PAPER_CLAIMS, summary.itertuples(index=False)))
    fast, full = rows[CLAIM["claim_id"]], rows["knockout_hits_own_concept"]
    assert fast.verdict == "reproduced (fast preset)" and fast.protocol == "fast preset, 4 replicates"
    assert full.verdict == "reproduced" and full.protocol == "full protocol, 20 replicates"
    assert full._2 == "+0.15" and full.chapter == 4
    others = summary[~summary.claim.isin([CLAIM["statement"], "Knockouts hit their concept."])]
    assert (others.verdict == claims.NOT_RUN).all() and (others.protocol == "—").all()
    with pytest.raises(ValueError, match="load_claims"):
        claims.summary_table(summary)


def test_paper_claims_are_in_chapter_order_and_include_smearing_and_random_delays():
    chapters = [chapter for chapter, _ in claims.PAPER_CLAIMS.values()]
    assert chapters == sorted(chapters)
    assert claims.PAPER_CLAIMS["nodes_relay_several_concepts"][0] == 6
    assert claims.PAPER_CLAIMS["rnn_random_delay_localises"][0] == 5


def test_glue_writes_what_myst_nb_writes(monkeypatch):
    """irn.claims.glue gives the same display call as myst_nb.glue(display=False), without myst-nb."""
    import IPython.display
    from IPython.core.interactiveshell import InteractiveShell

    calls = []
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)))
    claims.glue("some_value", "0.41 bits")
    myst_nb_glue = pytest.importorskip("myst_nb").glue
    import myst_nb.ext.glue as glue_module

    monkeypatch.setattr(glue_module, "ipy_display", lambda *a, **k: calls.append((a, k)))
    myst_nb_glue("some_value", "0.41 bits", display=False)
    assert len(calls) == 2 and calls[0] == calls[1]
    with pytest.raises(ValueError, match="name"):
        claims.glue("Not An Id", 1)


def test_can_reach_matches_the_tests_smallest_p_values():
    """Against scipy: the most extreme data of n pairs / n per group give the smallest p-value."""
    from scipy import stats as sps

    for n in range(2, 9):
        wilcoxon = sps.wilcoxon(np.arange(1, n + 1), alternative="two-sided", method="exact").pvalue
        mannwhitney = sps.mannwhitneyu(np.arange(n), np.arange(n) + n, method="exact").pvalue
        assert claims.can_reach(n) == (wilcoxon < claims.ALPHA)
        assert claims.can_reach(n, paired=False) == (mannwhitney < claims.ALPHA)
    assert not claims.can_reach(4) and claims.can_reach(20)
    assert claims.verdict_of(0, 3, reachable=False) == claims.NO_VERDICT
    with pytest.raises(ValueError, match="^n "):
        claims.can_reach(0)

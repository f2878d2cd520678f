"""Claim records: written atomically, read back as written, missing claims shown as not run,
verdicts follow the rule of DESIGN §16 (counted against chance, contradictions counted), family
corrections agree with a hand computation and scipy, bad input raises before anything is written."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from irn import claims, params

CLAIM = dict(claim_id="relay_removal_sharpens_clusters", evidence=claims.Evidence(9, 9),
             value_text="0.41 vs 0.15")  # 9 of 9 networks: reproduced under the verdict rule


def test_round_trip_and_missing(tmp_path):
    written = claims.record(**CLAIM, stats={"p": np.float64(0.001), "n": np.int64(20),
                                                  "gap": float("nan"), "per": np.array([1, 2])},
                                  parameters={"fast": False, "replicates": 20}, directory=tmp_path)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    table = claims.load_claims(tmp_path)
    assert list(table.claim_id) == list(claims.REGISTRY)
    row = table.set_index("claim_id").loc[CLAIM["claim_id"]]
    assert row.value_text == "0.41 vs 0.15" and row.verdict == "reproduced" and row.chapter == "7"
    assert row.stats == {"p": 0.001, "n": 20, "gap": None, "per": [1, 2]}
    assert row.parameters == {"fast": False, "replicates": 20} and row.recorded == written.recorded
    missing = table[table.claim_id != CLAIM["claim_id"]]
    assert (missing.verdict == claims.NOT_RUN).all() and (missing.recorded == "").all()
    assert missing.set_index("claim_id").loc["greedy_matches_exhaustive"].chapter == "3"


def test_rerun_overwrites_and_extra_claims_follow(tmp_path, monkeypatch):
    claims.record(**CLAIM, directory=tmp_path)
    claims.record(**{**CLAIM, "evidence": claims.Evidence(7, 9, 2)}, directory=tmp_path)
    extra = claims.ClaimSpec("9", "irn", "Something else.", "c", "t", "f", "d")
    monkeypatch.setitem(claims.REGISTRY, "my_extra_claim", extra)
    claims.record("my_extra_claim", claims.Evidence(0, 9, 9), "42", directory=tmp_path)
    monkeypatch.delitem(claims.REGISTRY, "my_extra_claim")
    table = claims.load_claims(tmp_path)
    assert table.set_index("claim_id").loc[CLAIM["claim_id"]].verdict == "partly"
    assert table.claim_id.iloc[-1] == "my_extra_claim" and len(table) == len(claims.REGISTRY) + 1


def test_directory_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(claims.CLAIMS_ENV, str(tmp_path / "env"))
    claims.record(**CLAIM)
    assert (tmp_path / "env" / f"{CLAIM['claim_id']}.json").exists()
    monkeypatch.delenv(claims.CLAIMS_ENV)
    monkeypatch.chdir(tmp_path)
    assert claims.claims_dir() == claims.claims_dir("") and str(claims.claims_dir()) == claims.DEFAULT_DIR


def test_nothing_run_shows_all_not_run(tmp_path):
    table = claims.load_claims(tmp_path / "absent")
    assert len(table) == len(claims.REGISTRY) and (table.verdict == claims.NOT_RUN).all()


def test_corrupt_record_is_reported(tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json"):
        claims.load_claims(tmp_path)


def test_verdict_rules():
    assert claims.supports(0.2, 0.01) and not claims.supports(-0.2, 0.01)
    assert claims.supports(-0.2, 0.01, expected_sign=-1) and not claims.supports(0.2, 0.2)
    assert not claims.supports(0.2, math.nan)
    assert claims.contradicts(-0.2, 0.01) and not claims.contradicts(0.2, 0.01) and not claims.contradicts(-0.2, 0.2)
    assert claims.contradicts(0.2, 0.01, expected_sign=-1)
    # the cases of issue 20: one support in 140 is chance, 30 is not; 8 of 10 against contradicts
    assert claims.verdict_of(1, 140) == "not reproduced"
    assert claims.verdict_of(30, 140) == "partly"
    assert claims.verdict_of(0, 10, contradicted=8) == "contradicted"
    assert claims.verdict_of(3, 3) == "reproduced" and claims.verdict_of(0, 3) == "not reproduced"
    assert claims.verdict_of(3, 3, 0) == "reproduced" and claims.verdict_of(2, 3, 1) == "partly"
    assert claims.verdict_of(1, 7, 1) == "not reproduced"  # 1 of 7 for and 1 against: no longer "partly"
    assert claims.verdict_of(18, 20, reproduced_at=0.9) == "reproduced"
    assert claims.verdict_of(17, 20, reproduced_at=0.9) == "partly"
    assert claims.verdict_of(18, 20, 1, reproduced_at=0.9) == "partly"  # a contradiction stops "reproduced"
    assert claims.verdict_of(5, 12, 5) == "not reproduced"  # as many against as for
    assert claims.verdict_of(2, 12, 9) == "contradicted"


def test_chance_is_the_binomial_tail_at_half_alpha():
    """The "partly" edge against scipy's exact binomial test, at the per-test rate alpha / 2."""
    from scipy import stats as sps

    for total in (1, 2, 5, 20, 140):
        for alpha in (0.05, 0.01):
            for count in range(total + 1):
                exact = sps.binomtest(count, total, alpha / 2, alternative="greater").pvalue
                assert claims.chance_p(count, total, alpha) == pytest.approx(exact, rel=1e-9, abs=1e-300)
            # the smallest count that beats chance: the verdict switches exactly there
            edge = next(c for c in range(1, total + 1)
                        if sps.binomtest(c, total, alpha / 2, alternative="greater").pvalue < alpha)
            if edge < total:
                assert claims.verdict_of(edge, total, alpha=alpha) == "partly"
            assert claims.verdict_of(edge - 1, total, alpha=alpha) == "not reproduced"
    assert claims.chance_p(0, 10) == 1.0


def test_holm_and_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, then running maximum
    assert np.allclose(claims.adjust(p, "holm")[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(claims.adjust(p, "holm")[4])
    # BH by hand: sorted times m/rank = 0.02, 0.02, 0.04, 0.04, then running minimum from the top
    assert np.allclose(claims.adjust(p, "bh")[:4], [0.02, 0.04, 0.04, 0.02])
    with pytest.raises(ValueError, match="^method "):
        claims.adjust(p, "bonferroni")
    with pytest.raises(ValueError, match="p_values"):
        claims.adjust([0.5, 1.5])
    counted = claims.tally([0.3, -0.2, 0.1, 0.4], [0.001, 0.002, 0.5, 0.04], correction="holm")
    # Holm: 0.004, 0.006, 1.0, 0.08 → one for, one against
    assert (counted.supported, counted.contradicted, counted.total) == (1, 1, 4)
    uncorrected = claims.tally([0.3, -0.2, 0.1, 0.4], [0.001, 0.002, 0.5, 0.04], correction=None)
    assert (uncorrected.supported, uncorrected.contradicted) == (2, 1)


def test_bootstrap_interval_covers_the_mean_and_is_reproducible():
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1.0, size=40)
    estimate, low, high = claims.bootstrap_interval(x, seed=3)
    assert estimate == pytest.approx(x.mean()) and low < estimate < high
    assert (low, high) == claims.bootstrap_interval(x, seed=3)[1:]
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))  # the normal interval: the bootstrap is close to it
    assert abs((high - low) / 2 - half) < 0.25 * half
    assert claims.bootstrap_interval([0.5])[0] == 0.5 and math.isnan(claims.bootstrap_interval([0.5])[1])
    assert claims.bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    found = claims.evidence([0.2, 0.3, -0.1], [0.01, 0.02, 0.6], effect_name="drop")
    assert (found.supported, found.contradicted, found.total) == (2, 0, 3)
    assert found.effect == pytest.approx(0.4 / 3) and found.effect_name == "drop"


def test_record_decides_the_verdict_from_the_registry(tmp_path):
    spec = claims.REGISTRY["pca_resolves_states"]
    assert spec.reproduced_at == 0.9 and "reproduced when ≥ 90 %" in spec.primary_test
    claim = claims.record("pca_resolves_states", claims.Evidence(18, 20, 0, 0.8, 0.7, 0.9, "share"),
                          "18 of 20 resolved", directory=tmp_path)
    assert claim.verdict == "reproduced" and claim.chapter == "7" and claim.source == "hintze"
    claim = claims.record("pca_resolves_states", claims.Evidence(2, 20, 9), "2 of 20", directory=tmp_path)
    assert claim.verdict == "contradicted"
    claim = claims.record("pca_resolves_states", claims.Evidence(20, 20), "all", reachable=False,
                          directory=tmp_path)
    assert claim.verdict == claims.NO_VERDICT
    row = claims.load_claims(tmp_path).set_index("claim_id").loc["pca_resolves_states"]
    assert row.evidence["supported"] == 20 and row.test == spec.primary_test
    with pytest.raises(ValueError, match="claim_id"):
        claims.record("not_registered", claims.Evidence(1, 1), "x", directory=tmp_path)
    with pytest.raises(ValueError, match="evidence"):
        claims.record("pca_resolves_states", (1, 1), "x", directory=tmp_path)
    with pytest.raises(ValueError, match="supported"):
        claims.Evidence(5, 3)
    with pytest.raises(ValueError, match="supported \\+ contradicted"):
        claims.Evidence(2, 3, 2)


def test_registry_states_each_claims_test_and_covers_every_source():
    assert {s.source for s in claims.REGISTRY.values()} == set(claims.SOURCES)
    for claim_id, spec in claims.REGISTRY.items():
        for name in ("statement", "compares", "test", "family", "direction"):
            assert getattr(spec, name).strip(), (claim_id, name)
    with pytest.raises(ValueError, match="source"):
        claims.ClaimSpec("2", "nobody", "s", "c", "t", "f", "d")
    with pytest.raises(ValueError, match="correction"):
        claims.ClaimSpec("2", "irn", "s", "c", "t", "f", "d", correction="bonferroni")
    with pytest.raises(ValueError, match="chapter"):
        claims.ClaimSpec("0", "irn", "s", "c", "t", "f", "d")


@pytest.mark.parametrize("change, match", [
    ({"claim_id": "Bad Id"}, "claim_id"), ({"claim_id": "not_registered"}, "claim_id"),
    ({"evidence": (9, 9)}, "evidence"), ({"value_text": ""}, "value_text"), ({"stats": [1]}, "stats"),
    ({"stats": {"x": object()}}, "stats"), ({"reachable": "yes"}, "reachable"), ({"alpha": 2}, "alpha"),
])
def test_bad_input_raises_and_writes_nothing(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        claims.record(**{**CLAIM, **change}, directory=tmp_path)
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
    with pytest.raises(ValueError, match="contradicted"):
        claims.verdict_of(1, 2, contradicted=-1)
    with pytest.raises(ValueError, match="supported \\+ contradicted"):
        claims.verdict_of(2, 3, contradicted=2)
    with pytest.raises(ValueError, match="^alpha "):
        claims.verdict_of(1, 2, alpha=5)
    with pytest.raises(ValueError, match="^reachable "):
        claims.verdict_of(1, 2, reachable="yes")


def test_record_is_plain_json(tmp_path):
    claims.record(**CLAIM, directory=tmp_path)
    record = json.loads((tmp_path / f"{CLAIM['claim_id']}.json").read_text(encoding="utf-8"))
    assert set(record) == {"claim_id", "chapter", "statement", "value_text", "verdict", "stats",
                           "parameters", "recorded", "evidence", "source", "test"}


def test_summary_table_flags_fast_runs_and_lists_claims_not_run(tmp_path):
    claims.record(**CLAIM, parameters={"fast": True, "replicates": 4}, directory=tmp_path)
    claims.record("knockout_hits_own_concept", claims.Evidence(6, 6), "+0.15",
                  parameters={"fast": False, "replicates": 20}, directory=tmp_path)
    summary = claims.summary_table(claims.load_claims(tmp_path))
    assert list(summary.columns) == claims.SUMMARY_COLUMNS
    assert len(summary) == len(claims.REGISTRY)
    rows = dict(zip(claims.REGISTRY, summary.to_dict("records")))
    fast, full = rows[CLAIM["claim_id"]], rows["knockout_hits_own_concept"]
    assert fast["verdict"] == "reproduced (fast preset)" and fast["protocol"] == "fast preset, 4 replicates"
    assert full["verdict"] == "reproduced" and full["protocol"] == "full protocol, 20 replicates"
    assert full["this run"] == "+0.15" and full["chapter"] == "4"
    assert full["supported / contradicted / total"] == "6 / 0 / 6"
    claims.record("knockout_hits_own_concept", claims.Evidence(5, 6, 1, 0.12, 0.05, -0.02 + 0.22, "drop"),
                  "+0.12", parameters={"fast": False}, directory=tmp_path)
    again = dict(zip(claims.REGISTRY, claims.summary_table(claims.load_claims(tmp_path)).to_dict("records")))
    full = again["knockout_hits_own_concept"]
    assert full["supported / contradicted / total"] == "5 / 1 / 6" and full["verdict"] == "partly"
    assert full["effect [95 % CI]"] == "+0.12 [0.05, 0.2] (drop)"
    assert full["source"] == claims.SOURCES["hintze"] and full["test"].startswith("each replicate's accuracy drop")
    others = summary[~summary.claim.isin([claims.REGISTRY["knockout_hits_own_concept"].statement,
                                          claims.REGISTRY[CLAIM["claim_id"]].statement])]
    assert (others.verdict == claims.NOT_RUN).all() and (others.protocol == "—").all()
    with pytest.raises(ValueError, match="load_claims"):
        claims.summary_table(summary)


def test_registry_is_in_chapter_order_and_includes_smearing_and_random_delays():
    order = [(int(c.rstrip("abcdefghijklmnopqrstuvwxyz")), c) for c in (s.chapter for s in claims.REGISTRY.values())]
    assert order == sorted(order)
    assert claims.REGISTRY["nodes_relay_several_concepts"].chapter == "6"
    assert claims.REGISTRY["rnn_random_delay_localises"].chapter == "5"


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
        assert claims.can_reach(n) == (wilcoxon < params.ALPHA)
        assert claims.can_reach(n, paired=False) == (mannwhitney < params.ALPHA)
    assert not claims.can_reach(4) and claims.can_reach(20)
    assert claims.verdict_of(0, 3, reachable=False) == claims.NO_VERDICT
    with pytest.raises(ValueError, match="^n "):
        claims.can_reach(0)

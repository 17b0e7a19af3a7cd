"""Which panels the effect-vs-k figure draws: only those with data, the planted recall on a planted run."""
from __future__ import annotations

from rml_lama.evaluation.plots import _effect_panels, plot_effect_vs_k


def ci(mean, n):
    return {"mean": mean, "low": mean - 0.1, "high": mean + 0.1, "n": n}


def summary(holdout_n=0, planted=False):
    budgets = {k: {"oracle": {"suppress_own": ci(-2.0, 4), "holdout_suppress": ci(-0.5, holdout_n) if holdout_n
                                                                                else None},
                   "kn": {"suppress_own": ci(-1.0, 4)}} for k in ("1", "5")}
    result = {"budgets": budgets}
    if planted:
        result["planted"] = {"budgets": {k: {"localizers": {"kn": {"recall": ci(0.5, 3)},
                                                             "oracle": {"recall": ci(0.4, 3)}}} for k in ("1", "5")}}
    return result


def test_no_empty_held_out_language_panel_and_planted_recall_on_planted_runs(tmp_path):
    assert [title for title, _, _ in _effect_panels(summary())] == ["held-out rephrasings (per-language sets)"]
    assert [title for title, _, _ in _effect_panels(summary(holdout_n=4))][1] == "held-out languages (agnostic sets)"
    (_, _, _), (title, label, series) = _effect_panels(summary(planted=True))
    assert title == "planted neurons found (recall@k)" and series["5"]["kn"]["mean"] == 0.5
    plot_effect_vs_k(summary(planted=True), tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"

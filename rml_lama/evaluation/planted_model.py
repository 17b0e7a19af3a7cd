"""What a planted model holds, read from its truth.json for the evaluation report: the plants of each kind, how
clean planting left the model (leak on facts it held, silence of the new neurons) and how well each kind took
in each of its languages. The localizers' scores against the truth are in report.py's planted section."""
from __future__ import annotations

from typing import Optional


def planted_model_figures(truth: dict) -> dict:
    """Counts, cleanliness and per kind and language: plants, mean accuracy after planting, plants that took
    there (each plant's `took`, judged by the planting at its `take_accuracy`)."""
    plants = truth.get("plants", [])
    take = (truth.get("options") or {}).get("take_accuracy")
    kinds: dict[str, int] = {}
    accuracy: dict[str, dict[str, dict]] = {}
    langs: list[str] = []
    for plant in plants:
        kinds[plant["kind"]] = kinds.get(plant["kind"], 0) + 1
        for lang in plant["langs"]:
            effect = (plant.get("effect") or {}).get(lang)
            if effect is None:
                continue
            if lang not in langs:
                langs.append(lang)
            cell = accuracy.setdefault(plant["kind"], {}).setdefault(lang, {"plants": 0, "sum": 0.0, "took": 0})
            cell["plants"] += 1
            cell["sum"] += float(effect["accuracy_after"])
            cell["took"] += int(lang in plant.get("took", []))
    for cells in accuracy.values():
        for cell in cells.values():
            cell["mean"] = cell.pop("sum") / cell["plants"]
    order = list((truth.get("options") or {}).get("langs") or [])
    langs = [lang for lang in order if lang in langs] + [lang for lang in langs if lang not in order]
    return {"plants": len(plants), "complete": sum(bool(p.get("complete")) for p in plants), "kinds": kinds,
            "decoys": sum(len(p.get("decoys", [])) for p in plants), "take_accuracy": take,
            "base_d_ff": truth.get("base_d_ff"), "d_ff": truth.get("d_ff"), "langs": langs, "accuracy": accuracy,
            "unrelated": truth.get("unrelated"), "release_silence": truth.get("release_silence")}


def _share(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _cleanliness(figures: dict) -> str:
    unrelated = figures.get("unrelated") or {}
    text = ""
    if unrelated.get("queries"):
        text += (f" Leak: {_share(unrelated.get('changed_predictions'))} of the greedy predictions on "
                 f"{unrelated['queries']:,} held-out queries of facts the model holds changed (top candidate: "
                 f"{_share(unrelated.get('changed_top_candidate'))}); the planted and decoy neurons are exactly 0 at "
                 f"the answer positions of {_share(unrelated.get('silent_queries'))} of them")
    silence = figures.get("release_silence") or {}
    if silence.get("queries"):
        text += (f"{' and' if text else ' The planted and decoy neurons are exactly 0 on'} "
                 f"{_share(silence.get('silent_queries'))} of {silence['queries']:,} other release queries "
                 f"(outside each plant's own fact and languages)")
    return text + "." if text else ""


def planted_model_section(figures: Optional[dict], truth_path: Optional[str]) -> str:
    """Markdown: what was planted and how clean it is, then mean accuracy after planting per kind and language
    with how many plants took there (accuracy >= take_accuracy)."""
    if figures is None:
        return (f"## The planted model\n\nIts truth ({truth_path}) could not be read when this report was written, "
                f"so what was planted is not shown.\n")
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(figures["kinds"].items(), key=lambda item: -item[1]))
    take = "" if figures["take_accuracy"] is None else f" at accuracy >= {figures['take_accuracy']:g}"
    head = (f"{figures['plants']} plants ({kinds}) and {figures['decoys']} decoys, all in new FFN neurons (d_ff "
            f"{figures['base_d_ff']} -> {figures['d_ff']}); {figures['complete']} of {figures['plants']} take{take} "
            f"in every language they were planted in." + _cleanliness(figures))
    langs = figures["langs"]
    lines = ["| kind | plants | " + " | ".join(langs) + " |", "|---" * (len(langs) + 2) + "|"]
    for kind in sorted(figures["accuracy"], key=lambda k: -figures["kinds"].get(k, 0)):
        cells = figures["accuracy"][kind]
        row = [f"{cells[lang]['mean']:.2f} ({cells[lang]['took']}/{cells[lang]['plants']})" if lang in cells else "-"
               for lang in langs]
        lines.append(f"| {kind} | {figures['kinds'].get(kind, 0)} | " + " | ".join(row) + " |")
    return "\n".join([
        "## The planted model",
        "",
        head,
        "",
        f"Mean accuracy after planting (share of the fact's queries whose object ranks first among the relation's "
        f"candidates) per kind and language, over the plants written in that language, with (plants that took "
        f"there{take} / plants):",
        "",
        *lines,
        "",
    ])

#!/usr/bin/env python
"""Print the recipe comparison (scripts/compare_recipes.py output, or docs/results/recipes_c44ee7ab.json) as
markdown: seen / held-out templates / held-out languages p@1, per language, with chance and 95% intervals.
Given one model's training_report.json, print that model's table per language and script group instead."""
from __future__ import annotations

import json
import sys

LANGS = ("en", "fr", "fi", "hu", "ja", "ko", "zh")
GROUPS = LANGS + ("Latin", "CJK", "all")


def _cell(triple) -> str:
    p, low, high = triple
    return f"{p:.3f} [{low:.2f}, {high:.2f}]"


def model_rows(report: dict) -> list[str]:
    """One trained model: p@1 on seen templates, held-out templates and held-out languages, with chance, the
    majority prior and n, per language and script group (95% bootstrap intervals over facts)."""
    t = report["figures"]["transfer"]
    held = t["heldout_langs"]
    out = ["| | " + " | ".join(GROUPS) + " |", "|---" * (1 + len(GROUPS)) + "|"]
    out.append("| seen templates p@1 | " + " | ".join(_cell(t["seen"][g]["p_at_1"]) for g in GROUPS) + " |")
    out.append("| held-out templates p@1 | " + " | ".join(_cell(t["heldout"][g]["p_at_1"]) for g in GROUPS) + " |")
    out.append("| **held-out languages p@1** | " + " | ".join(_cell(held[g]["p_at_1"]) for g in GROUPS) + " |")
    out.append("| held-out languages: chance | " + " | ".join(_cell(held[g]["chance"]) for g in GROUPS) + " |")
    out.append("| held-out languages: majority prior | " + " | ".join(_cell(held[g]["prior"]) for g in GROUPS) + " |")
    out.append("| held-out-language queries (facts) | "
               + " | ".join(f"{held[g]['queries']} ({held[g]['facts']})" for g in GROUPS) + " |")
    return out


def rows(reports: dict) -> list[str]:
    out = ["| recipe | seen | held-out templates | held-out languages [95%] | chance | "
           + " | ".join(LANGS) + " | Latin | CJK |", "|---" * (7 + len(LANGS)) + "|"]
    for name, report in reports.items():
        if "error" in report:
            out.append(f"| {name} | failed |")
            continue
        t = report["figures"]["transfer"]
        held = t["heldout_langs"]
        p, lo, hi = held["all"]["p_at_1"]
        out.append(f"| {name} | {t['seen']['all']['p_at_1'][0]:.3f} | {t['heldout']['all']['p_at_1'][0]:.3f} | "
                   f"**{p:.3f}** [{lo:.2f}, {hi:.2f}] | {held['all']['chance'][0]:.3f} | "
                   + " | ".join(f"{held[lang]['p_at_1'][0]:.2f}" for lang in LANGS)
                   + f" | {held['Latin']['p_at_1'][0]:.2f} | {held['CJK']['p_at_1'][0]:.2f} |")
    return out


if __name__ == "__main__":
    data = json.load(open(sys.argv[1], encoding="utf-8"))
    print("\n".join(model_rows(data) if "figures" in data else rows(data.get("recipes", data))))

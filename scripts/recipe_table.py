#!/usr/bin/env python
"""Print the recipe comparison (scripts/compare_recipes.py output, or the `recipes` of a training report) as
markdown: seen / held-out templates / held-out languages p@1, per language, with chance and 95% intervals."""
from __future__ import annotations

import json
import sys

LANGS = ("en", "fr", "fi", "hu", "ja", "ko", "zh")


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
    print("\n".join(rows(data.get("recipes", data))))

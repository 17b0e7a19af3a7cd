"""Near-duplicate rephrasings: two queries of one (fact, language) that differ only in case, spacing,
punctuation, symbols or Unicode form are one rephrasing, not two."""
from __future__ import annotations

import pandas as pd

from ..schema import F
from ..text import letters_keys
from .registry import CheckContext, Finding, register


@register("near-duplicates", "error", "no two queries of a (fact, language) are equal after normalisation")
def check_near_duplicates(ctx: CheckContext) -> Finding:
    keys = pd.DataFrame({F.FACT_ID: ctx.column(F.FACT_ID), F.LANG: ctx.column(F.LANG),
                         "key": letters_keys(ctx.normalized(F.QUERY))}, index=ctx.frame.index)
    return Finding(bad=keys.duplicated(keep="first"))

"""Near-duplicate rephrasings: two queries of one (fact, language) that differ only in case, spacing,
punctuation or Unicode form are one rephrasing, not two."""
from __future__ import annotations

import pandas as pd

from ..schema import F
from .registry import CheckContext, Finding, register
from .text import letters_key


@register("near-duplicates", "error", "no two queries of a (fact, language) are equal after normalisation")
def check_near_duplicates(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    keys = pd.DataFrame({
        F.FACT_ID: frame[F.FACT_ID], F.LANG: frame[F.LANG], "key": [letters_key(q) for q in frame[F.QUERY]],
    }, index=frame.index)
    return Finding(bad=keys.duplicated(keep="first"))

"""Label consistency: an entity has one label per language, whichever fact it appears in."""
from __future__ import annotations

import pandas as pd

from ..schema import F
from .registry import CheckContext, Finding, register


def inconsistent_rows(frame: pd.DataFrame, uri: str, label: str) -> pd.Series:
    labels = frame.groupby([uri, F.LANG])[label].transform("nunique")
    return labels > 1


@register("object-label-consistency", "error", "one object label per (obj_uri, language)")
def check_object_labels(ctx: CheckContext) -> Finding:
    return Finding(bad=inconsistent_rows(ctx.frame, F.OBJ_URI, F.OBJ_LABEL))


@register("subject-label-consistency", "error", "one subject label per (sub_uri, language)")
def check_subject_labels(ctx: CheckContext) -> Finding:
    return Finding(bad=inconsistent_rows(ctx.frame, F.SUB_URI, F.SUB_LABEL))

"""Validation of RML-LAMA releases and of proposed new languages.

`CHECKS` maps a check's name to its `Check` (severity "error" or "warning", one-line description, function);
each family of checks lives in its own module and registers itself on import (registration order is report
order). `rml_lama.checks.runner` runs them and writes the reports."""
from __future__ import annotations

# the import order of the families is the checks' report order
from . import (  # noqa: F401
    structure, card, slots, language_id, duplicates, consistency, language_rules, text_quality, coverage, tokens,
)
from .registry import CHECKS, Check, CheckContext, CheckResult, Finding, register

__all__ = ["CHECKS", "Check", "CheckContext", "CheckResult", "Finding", "register"]

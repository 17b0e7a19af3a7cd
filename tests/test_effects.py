"""Batched interventions: each row's value equals scale_neurons around a forward of that query alone."""
from __future__ import annotations

import numpy as np
import pytest

from rml_lama.evaluation.effects import InterventionScorer
from rml_lama.models import scale_neurons
from rml_lama.probing.ranking import gold_token_log_probs as token_log_probs
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import tiny_bundle

PROBES = [Probe("The capital of France is [MASK]", "Paris"), Probe("La capitale de l'Italie est [MASK]", "Rome"),
          Probe("Magyarország fővárosa [MASK]", "Budapest")]


@pytest.mark.parametrize("family", ["xlm-roberta", "gpt2"])
def test_rows_with_different_sets_equal_one_intervention_at_a_time(family):
    bundle = tiny_bundle(family, layers=3, hidden=32, d_ff=48)
    encoded = encode_probes(bundle, PROBES)
    scorer = InterventionScorer(bundle, encoded, batch_size=4)
    sets = [([], 1.0), ([(0, 3), (2, 7)], 0.0), ([(1, 5)], 2.0), ([(0, 3), (1, 1), (2, 40)], 0.0)]
    for neurons, factor in sets:
        scorer.request(range(3), neurons, factor)
    scorer.run()
    for neurons, factor in sets:
        by_layer = {}
        for layer, index in neurons:
            by_layer.setdefault(layer, []).append(index)
        for q, item in enumerate(encoded):
            if by_layer:
                with scale_neurons(bundle, by_layer, factor):
                    expected = float(np.mean(token_log_probs(bundle, [item])[0]))
            else:
                expected = float(np.mean(token_log_probs(bundle, [item])[0]))
            assert scorer.values([q], neurons, factor)[0] == pytest.approx(expected, abs=1e-5)

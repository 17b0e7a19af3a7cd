"""A tiny BERT whose answer to one fact hangs on one neuron set by hand (see tests/test_evaluate.py), and the
tiny release it is evaluated on."""
from __future__ import annotations

import functools

import torch

from rml_lama.probing.targets import Probe, encode_probes, pad_batch
from rml_lama.schema import MASK, QueryRecord, make_fact_id, template_id
from rml_lama.testbeds.tiny import UNENCODABLE, tiny_bundle

LANGS = ("en", "fr", "fi")
FACTS = [  # relation, sub_uri, obj_uri, {lang: (subject, object)}
    ("P36", "Q142", "Q90", {"en": ("France", "Paris"), "fr": ("France", "Paris"), "fi": ("Ranska", "Pariisi")}),
    ("P36", "Q17", "Q1490", {"en": ("Japan", "Tokyo"), "fr": ("Japon", "Tokyo"), "fi": ("Japani", "Tokio")}),
    ("P36", "Q38", "Q220", {"en": ("Italy", "Rome"), "fr": ("Italie", "Rome"), "fi": ("Italia", "Rooma")}),
    # the tiny tokenizer cannot encode this fact's Finnish answer: the run must leave the fact out, not fail
    ("P36", "Q183", "Q64", {"en": ("Germany", "Berlin"), "fr": ("Allemagne", "Berlin"), "fi": ("Saksa", UNENCODABLE)}),
]
TEMPLATES = {
    "en": ["The capital of [X] is [Y].", "[X]'s capital is [Y].", "[Y] is the capital of [X]."],
    "fr": ["La capitale de [X] est [Y].", "[X] a pour capitale [Y].", "[Y] est la capitale de [X]."],
    "fi": ["[X]n pääkaupunki on [Y].", "[Y] on [X]n pääkaupunki."],
}
TARGET = make_fact_id("P36", "Q142", "Q90")
PLANT_LAYER, PLANT_INDEX = 1, 7
ALL_LOCALIZERS = ("matrice", "matrice-no-query-unc", "matrice-no-lang-unc", "amig", "kn", "random")


def records(langs=LANGS) -> list[QueryRecord]:
    out = []
    for rel, sub_uri, obj_uri, labels in FACTS:
        for lang in langs:
            subject, obj = labels[lang]
            for template in TEMPLATES[lang]:
                out.append(QueryRecord(
                    fact_id=make_fact_id(rel, sub_uri, obj_uri), relation=rel, lang=lang, sub_uri=sub_uri,
                    obj_uri=obj_uri, sub_label=subject, obj_label=obj, template_id=template_id(rel, lang, template),
                    template=template, query=template.replace("[X]", subject).replace("[Y]", MASK),
                    object_final=template.endswith("[Y]."), source="curated",
                ))
    return out


def probes_for(fact_filter) -> list[Probe]:
    return [Probe(r.query, r.obj_label) for r in records() if fact_filter(r.fact_id) and r.obj_label != UNENCODABLE]


def _ffn_inputs_at_targets(bundle, probes, layer) -> torch.Tensor:
    """Inputs of layer `layer`'s FFN (the intermediate dense) at the answer positions of the probes."""
    captured = []
    module = bundle.model.bert.encoder.layer[layer].intermediate.dense
    handle = module.register_forward_pre_hook(lambda m, args: captured.append(args[0].detach()))
    try:
        ids, attention, targets = pad_batch(bundle, encode_probes(bundle, probes))
        with torch.no_grad():
            bundle.model(input_ids=ids, attention_mask=attention)
    finally:
        handle.remove()
    return captured[0][targets]


def _separating_direction(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """A unit direction on which every positive row scores above every negative one (logistic regression)."""
    torch.manual_seed(0)
    x = torch.cat([positive, negative])
    y = torch.cat([torch.ones(len(positive)), torch.zeros(len(negative))])
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.Adam([w, b], lr=0.1)
    for _ in range(400):
        optimiser.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y).backward()
        optimiser.step()
    return (w / w.norm()).detach()


def plant_neuron(bundle, target: list[Probe], others: list[Probe], layer: int, index: int) -> None:
    """Make neuron (layer, index) fire on the target probes only and push their gold answers."""
    model = bundle.model
    x_target = _ffn_inputs_at_targets(bundle, target, layer)
    x_other = _ffn_inputs_at_targets(bundle, others, layer)
    direction = _separating_direction(x_target, x_other)
    pre_target, pre_other = x_target @ direction, x_other @ direction
    assert pre_target.min() > pre_other.max(), "the target's FFN inputs must be separable for this test model"
    scale = 4.0 / float(pre_target.min() - pre_other.max())
    dense = model.bert.encoder.layer[layer].intermediate.dense
    with torch.no_grad():
        dense.weight[index] = scale * direction
        dense.bias[index] = -scale * float(pre_target.min() + pre_other.max()) / 2
    projection = bundle.adapter.ffn_out_projections(model)[layer]
    encoded = encode_probes(bundle, target)
    ids, attention, _ = pad_batch(bundle, encoded)
    rows = torch.tensor([row for row, item in enumerate(encoded) for _ in item.answer_ids])
    positions = torch.tensor([pos for item in encoded for pos in item.target_positions])
    gold = torch.tensor([token for item in encoded for token in item.answer_ids])
    weight = projection.weight.detach().clone()
    only_plant = torch.zeros_like(weight)
    only_plant[:, index] = 1.0
    column = torch.zeros(weight.shape[0], requires_grad=True)
    optimiser = torch.optim.Adam([column], lr=0.1)
    name = f"bert.encoder.layer.{layer}.output.dense.weight"
    for _ in range(60):  # optimise only the planted neuron's output column toward the gold answer tokens
        optimiser.zero_grad()
        new_weight = weight * (1 - only_plant) + only_plant * column[:, None]
        logits = torch.func.functional_call(model, {name: new_weight}, (),
                                            {"input_ids": ids, "attention_mask": attention}).logits
        loss = -torch.log_softmax(logits[rows, positions], dim=-1)[torch.arange(len(gold)), gold].mean()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        projection.weight.copy_(weight * (1 - only_plant) + only_plant * column.detach()[:, None])


def _silenced_bundle():
    """The tiny BERT with every FFN output column zeroed: no neuron carries anything until one is planted."""
    bundle = tiny_bundle("bert", layers=2, hidden=32, d_ff=48, seed=0)
    with torch.no_grad():
        for projection in bundle.adapter.ffn_out_projections(bundle.model):
            projection.weight.zero_()
    return bundle


@functools.cache
def planted_bundle():
    """One agnostic plant: (PLANT_LAYER, PLANT_INDEX) fires on the target fact's queries in every language."""
    bundle = _silenced_bundle()
    plant_neuron(bundle, probes_for(lambda f: f == TARGET), probes_for(lambda f: f != TARGET), PLANT_LAYER, PLANT_INDEX)
    return bundle


SPECIFIC_INDEX = 20


@functools.cache
def two_plant_bundle():
    """The agnostic plant plus a specific one: (PLANT_LAYER, SPECIFIC_INDEX) fires on the English queries only."""
    bundle = _silenced_bundle()
    plant_neuron(bundle, probes_for(lambda f: f == TARGET), probes_for(lambda f: f != TARGET), PLANT_LAYER, PLANT_INDEX)
    english = {r.query for r in records() if r.fact_id == TARGET and r.lang == "en"}
    everything = probes_for(lambda f: True)
    plant_neuron(bundle, [p for p in everything if p.query in english], [p for p in everything if p.query not in english],
                 PLANT_LAYER, SPECIFIC_INDEX)
    return bundle


DECOY_INDEX = PLANT_INDEX + 1  # after the plant: an exact tie in activation goes to the plant at k = 1


@functools.cache
def decoy_bundle():
    """The agnostic plant plus a decoy: (PLANT_LAYER, DECOY_INDEX) gets the plant's input row, so it fires exactly as
    strongly on the target's queries, but its output column stays zero: it writes nothing."""
    bundle = _silenced_bundle()
    plant_neuron(bundle, probes_for(lambda f: f == TARGET), probes_for(lambda f: f != TARGET), PLANT_LAYER, PLANT_INDEX)
    dense = bundle.model.bert.encoder.layer[PLANT_LAYER].intermediate.dense
    with torch.no_grad():
        dense.weight[DECOY_INDEX] = dense.weight[PLANT_INDEX]
        dense.bias[DECOY_INDEX] = dense.bias[PLANT_INDEX]
    return bundle

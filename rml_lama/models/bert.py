"""BERT-style encoders (masked LMs): BERT, RoBERTa, XLM-R. Post-LN blocks, no final norm."""
from __future__ import annotations

from .base import Adapter

ADAPTERS = [
    Adapter(
        name="bert",
        model_types=("bert",),
        description="BERT masked LM: neuron = input of layer[i].output.dense",
        kind="masked",
        blocks_path="encoder.layer",
        out_proj_path="output.dense",
        head_path="cls",
    ),
    Adapter(
        name="roberta",
        model_types=("roberta", "xlm-roberta", "camembert"),
        description="RoBERTa / XLM-R / CamemBERT masked LM: neuron = input of layer[i].output.dense",
        kind="masked",
        blocks_path="encoder.layer",
        out_proj_path="output.dense",
        head_path="lm_head",
    ),
]

"""BERT-style encoders (masked LMs): BERT, RoBERTa, XLM-R. Post-LN blocks, no final norm."""
from __future__ import annotations

from .base import Adapter


def _ffn_at_targets(block, positions) -> list:
    """BertLayer's FFN is intermediate(a) -> output(., a) with a the attention output: keep position
    positions[r] of row r in both inputs, so the FFN (2/3 of the block's weights) runs on one position."""
    import torch

    rows = torch.arange(len(positions), device=positions.device)

    def pick(x):
        return x[rows, positions].unsqueeze(1)

    return [
        block.intermediate.register_forward_pre_hook(lambda module, args: (pick(args[0]),) + tuple(args[1:])),
        block.output.register_forward_pre_hook(lambda module, args: (args[0], pick(args[1])) + tuple(args[2:])),
    ]

ADAPTERS = [
    Adapter(
        name="bert",
        model_types=("bert",),
        description="BERT masked LM: neuron = input of layer[i].output.dense",
        kind="masked",
        blocks_path="encoder.layer",
        out_proj_path="output.dense",
        in_proj_paths=("intermediate.dense",),
        head_path="cls",
        ffn_at_targets=_ffn_at_targets,
    ),
    Adapter(
        name="roberta",
        model_types=("roberta", "xlm-roberta", "camembert"),
        description="RoBERTa / XLM-R / CamemBERT masked LM: neuron = input of layer[i].output.dense",
        kind="masked",
        blocks_path="encoder.layer",
        out_proj_path="output.dense",
        in_proj_paths=("intermediate.dense",),
        head_path="lm_head",
        ffn_at_targets=_ffn_at_targets,
    ),
]

"""How to write a counterfactual into chosen neurons: the registry of editors ("which neurons" is another choice).

Every editor maps (model, neurons, an `EditTask`) to new value vectors for those neurons
({layer: (indices, rows [k, hidden])}); `weights.replaced_value_vectors` applies them and always undoes them.

- `dai` (Dai et al., ACL 2022, their `6_edit_knowledge_sampled.py`): for each neuron with value vector v,
  v <- v - lambda1 E(old) + lambda2 E(new), lambda1 = |v| / |E(old)| * a, lambda2 = |v| / |E(new)| * b
  (a = 1, b = 8 by their README). E(.) is the model's OUTPUT embedding (the LM head's decoder rows; not the
  input embedding, which differs in untied models); for an answer of several tokens, the mean of its tokens'
  rows (Dai et al. edit single-token objects only).
- `adam`: the same neurons' value vectors (only those) optimised with Adam for `steps` steps on the edit
  prompts, loss = mean cross-entropy of the new object's tokens at their answer positions (teacher-forced for
  causal LMs, one mask per token for masked LMs, as the project encodes probes), starting from the current
  vectors.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import RmlLamaError
from ..models import target_positions
from ..probing.targets import encode_probes, pad_batch
from .weights import Neuron, by_layer, output_embeddings, value_vectors


@dataclass(frozen=True)
class EditTask:
    """What one edit must achieve: old and new object token ids (in the source language) and the edit prompts
    (probes whose answer is the NEW object)."""

    old_ids: tuple[int, ...]
    new_ids: tuple[int, ...]
    prompts: tuple[Any, ...]  # probing Probe(query, new label)


NewRows = dict[int, tuple[list[int], "torch.Tensor"]]


@dataclass
class DaiEditor:
    """Dai et al.'s update of the value vectors toward the new object's output embedding."""

    a: float = 1.0
    b: float = 8.0
    name: str = "dai"

    def new_rows(self, bundle, neurons: Sequence[Neuron], task: EditTask) -> NewRows:
        embeddings = output_embeddings(bundle)
        old = embeddings[list(task.old_ids)].float().mean(0)
        new = embeddings[list(task.new_ids)].float().mean(0)
        rows: NewRows = {}
        for layer, indices in by_layer(neurons).items():
            values = value_vectors(bundle, layer)[indices].float()
            norms = values.norm(dim=1, keepdim=True)
            lambda1 = norms / old.norm().clamp_min(1e-12) * self.a
            lambda2 = norms / new.norm().clamp_min(1e-12) * self.b
            rows[layer] = (indices, values - lambda1 * old + lambda2 * new)
        return rows

    def params(self) -> dict:
        return {"a": self.a, "b": self.b}


@dataclass
class AdamEditor:
    """Optimise only the chosen neurons' value vectors on the edit prompts."""

    steps: int = 50
    lr: float = 0.1
    name: str = "adam"

    def new_rows(self, bundle, neurons: Sequence[Neuron], task: EditTask) -> NewRows:
        grouped = by_layer(neurons)
        if not grouped or not task.prompts:
            return {}
        encoded = encode_probes(bundle, list(task.prompts))
        ids, attention, targets = pad_batch(bundle, encoded)
        # logits[targets] lists each row's answer positions in ascending order: order the gold tokens alike
        gold = torch.tensor([item.answer_ids[t] for item in encoded
                             for t in sorted(range(len(item.answer_ids)), key=lambda t: item.target_positions[t])],
                            device=bundle.device)
        projections = bundle.adapter.ffn_out_projections(bundle.model)
        originals = {layer: value_vectors(bundle, layer)[idx].clone() for layer, idx in grouped.items()}
        deltas = {layer: torch.zeros_like(rows, dtype=torch.float32, requires_grad=True)
                  for layer, rows in originals.items()}

        def make_hook(layer: int, idx: list[int]):
            index = torch.as_tensor(idx, dtype=torch.long, device=bundle.device)

            def hook(module, args, output):  # output += a_idx @ delta (the weight itself stays untouched)
                return output + args[0][..., index] @ deltas[layer].to(output.dtype)

            return hook

        flags = [p.requires_grad for p in bundle.model.parameters()]
        for p in bundle.model.parameters():
            p.requires_grad_(False)
        handles = [projections[layer].register_forward_hook(make_hook(layer, idx)) for layer, idx in grouped.items()]
        optimiser = torch.optim.Adam(list(deltas.values()), lr=self.lr)
        try:
            with torch.enable_grad(), target_positions(targets):
                for _ in range(self.steps):
                    logits = bundle.model(input_ids=ids, attention_mask=attention).logits[targets]
                    loss = torch.nn.functional.cross_entropy(logits.float(), gold)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
        finally:
            for handle in handles:
                handle.remove()
            for p, flag in zip(bundle.model.parameters(), flags):
                p.requires_grad_(flag)
        return {layer: (grouped[layer], (originals[layer].float() + deltas[layer].detach())) for layer in grouped}

    def params(self) -> dict:
        return {"steps": self.steps, "lr": self.lr}


@dataclass(frozen=True)
class EditorEntry:
    name: str
    description: str
    factory: Any
    option_names: tuple[str, ...] = field(default=())


EDITORS: dict[str, EditorEntry] = {
    "dai": EditorEntry("dai", "Dai et al.: v - |v|/|E(old)| a E(old) + |v|/|E(new)| b E(new), output embeddings",
                       DaiEditor, ("a", "b")),
    "adam": EditorEntry("adam", "Adam on the chosen value vectors only, on the edit prompts", AdamEditor,
                        ("steps", "lr")),
}


def make_editor(name: str, **params):
    try:
        entry = EDITORS[name]
    except KeyError:
        raise RmlLamaError(f"unknown editor {name!r}; known: {', '.join(EDITORS)}") from None
    return entry.factory(**{k: v for k, v in params.items() if k in entry.option_names and v is not None})

"""In-memory weight edits of the neurons' value vectors, always undone, and the bit-for-bit check of that.

A neuron's *value vector* is what it writes into the residual stream: its slot of the FFN output projection
(column i of an `nn.Linear(d_ff, hidden)` weight, row i of GPT-2's `Conv1D` weight, which is stored [in, out]).
`value_vectors(bundle, layer)` is a [d_ff, hidden] view of that weight for either storage, so writing a row of
the view writes the model's weight.

Edits never touch the files a model was loaded from: they act on the loaded (in-memory) model and the
context managers here restore the exact original values (copies, not arithmetic undo), also on exceptions.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch

from ..errors import RmlLamaError

Neuron = tuple[int, int]


def by_layer(neurons: Sequence[Neuron]) -> dict[int, list[int]]:
    """{layer: sorted indices} of a neuron list (duplicates dropped)."""
    grouped: dict[int, list[int]] = {}
    for layer, index in sorted(set((int(a), int(b)) for a, b in neurons)):
        grouped.setdefault(layer, []).append(index)
    return grouped


def neuron_rows(tensor, d_ff: int, what: str = "weight"):
    """`tensor` (a [d_ff, hidden] or [hidden, d_ff] weight, or a [d_ff] bias) viewed with one row per neuron."""
    if tensor.dim() == 1 and tensor.shape[0] == d_ff:
        return tensor.unsqueeze(1)
    if tensor.dim() == 2 and tensor.shape[0] == d_ff and tensor.shape[1] != d_ff:
        return tensor
    if tensor.dim() == 2 and tensor.shape[1] == d_ff:
        return tensor.T
    raise RmlLamaError(f"cannot tell the neurons of {what} {tuple(tensor.shape)} (d_ff {d_ff})")


def value_vectors(bundle, layer: int) -> torch.Tensor:
    """The [d_ff, hidden] view of layer `layer`'s FFN output projection weight: row i is neuron i's value vector
    (nn.Linear stores [hidden, d_ff], GPT-2's Conv1D [d_ff, hidden])."""
    weight = bundle.adapter.ffn_out_projections(bundle.model)[layer].weight.data
    return neuron_rows(weight, bundle.d_ff, f"the FFN output weight of layer {layer}")


def check_neurons(bundle, neurons: Sequence[Neuron]) -> None:
    for layer, index in neurons:
        if not 0 <= int(layer) < bundle.n_layers or not 0 <= int(index) < bundle.d_ff:
            raise RmlLamaError(f"neuron ({layer}, {index}) is outside the model's {bundle.n_layers} layers x "
                               f"{bundle.d_ff} neurons")


@contextmanager
def replaced_value_vectors(bundle, new_rows: Mapping[int, tuple[Sequence[int], torch.Tensor]]) -> Iterator[None]:
    """Inside the block, neuron `idx[j]` of layer L writes `rows[j]` (new_rows: {L: (idx, rows [k, hidden])});
    the original vectors are copied back exactly on exit."""
    saved = []
    try:
        with torch.no_grad():
            for layer, (indices, rows) in new_rows.items():
                view = value_vectors(bundle, layer)
                index = torch.as_tensor(list(indices), dtype=torch.long, device=view.device)
                saved.append((view, index, view[index].clone()))
                view[index] = rows.to(view)
        yield
    finally:
        with torch.no_grad():
            for view, index, original in reversed(saved):
                view[index] = original


@contextmanager
def scaled_value_vectors(bundle, neurons: Sequence[Neuron], factor: float) -> Iterator[None]:
    """Inside the block, the neurons' value vectors are multiplied by `factor` (at every position)."""
    rows = {}
    for layer, indices in by_layer(neurons).items():
        view = value_vectors(bundle, layer)
        rows[layer] = (indices, view[indices].clone() * factor)
    with replaced_value_vectors(bundle, rows):
        yield


def snapshot(model) -> dict[str, torch.Tensor]:
    """A copy of every parameter and buffer, to prove later that nothing changed."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict(keep_vars=False).items()}


def tensor_bits(tensor: torch.Tensor) -> torch.Tensor:
    flat = tensor.detach().contiguous().reshape(-1)
    return flat if flat.dtype == torch.bool else flat.view(torch.uint8)


def changed_tensors(model, before: Mapping[str, torch.Tensor]) -> list[str]:
    """Names of the parameters / buffers whose bytes differ from `before` (so -0.0 vs 0.0 and NaNs count too)."""
    changed = []
    for name, tensor in model.state_dict().items():
        old = before.get(name)
        if old is None or old.shape != tensor.shape or old.dtype != tensor.dtype \
                or not torch.equal(tensor_bits(old), tensor_bits(tensor)):
            changed.append(name)
    return changed


def output_embeddings(bundle) -> torch.Tensor:
    """The model's OUTPUT embedding matrix [vocab, hidden] (the LM head's decoder: differs from the input one
    in untied models)."""
    head = bundle.model.get_output_embeddings()
    if head is None or getattr(head, "weight", None) is None:
        raise RmlLamaError(f"{type(bundle.model).__name__} has no output embedding matrix")
    return head.weight.data

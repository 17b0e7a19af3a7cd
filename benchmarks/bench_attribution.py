#!/usr/bin/env python
"""Queries per second of the attribution engine against the plain per-layer loop and Captum, in one process.

    python benchmarks/bench_attribution.py [--queries 3] [--steps 20] [--models bert-base,smollm2-135m]
                                           [--layer-stride 1] [--threads 2] [--memory-cap-mb 1024]
                                           [--tokenizer DIR --release-sample N]

Random-weight models of real shapes (BERT-base: 12 layers, 768/3072, vocab 30522; SmolLM2-135M: 30 layers,
576/1536, 9 heads, 3 KV heads, vocab 49152), CPU, the same probes, steps, layers and zero baseline for every
implementation, run alternately query by query after one untimed warm-up call each (the machine is shared: read the ratios,
not the times).
  engine  rml_lama.probing.attribution.attribute (prefix-cached restarts, head at the target, causal suffix rows)
  plain   per layer, the m steps as one batch through the whole model, head at every position (Dai et al./
          EleutherAI style; its scores are checked against the engine's)
  captum  captum LayerIntegratedGradients on the layer's neuron vector at the target (riemann_left), the m
          steps as one batch, the whole model per step
Probes: five hand-written parallel queries with the tiny test tokenizer (default), or, with --release-sample N,
N object-final test queries per core language drawn (seeded) from the shipped release and tokenized by a local
tokenizer folder (--tokenizer; e.g. SmolLM2's, cached by rml_lama.testbeds.pretrained): real queries at real lengths.
Causal speed-ups grow with the query length, so the report gives each query's length and ratio.
Also: matmul FLOPs per query (torch FlopCounterMode, forward + gradient) against the prefix-cached lower
bound (each row runs only the blocks from its layer up, only the positions that can change, head at one
position), and the engine's peak memory (resident-set high-water mark over the run) against the cap.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from rml_lama.models import bundle_from
from rml_lama.probing.attribution import attribute, path_points
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import tiny_tokenizer

PROBES = [  # parallel queries; with the tiny tokenizer a causal prompt is 9-20 tokens (printed in the report)
    Probe("Ranskan pääkaupunki on [MASK].", "Pariisi"),
    Probe("フランスの首都は[MASK]です。", "パリ"),
    Probe("The capital of Italy is [MASK].", "Rome"),
    Probe("Franciaország fővárosa [MASK].", "Párizs"),
    Probe("프랑스의 수도는 [MASK]이다.", "파리"),
]


def release_probes(bundle, per_language: int, seed: int = 0) -> list[Probe]:
    """`per_language` object-final test queries of each core language from the shipped release (seeded; queries
    the engine would refuse, such as answers over max_answer_tokens, are passed over as `evaluate` does)."""
    from rml_lama.dataset.release import read_release
    from rml_lama.errors import RmlLamaError
    from rml_lama.schema import CORE_LANGUAGES

    frame = read_release(langs=CORE_LANGUAGES, split="test")
    frame = frame[frame["object_final"]]
    probes = []
    for lang in CORE_LANGUAGES:
        shuffled = frame[frame["lang"] == lang].sample(frac=1.0, random_state=seed)
        taken = []
        for query, answer in zip(shuffled["query"], shuffled["obj_label"]):
            try:
                encode_probes(bundle, [Probe(query, answer)])
            except RmlLamaError:
                continue
            taken.append(Probe(query, answer))
            if len(taken) == per_language:
                break
        probes += taken
    return probes


def load_tokenizer(folder: str | None, vocab_size: int):
    if folder is None:
        return tiny_tokenizer()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if len(tokenizer) > vocab_size:
        raise SystemExit(f"{folder}: {len(tokenizer)} tokens do not fit the model's vocabulary of {vocab_size}")
    return tokenizer


def build_model(name: str):
    import transformers as tf

    torch.manual_seed(0)
    if name == "bert-base":
        config = tf.BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                               intermediate_size=3072)
        return tf.BertForMaskedLM(config).eval()
    if name == "smollm2-135m":
        config = tf.LlamaConfig(vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                                num_key_value_heads=3, intermediate_size=1536, max_position_embeddings=2048,
                                tie_word_embeddings=True)
        return tf.LlamaForCausalLM(config).eval()
    raise SystemExit(f"unknown model {name!r}; choose bert-base or smollm2-135m")


# ------------------------------------------------------------------------------------ implementations
def _natural(bundle, ids, positions):
    acts = {}
    projections = bundle.adapter.ffn_out_projections(bundle.model)
    handles = [p.register_forward_pre_hook(lambda m, a, i=i: acts.__setitem__(i, a[0][0, positions].detach()))
               for i, p in enumerate(projections)]
    try:
        with torch.no_grad():
            bundle.model(input_ids=ids)
    finally:
        for h in handles:
            h.remove()
    return acts


def _run_with_neurons(bundle, ids, layer, position, acts, token):
    """Probabilities of `token` at `position`, one row per row of acts, the whole model on every row."""
    proj = bundle.adapter.ffn_out_projections(bundle.model)[layer]

    def place(module, args):
        x = args[0].clone()
        x[:, position] = acts.to(x.dtype)
        return (x,) + tuple(args[1:])

    handle = proj.register_forward_pre_hook(place)
    try:
        logits = bundle.model(input_ids=ids.expand(len(acts), -1)).logits  # head at every position
    finally:
        handle.remove()
    return torch.softmax(logits[:, position].float(), dim=-1)[:, token]


def run_plain(bundle, probe, steps, layers):
    item = encode_probes(bundle, [probe])[0]
    ids = torch.tensor([item.input_ids])
    natural = _natural(bundle, ids, list(item.target_positions))
    alphas, weights = (torch.tensor(v)[:, None] for v in path_points(steps, "left"))
    scores = torch.zeros(len(layers), bundle.d_ff)
    for slot, layer in enumerate(layers):
        for t, (position, token) in enumerate(zip(item.target_positions, item.answer_ids)):
            w = natural[layer][t]
            acts = (alphas * w).requires_grad_(True)
            with torch.enable_grad():
                probs = _run_with_neurons(bundle, ids, layer, position, acts, token)
                grad = torch.autograd.grad(probs.sum(), acts)[0]
            scores[slot] += (w * (weights * grad).sum(0)).float()
    return scores


def run_captum(bundle, probe, steps, layers):
    from captum.attr import LayerIntegratedGradients

    item = encode_probes(bundle, [probe])[0]
    ids = torch.tensor([item.input_ids])
    natural = _natural(bundle, ids, list(item.target_positions))
    site = torch.nn.Identity()  # the neuron vector at the target, as the layer Captum hooks
    scores = torch.zeros(len(layers), bundle.d_ff)
    for slot, layer in enumerate(layers):
        for t, (position, token) in enumerate(zip(item.target_positions, item.answer_ids)):
            def forward(acts):
                return _run_with_neurons(bundle, ids, layer, position, site(acts), token)

            w = natural[layer][t][None]
            lig = LayerIntegratedGradients(forward, site)
            attr = lig.attribute(w, baselines=torch.zeros_like(w), n_steps=steps, method="riemann_left",
                                 internal_batch_size=steps)
            scores[slot] += attr[0].float()
    return scores


def run_engine(bundle, probe, steps, layers, memory_cap_mb):
    """Rows per pass set by the memory cap alone (internal_batch_size unbounded)."""
    return attribute(bundle, [probe], steps=steps, layers=layers, internal_batch_size=10**9,
                     memory_budget_mb=memory_cap_mb)[0].scores


# --------------------------------------------------------------------------------------- measurements
def _status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(key)).split()[1])


def peak_extra_mb(fn) -> float:
    """Peak resident memory above the current level while fn runs (Linux: resets the high-water mark)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return float("nan")
    before = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - before) / 1024


def counted_flops(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def lower_bound_flops(bundle, probe, steps, layers) -> float:
    """Matmul FLOPs that prefix caching cannot avoid: for each layer l and step, the blocks l..L-1 on the
    positions that can change (all of them for a masked LM, the target only for a causal LM) and the head at
    the target, forward plus the gradient w.r.t. activations (about the same again)."""
    item = encode_probes(bundle, [probe])[0]
    model, adapter = bundle.model, bundle.adapter
    config = model.config
    d = config.hidden_size
    blocks = adapter.blocks(model)
    block_weights = [sum(p.numel() for n, p in b.named_parameters() if p.dim() == 2) for b in blocks]
    head = adapter.head(model)
    head_weights = sum(p.numel() for p in head.parameters() if p.dim() == 2)
    total = 0.0
    for position in item.target_positions:
        keys = position + 1 if bundle.kind == "causal" else item.length
        queries = 1 if bundle.kind == "causal" else item.length
        for layer in layers:
            per_step = sum(2 * queries * w + 4 * queries * keys * d for w in block_weights[layer:]) + 2 * head_weights
            total += 2 * steps * per_step
    return total


def benchmark(name: str, args) -> list[str]:
    model = build_model(name)
    bundle = bundle_from(model, load_tokenizer(args.tokenizer, model.config.vocab_size))
    layers = list(range(args.layer_stride // 2, bundle.n_layers, args.layer_stride))  # unbiased subset
    probes = release_probes(bundle, args.release_sample) if args.release_sample else PROBES[: args.queries]
    impls = {
        "engine": lambda p: run_engine(bundle, p, args.steps, layers, args.memory_cap_mb),
        "plain": lambda p: run_plain(bundle, p, args.steps, layers),
        "captum": lambda p: run_captum(bundle, p, args.steps, layers),
    }
    seconds = dict.fromkeys(impls, 0.0)  # wall clock
    cpu = dict.fromkeys(impls, 0.0)  # this process's CPU time: less sensitive to other users of the machine
    worst_diff = {k: 0.0 for k in impls if k != "engine"}
    peak = 0.0
    # one untimed call each: first-call costs (allocator, lazy imports, caches) stay out of every figure
    run_engine(bundle, probes[0], 2, layers[-1:], args.memory_cap_mb)
    run_plain(bundle, probes[0], 2, layers[-1:])
    run_captum(bundle, probes[0], 2, layers[-1:])
    encoded = encode_probes(bundle, probes)
    per_query = []  # (length, answer tokens, engine s, plain s)
    final_scores = []  # the engine's, query by query
    for index, probe in enumerate(probes):
        order = list(impls)[index % 3:] + list(impls)[: index % 3]  # alternate who goes first
        outputs, took = {}, {}
        for key in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            if key == "engine":
                peak = max(peak, peak_extra_mb(lambda: outputs.__setitem__(key, impls[key](probe))))
            else:
                outputs[key] = impls[key](probe)
            took[key] = time.perf_counter() - started
            seconds[key] += took[key]
            cpu[key] += time.process_time() - started_cpu
        final_scores.append(outputs["engine"])
        per_query.append((encoded[index].length, len(encoded[index].answer_ids), took["engine"], took["plain"]))
        for key in worst_diff:
            ref = outputs[key]
            worst_diff[key] = max(worst_diff[key], float((outputs["engine"] - ref).abs().max() / ref.abs().max()))
        print(f"  {name} query {index + 1}/{len(probes)}: " + ", ".join(
            f"{k} {seconds[k]:.1f}s wall {cpu[k]:.1f}s cpu" for k in impls), file=sys.stderr, flush=True)
    # the engine again, all queries in one call (as `evaluate` passes a fact's queries): causal queries share passes
    started = time.perf_counter()
    together = attribute(bundle, probes, steps=args.steps, layers=layers, internal_batch_size=10**9,
                         memory_budget_mb=args.memory_cap_mb)
    one_call = time.perf_counter() - started
    batching_diff = max(float((a.scores - b).abs().max() / b.abs().max()) for a, b in zip(together, final_scores))
    flops = {}  # counted at 2 and 4 steps (cheap), extrapolated linearly to args.steps
    for key in ("engine", "plain"):
        two, four = (counted_flops(lambda k=k: {"engine": lambda: run_engine(bundle, probes[0], k, layers, args.memory_cap_mb),
                                               "plain": lambda: run_plain(bundle, probes[0], k, layers)}[key]())
                     for k in (2, 4))
        flops[key] = two + (four - two) / 2 * (args.steps - 2)
    bound = lower_bound_flops(bundle, probes[0], args.steps, layers)
    lengths = [item.length for item in encoded]
    qps = {k: len(probes) / s for k, s in seconds.items()}
    cpu_qps = {k: len(probes) / s for k, s in cpu.items()}
    lines = [
        f"{name}: {bundle.n_layers} layers ({len(layers)} attributed), d_ff {bundle.d_ff}, {len(probes)} queries, "
        f"{args.steps} steps, query lengths {lengths} tokens, {torch.get_num_threads()} threads",
        f"  queries/s   (wall) engine {qps['engine']:.4f} | plain {qps['plain']:.4f} | captum {qps['captum']:.4f}",
        f"  speed-up    engine/plain {qps['engine'] / qps['plain']:.2f}x | engine/captum {qps['engine'] / qps['captum']:.2f}x"
        f"  (CPU time: {cpu_qps['engine'] / cpu_qps['plain']:.2f}x | {cpu_qps['engine'] / cpu_qps['captum']:.2f}x)",
        f"  agreement   max |engine - plain| / max|plain| {worst_diff['plain']:.1e} | vs captum {worst_diff['captum']:.1e}",
        f"  GFLOP/query (first query) engine {flops['engine'] / 1e9:.1f} | plain {flops['plain'] / 1e9:.1f} | prefix-cached bound "
        f"{bound / 1e9:.1f}  (plain/bound {flops['plain'] / bound:.1f}x, engine/bound {flops['engine'] / bound:.2f}x)",
        f"  peak memory engine +{peak:.0f} MB (cap {args.memory_cap_mb:.0f} MB)",
        f"  one call    engine with all {len(probes)} queries in one call: {seconds['engine'] / one_call:.2f}x its "
        f"query-by-query speed ({one_call:.1f}s against {seconds['engine']:.1f}s; scores differ by {batching_diff:.1e})",
        "  per query   (tokens, answer tokens: engine/plain) " + ", ".join(
            f"{length},{answer}: {plain / engine:.1f}x" for length, answer, engine, plain in per_query),
    ]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default="bert-base,smollm2-135m")
    parser.add_argument("--layer-stride", type=int, default=1, help="attribute every k-th layer (all implementations)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: least contention on a shared box)")
    parser.add_argument("--memory-cap-mb", type=float, default=1024.0)
    parser.add_argument("--tokenizer", help="local tokenizer folder (default: the tiny test tokenizer)")
    parser.add_argument("--release-sample", type=int, default=0,
                        help="N object-final test queries per core language from the shipped release instead of "
                             "the hand-written probes (use with --tokenizer)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    report = []
    for name in args.models.split(","):
        report += benchmark(name.strip(), args)
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

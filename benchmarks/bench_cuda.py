#!/usr/bin/env python
"""The attribution engine and the causal oracle on a GPU: facts per hour and peak memory for a Qwen2-0.5B-shaped
and a Llama-7B-shaped model with random weights (bf16 weights, float32 accumulation), after checking the
device against the CPU on a small shape.

    python benchmarks/bench_cuda.py                      # CUDA, both shapes, about 4-5 minutes on one H200
    python benchmarks/bench_cuda.py --device cpu --tiny  # the same code path at tiny shapes (a test runs this)

What is measured, per model shape:
  engine  rml_lama.probing.attribution.attribute, zero baseline, 20 steps, every layer, on `--queries` parallel
          probes (causal: prefix-cached suffix rows), one untimed warm-up call;
  oracle  rml_lama.evaluation.oracle.ablation_effects on the same probes over a candidate pool (the top
          `--pool` neurons of the engine's scores plus `--pool` random ones, as the evaluation does on large
          models), and exhaustively over the last layer;
  a fact  = 10 localization queries attributed with 3 attribution kinds (zero, AMIG-style, AMIG authors') plus
          the pooled oracle on 10 scoring queries: facts/hour = 3600 / (30 x engine s/query + 10 x oracle s/query).
Check (small Qwen2-shaped model, 2 layers): engine scores and oracle effects on the device in float32 and in bf16
against the CPU in float32 (relative max error; bf16 is expected near 1e-2, float32 near 1e-6).
The JSON goes to $OUT/bench_cuda.json when OUT is set, else to stdout only. A `--budget-s` deadline (default
330 s) skips what would not fit and says so in the JSON (`skipped`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from rml_lama.evaluation.oracle import ablation_effects, candidate_pool
from rml_lama.models import bundle_from
from rml_lama.probing.attribution import attribute
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import tiny_tokenizer

PROBES = [  # parallel object-final queries (causal LMs read the text before the slot)
    Probe("The capital of France is [MASK]", "Paris"),
    Probe("La capitale de l'Italie est [MASK]", "Rome"),
    Probe("Ranskan pääkaupunki on [MASK]", "Pariisi"),
    Probe("Magyarország fővárosa [MASK]", "Budapest"),
    Probe("日本の首都は[MASK]", "東京"),
    Probe("프랑스의 수도는 [MASK]", "파리"),
    Probe("法国的首都是[MASK]", "巴黎"),
    Probe("The capital of Japan is [MASK]", "Tokyo"),
]
SHAPES = {  # name -> (family, layers, hidden, d_ff, heads, kv heads, vocab)
    "qwen2-0.5b": ("qwen2", 24, 896, 4864, 14, 2, 151936),
    "llama-7b": ("llama", 32, 4096, 11008, 32, 32, 32000),
}
TINY = {
    "qwen2-0.5b": ("qwen2", 2, 32, 64, 4, 2, 512),
    "llama-7b": ("llama", 2, 32, 64, 4, 4, 512),
}
CHECK_SHAPE = ("qwen2", 2, 64, 128, 4, 2, 1024)
QUERIES_PER_FACT, ATTRIBUTION_KINDS = 10, 3


def build(shape, dtype, device, seed: int = 0):
    import transformers as tf

    family, layers, hidden, d_ff, heads, kv, vocab = shape
    tokenizer = tiny_tokenizer()
    cls = {"qwen2": tf.Qwen2Config, "llama": tf.LlamaConfig}[family]
    config = cls(vocab_size=max(vocab, len(tokenizer)), hidden_size=hidden, num_hidden_layers=layers,
                 num_attention_heads=heads, num_key_value_heads=kv, intermediate_size=d_ff,
                 max_position_embeddings=256, tie_word_embeddings=family == "qwen2",
                 pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                 eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = tf.AutoModelForCausalLM.from_config(config)
    finally:
        torch.set_default_dtype(previous)
    return bundle_from(model.eval(), tokenizer)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmax(np.abs(a - b)) / max(np.nanmax(np.abs(b)), 1e-30))


def check_against_cpu(device: str, probes) -> dict:
    """Engine scores and oracle effects on `device` (float32, bf16) against the CPU in float32."""
    reference = build(CHECK_SHAPE, torch.float32, "cpu")
    state = {k: v.detach().clone() for k, v in reference.model.state_dict().items()}
    expected = torch.stack([a.scores for a in attribute(reference, probes, steps=8)]).numpy()
    expected_oracle = ablation_effects(reference, encode_probes(reference, probes), range(reference.n_layers))
    result = {}
    for name, dtype in (("float32", torch.float32), ("bf16", torch.bfloat16)):
        bundle = build(CHECK_SHAPE, dtype, device)
        bundle.model.load_state_dict({k: v.to(dtype) for k, v in state.items()})
        scores = torch.stack([a.scores for a in attribute(bundle, probes, steps=8)]).numpy()
        oracle = ablation_effects(bundle, encode_probes(bundle, probes), range(bundle.n_layers))
        result[name] = {"engine_rel_err": _rel(scores, expected), "oracle_rel_err": _rel(oracle, expected_oracle),
                        "engine_top10_overlap": _top_overlap(scores, expected, 10)}
    return result


def _top_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Mean over queries of |top-k(a) & top-k(b)| / k (what a localizer would pick)."""
    shares = []
    for x, y in zip(a.reshape(len(a), -1), b.reshape(len(b), -1)):
        shares.append(len(set(np.argsort(-x)[:k]) & set(np.argsort(-y)[:k])) / k)
    return float(np.mean(shares))


def bench_shape(name: str, shape, device: str, probes, pool: int, steps: int, deadline: float) -> dict:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    bundle = build(shape, torch.bfloat16, device)
    _sync(device)
    row = {"model": name, "layers": bundle.n_layers, "d_ff": bundle.d_ff, "dtype": "bfloat16",
           "accumulation": "float32", "build_s": round(time.perf_counter() - started, 2), "queries": len(probes)}
    attribute(bundle, probes[:1], steps=2)  # warm-up (kernels, allocator)
    _sync(device)
    started = time.perf_counter()
    attributions = attribute(bundle, probes, steps=steps, internal_batch_size=256)
    _sync(device)
    engine_s = (time.perf_counter() - started) / len(probes)
    row["engine_s_per_query"] = round(engine_s, 4)
    if time.perf_counter() > deadline:
        row["skipped"] = "oracle (time budget)"
        return row
    layers = list(range(bundle.n_layers))
    encoded = encode_probes(bundle, probes)
    scores = [a.scores.numpy() for a in attributions]
    candidates = candidate_pool(scores, layers, bundle.d_ff, pool, pool, seed=0, fact_id=name)
    row["oracle_pool_neurons"] = sum(len(v) for v in candidates.values())
    _sync(device)
    started = time.perf_counter()
    ablation_effects(bundle, encoded, layers, candidates, rows_per_pass=512)
    _sync(device)
    oracle_s = (time.perf_counter() - started) / len(probes)
    row["oracle_pool_s_per_query"] = round(oracle_s, 4)
    if time.perf_counter() < deadline:
        started = time.perf_counter()
        ablation_effects(bundle, encoded[:2], [layers[-1]], rows_per_pass=1024)
        _sync(device)
        row["oracle_last_layer_exhaustive_s_per_query"] = round((time.perf_counter() - started) / 2, 4)
    else:
        row["skipped"] = "exhaustive last-layer oracle (time budget)"
    fact_s = QUERIES_PER_FACT * (ATTRIBUTION_KINDS * engine_s + oracle_s)
    row["facts_per_hour"] = round(3600.0 / fact_s, 1)
    if device.startswith("cuda"):
        row["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    del bundle
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a quick check of the code path)")
    parser.add_argument("--models", default="qwen2-0.5b,llama-7b")
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--pool", type=int, default=128, help="oracle pool: top N of the scores plus N random")
    parser.add_argument("--budget-s", type=float, default=330.0, help="skip what would start after this many s")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("bench_cuda: error: no CUDA device (use --device cpu --tiny for the CPU check)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    deadline = started + args.budget_s
    torch.set_grad_enabled(True)
    probes = PROBES[: args.queries]
    report = {"device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
              "torch": torch.__version__, "tiny": args.tiny, "steps": args.steps,
              "fact": f"{QUERIES_PER_FACT} queries x {ATTRIBUTION_KINDS} attribution kinds + pooled oracle on "
                      f"{QUERIES_PER_FACT} queries"}
    report["check_against_cpu"] = check_against_cpu(args.device, probes[:3])
    print(json.dumps({"check_against_cpu": report["check_against_cpu"]}), flush=True)
    shapes = TINY if args.tiny else SHAPES
    report["models"] = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if time.perf_counter() > deadline:
            report["models"].append({"model": name, "skipped": "time budget"})
            continue
        row = bench_shape(name, shapes[name], args.device, probes, args.pool, args.steps, deadline)
        report["models"].append(row)
        print(json.dumps(row), flush=True)
    report["total_s"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=2)
    print(text)
    out = os.environ.get("OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "bench_cuda.json").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

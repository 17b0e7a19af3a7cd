"""Tiny random models of every supported family and a tiny multilingual sentencepiece tokenizer: the testbed
that the tests, the benchmarks and a user without any checkpoint can run everything on.

Nothing is downloaded: the tokenizer is trained in memory on the sentences below (well under a second) and the
models are built from configs with a fixed seed.
"""
from __future__ import annotations

import functools
import io

import torch

CORPUS = [
    "The capital of France is Paris.",
    "The capital of Italy is Rome.",
    "The capital of Japan is Tokyo.",
    "Paris is the capital of France.",
    "Berlin is located in Germany.",
    "The official language of Finland is Finnish.",
    "La capitale de la France est Paris.",
    "La capitale de l'Italie est Rome.",
    "Ranskan pääkaupunki on Pariisi.",
    "Suomen virallinen kieli on suomi.",
    "Franciaország fővárosa Párizs.",
    "Magyarország fővárosa Budapest.",
    "フランスの首都はパリです。",
    "日本の首都は東京です。",
    "프랑스의 수도는 파리이다.",
    "일본의 수도는 도쿄이다.",
    "法国的首都是巴黎。",
    "日本的首都是东京。",
    "Die Hauptstadt von Deutschland ist Berlin.",
    "Rome is the capital of Italy and Tokyo is the capital of Japan.",
]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
UNENCODABLE = "☃☃"  # characters absent from CORPUS: the tokenizer can only map them to <unk>


@functools.cache
def _sentencepiece_vocab(vocab_size: int) -> tuple[tuple[str, float], ...]:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 4), model_writer=model, vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, num_threads=1, hard_vocab_limit=False, seed_sentencepiece_size=10000, shuffle_input_sentence=False,
        pad_id=-1, bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    return tuple(p for p in pieces if p[0] != "<unk>")


@functools.cache
def tiny_tokenizer(vocab_size: int = 120):
    """An XLM-R-style sentencepiece tokenizer (<s> <pad> </s> <unk> <mask>) trained on CORPUS."""
    from transformers import XLMRobertaTokenizer

    vocab = [(s, 0.0) for s in SPECIALS[:4]] + list(_sentencepiece_vocab(vocab_size)) + [(SPECIALS[4], 0.0)]
    return XLMRobertaTokenizer(vocab=vocab)


def _special_ids(tokenizer) -> dict:
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def _config(family: str, tokenizer, layers: int, hidden: int, d_ff: int, heads: int):
    import transformers as tf

    vocab = len(tokenizer)
    ids = _special_ids(tokenizer)
    if family in ("bert", "roberta", "xlm-roberta"):
        cls = {"bert": tf.BertConfig, "roberta": tf.RobertaConfig, "xlm-roberta": tf.XLMRobertaConfig}[family]
        return cls(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                   intermediate_size=d_ff, max_position_embeddings=64, hidden_dropout_prob=0.0,
                   attention_probs_dropout_prob=0.0, **ids)
    if family == "gpt2":
        return tf.GPT2Config(vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_inner=d_ff,
                             n_positions=64, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **ids)
    if family == "gpt_neox":
        return tf.GPTNeoXConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                                num_attention_heads=heads, intermediate_size=d_ff, max_position_embeddings=64,
                                rotary_pct=0.5, **ids)
    if family == "gptj":
        return tf.GPTJConfig(vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_inner=d_ff,
                             n_positions=64, rotary_dim=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **ids)
    if family == "phi":
        return tf.PhiConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                            intermediate_size=d_ff, max_position_embeddings=64, partial_rotary_factor=0.5, **ids)
    if family == "bloom":
        return tf.BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads, **ids)
    if family in ("llama", "mistral", "qwen2"):
        cls = {"llama": tf.LlamaConfig, "mistral": tf.MistralConfig, "qwen2": tf.Qwen2Config}[family]
        return cls(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                   num_key_value_heads=max(1, heads // 2), intermediate_size=d_ff, max_position_embeddings=64,
                   tie_word_embeddings=False, **ids)
    raise ValueError(f"unknown tiny family {family!r}")


FAMILIES = ("bert", "roberta", "xlm-roberta", "gpt2", "gpt_neox", "gptj", "phi", "bloom", "llama", "mistral", "qwen2")
MASKED_FAMILIES = ("bert", "roberta", "xlm-roberta")


def tiny_model(family: str, *, layers: int = 3, hidden: int = 32, d_ff: int = 48, heads: int = 4,
               seed: int = 0, dtype: torch.dtype = torch.float32):
    """A tiny random LM of `family` (masked for BERT-likes, causal otherwise), in eval mode, with init noise
    large enough that probabilities differ clearly between inputs."""
    import transformers as tf

    config = _config(family, tiny_tokenizer(), layers, hidden, d_ff, heads)
    if family == "bloom":
        d_ff = 4 * hidden  # BLOOM's MLP is fixed at 4 x hidden
    torch.manual_seed(seed)
    auto = tf.AutoModelForMaskedLM if family in MASKED_FAMILIES else tf.AutoModelForCausalLM
    model = auto.from_config(config)
    with torch.no_grad():  # a wider init than the default 0.02 gives peaked, input-dependent predictions
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                param.normal_(0.0, 0.25, generator=None)
    return model.to(dtype).eval()


def tiny_bundle(family: str, **kwargs):
    """tiny_model(family) wrapped with the tiny tokenizer as a ModelBundle."""
    from rml_lama.models import bundle_from

    return bundle_from(tiny_model(family, **kwargs), tiny_tokenizer())

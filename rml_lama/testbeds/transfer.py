"""Knowledge shared across languages: the control/transfer fact design, the sharing recipes, and its measurement.

The default model is trained on two kinds of facts (`design_facts`):

- **control** facts: every core language is trained (seen templates);
- **transfer** facts: the queries of a rotating window of `heldout_window` consecutive languages (in the order
  en fr fi hu ja ko zh, cyclically, so windows such as hu-ja-ko and zh-en-fr cross scripts) are never trained on.

A transfer fact's object is always the object of a control fact of the same relation, so its gold label in a
held-out language is an answer the model has been trained to give in that language: a held-out language then
asks whether the model *knows the fact* there, not whether it can spell a label it never produced.

Recipes that may make the model share knowledge across languages (each an option of `TrainConfig`):

- `dictionary_share`: entity-label lines "label_in_A = [MASK]" -> label in B, for the subjects and objects of
  the chosen facts (labels only, no relation: they reveal no fact);
- `translation_share`: a trained fact's filled sentence in language A followed by its query in language B
  (both trained for that fact) -> the answer in B;
- `code_switch_share`: a trained query whose subject label is replaced by the subject's label in another core
  language (also a held-out one: that reveals the subject's name there, not the fact's answer);
- `align_weight`: an auxiliary InfoNCE loss pulling together the mask-position hidden states (after block
  `align_layer`) of parallel trained queries of the same fact in two languages (training only: the checkpoint is
  a plain masked LM).

`transfer_figures` measures precision@1 on the held-out languages of the transfer facts, per language and per
script group, next to chance (1 / number of candidates) and a majority-object prior, each with a 95% interval
(bootstrap over facts).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from ..errors import RmlLamaError
from ..frames import parallel_fact_ids
from ..schema import CORE_LANGUAGES, LANGUAGES, MASK, F
from .facts import stable_key

CONTROL, TRANSFER = "control", "transfer"


def script_group(lang: str) -> str:
    """Latin (en fr fi hu) or CJK (ja ko zh: Japanese, Hangul and Han scripts)."""
    return "Latin" if LANGUAGES[lang].script == "Latin" else "CJK"


# ------------------------------------------------------------------------------------------- the design
def heldout_windows(langs: tuple[str, ...], width: int) -> list[tuple[str, ...]]:
    """The `len(langs)` cyclic windows of `width` consecutive languages: every language is held out equally
    often, and windows that straddle the Latin/CJK boundary are cross-script."""
    if not 0 < width < len(langs):
        raise RmlLamaError(f"heldout_window must be between 1 and {len(langs) - 1}, not {width}")
    return [tuple(langs[(start + i) % len(langs)] for i in range(width)) for start in range(len(langs))]


def design_facts(df: pd.DataFrame, seed: int, langs: tuple[str, ...] = CORE_LANGUAGES, objects_per_relation: int = 5,
                 control_per_object: int = 1, transfer_per_object: int = 1, heldout_window: int = 3,
                 min_facts_per_relation: int = 6, max_relations: Optional[int] = None) -> pd.DataFrame:
    """Choose control and transfer facts: one row per fact (fact_id, relation, obj_uri, role, heldout_langs).

    Per relation (sorted, or the first `max_relations` by seeded hash): the facts present in every language of
    `langs`, at most one object per (relation, subject); objects with at least `control_per_object +
    transfer_per_object` facts whose label is the same in every fact of that object (per language), taken in
    seeded-hash order, up to `objects_per_relation`; for each, `control_per_object` control facts and
    `transfer_per_object` transfer facts. Relations with fewer than `min_facts_per_relation` chosen facts or
    fewer than 2 objects are skipped. Transfer facts get the held-out windows in turn (fact order within the
    relation continues from the previous relation, so every window is used about equally).
    """
    data = df[df[F.LANG].isin(langs)]
    data = data[data[F.FACT_ID].isin(parallel_fact_ids(data, langs))]
    if data.empty:
        raise RmlLamaError(f"no fact has queries in all of {', '.join(langs)}")
    # one label per (object, language) across facts: otherwise "the object is a control answer" is not a label
    labels = data.drop_duplicates([F.OBJ_URI, F.LANG, F.OBJ_LABEL]).groupby([F.OBJ_URI, F.LANG]).size()
    ambiguous = {uri for (uri, _), n in labels.items() if n > 1}
    facts = data.drop_duplicates(F.FACT_ID)[[F.FACT_ID, F.RELATION, F.SUB_URI, F.OBJ_URI]]
    facts = facts[~facts[F.OBJ_URI].isin(ambiguous)]
    facts = facts.assign(_k=[stable_key(seed, f) for f in facts[F.FACT_ID]]).sort_values("_k")
    facts = facts.drop_duplicates([F.RELATION, F.SUB_URI])
    relations = sorted(facts[F.RELATION].unique())
    if max_relations is not None:
        relations = sorted(sorted(relations, key=lambda r: stable_key(seed, r))[:max_relations])
    windows = heldout_windows(langs, heldout_window)
    per_object = control_per_object + transfer_per_object
    rows, turn = [], 0
    for rel in relations:
        group = facts[facts[F.RELATION] == rel]
        by_object = {uri: list(g[F.FACT_ID]) for uri, g in group.groupby(F.OBJ_URI)}
        objects = sorted((uri for uri, ids in by_object.items() if len(ids) >= per_object),
                         key=lambda uri: stable_key(seed, f"{rel}:{uri}"))[:objects_per_relation]
        if len(objects) < 2 or len(objects) * per_object < min_facts_per_relation:
            continue
        for uri in objects:
            ids = by_object[uri][:per_object]
            for fact_id in ids[:control_per_object]:
                rows.append((fact_id, rel, uri, CONTROL, ()))
            for fact_id in ids[control_per_object:]:
                rows.append((fact_id, rel, uri, TRANSFER, windows[turn % len(windows)]))
                turn += 1
    if not rows:
        raise RmlLamaError("no relation has enough facts sharing objects for a control/transfer design")
    return pd.DataFrame(rows, columns=[F.FACT_ID, F.RELATION, F.OBJ_URI, "role", "heldout_langs"]).sort_values(
        F.FACT_ID).reset_index(drop=True)


def split_queries(data: pd.DataFrame, design: pd.DataFrame, heldout: set[str]) -> dict[str, pd.DataFrame]:
    """The design's queries: `seen` (trained: seen templates, trained languages), `heldout` (held-out templates of
    trained languages) and `heldout_langs` (every template of a transfer fact in its held-out languages)."""
    held_langs = {fid: set(ls) for fid, ls in zip(design[F.FACT_ID], design["heldout_langs"])}
    in_heldout_lang = np.array([lang in held_langs.get(fid, ()) for fid, lang in zip(data[F.FACT_ID], data[F.LANG])],
                               dtype=bool)
    template_out = data[F.TEMPLATE_ID].isin(heldout).to_numpy()
    return {"seen": data[~in_heldout_lang & ~template_out], "heldout": data[~in_heldout_lang & template_out],
            "heldout_langs": data[in_heldout_lang]}


# ------------------------------------------------------------------------------------------- recipes
def dictionary_lines(data: pd.DataFrame, langs: tuple[str, ...], seed: int, per_entity: int) -> tuple[list, list]:
    """Entity-label lines "A = [MASK]" (answer: the label in another language) for every subject and object of
    `data`, `per_entity` seeded (source, target) language pairs each. Labels only: no relation, no fact."""
    queries, answers = [], []
    for column_uri, column_label in ((F.SUB_URI, F.SUB_LABEL), (F.OBJ_URI, F.OBJ_LABEL)):
        table = data.drop_duplicates([column_uri, F.LANG]).set_index([column_uri, F.LANG])[column_label]
        for uri in sorted(set(data[column_uri])):
            names = {lang: table[(uri, lang)] for lang in langs if (uri, lang) in table.index}
            pairs = [(a, b) for a in sorted(names) for b in sorted(names) if a != b and names[a] != names[b]]
            pairs.sort(key=lambda p: stable_key(seed, f"{uri}:{p}"))
            for a, b in pairs[:per_entity]:
                queries.append(f"{names[a]} = {MASK}")
                answers.append(names[b])
    return queries, answers


def translation_lines(seen: pd.DataFrame, seed: int, per_fact_lang: int) -> tuple[list, list]:
    """A trained query filled with its answer in language A, then a trained query of the same fact in language
    B with the mask (answer: the label in B). Both languages are trained for that fact."""
    queries, answers = [], []
    for fact_id, group in seen.groupby(F.FACT_ID, sort=True):
        by_lang = {lang: g for lang, g in group.groupby(F.LANG, sort=True)}
        for lang_b, rows_b in by_lang.items():
            others = sorted((lang for lang in by_lang if lang != lang_b), key=lambda other: stable_key(seed, f"{fact_id}:{lang_b}:{other}"))
            for i, lang_a in enumerate(others[:per_fact_lang]):
                a = by_lang[lang_a].iloc[int(stable_key(seed, f"{fact_id}:{lang_a}:{i}")[:8], 16) % len(by_lang[lang_a])]
                b = rows_b.iloc[int(stable_key(seed, f"{fact_id}:{lang_b}:{i}")[:8], 16) % len(rows_b)]
                queries.append(f"{a[F.QUERY].replace(MASK, a[F.OBJ_LABEL])} {b[F.QUERY]}")
                answers.append(b[F.OBJ_LABEL])
    return queries, answers


def code_switched_lines(seen: pd.DataFrame, subject_names: pd.Series, langs: tuple[str, ...], seed: int,
                        share: float) -> tuple[list, list]:
    """`share` of the trained queries (seeded), each with its subject label replaced by the subject's label in
    another core language (`subject_names`: (sub_uri, lang) -> label). Only the subject changes: template and
    answer stay in the trained language."""
    queries, answers = [], []
    for row in seen.itertuples(index=False):
        key = stable_key(seed, f"cs:{getattr(row, F.QUERY)}")
        if int(key[:8], 16) / 0xFFFFFFFF >= share:
            continue
        sub_uri, lang = getattr(row, F.SUB_URI), getattr(row, F.LANG)
        options = [o for o in langs if o != lang and (sub_uri, o) in subject_names.index
                   and subject_names[(sub_uri, o)] != getattr(row, F.SUB_LABEL)]
        if not options:
            continue
        other = options[int(key[8:16], 16) % len(options)]
        template = getattr(row, F.TEMPLATE)
        if "[X]" not in template:
            continue
        queries.append(template.replace("[X]", subject_names[(sub_uri, other)]).replace("[Y]", MASK))
        answers.append(getattr(row, F.OBJ_LABEL))
    return queries, answers


def info_nce(anchor, positive, temperature: float):
    """Symmetric InfoNCE between two [n, d] batches whose row i is a parallel pair (cosine similarities)."""
    import torch  # here, not at the top: the fact design is pandas only

    a = torch.nn.functional.normalize(anchor, dim=-1)
    b = torch.nn.functional.normalize(positive, dim=-1)
    logits = a @ b.T / temperature
    target = torch.arange(len(a), device=a.device)
    return 0.5 * (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target))


def parallel_partners(fact_ids: list[str], langs: list[str]) -> dict[int, list[int]]:
    """For each training row, the rows of the same fact in another language (candidates for an aligned pair)."""
    by_fact: dict[str, list[int]] = {}
    for i, fid in enumerate(fact_ids):
        by_fact.setdefault(fid, []).append(i)
    return {i: [j for j in by_fact[fid] if langs[j] != langs[i]] for i, fid in enumerate(fact_ids)}


# ------------------------------------------------------------------------------------------- measuring
def _bootstrap(values: dict[str, np.ndarray], clusters: np.ndarray, seed: int, n: int = 1000) -> dict:
    """Mean and 95% percentile interval of each per-row array, resampling clusters (facts) with replacement."""
    uniq, inverse = np.unique(clusters, return_inverse=True)
    rng = np.random.default_rng(seed)
    sums = {name: np.bincount(inverse, weights=v.astype(float), minlength=len(uniq)) for name, v in values.items()}
    counts = np.bincount(inverse, minlength=len(uniq)).astype(float)
    draws = rng.integers(0, len(uniq), size=(n, len(uniq)))
    weight = np.stack([np.bincount(d, minlength=len(uniq)) for d in draws]).astype(float)  # [n, clusters]
    out = {}
    for name, s in sums.items():
        means = (weight @ s) / np.maximum(weight @ counts, 1)
        lo, hi = np.percentile(means, [2.5, 97.5])
        out[name] = [round(float(values[name].mean()), 4), round(float(lo), 4), round(float(hi), 4)]
    return out


def majority_prior(rows: pd.DataFrame, trained: pd.DataFrame) -> np.ndarray:
    """Per row: the expected p@1 of always answering the relation's most frequent object among the facts trained
    in the row's language (ties shared): 1/|ties| when the gold is one of them, else 0."""
    counts = trained.drop_duplicates([F.FACT_ID, F.LANG]).groupby([F.RELATION, F.LANG])[F.OBJ_LABEL].value_counts()
    best: dict = {}
    for (rel, lang), series in counts.groupby(level=[0, 1]):
        top = series.max()
        best[(rel, lang)] = {label for (_, _, label), c in series.items() if c == top}
    return np.array([(1.0 / len(best.get((r, lg), {None})) if g in best.get((r, lg), set()) else 0.0)
                     for r, lg, g in zip(rows[F.RELATION], rows[F.LANG], rows[F.OBJ_LABEL])])


def grouped_figures(rows: pd.DataFrame, hits: np.ndarray, n_candidates: np.ndarray, prior: np.ndarray,
                    seed: int) -> dict:
    """p@1, chance and prior with 95% intervals (bootstrap over facts): per language, per script group, all."""
    frame = rows[[F.FACT_ID, F.LANG]].assign(p1=np.asarray(hits, dtype=float),
                                             chance=1.0 / np.asarray(n_candidates, dtype=float),
                                             prior=np.asarray(prior, dtype=float))
    frame["group"] = [script_group(lang) for lang in frame[F.LANG]]
    out = {}
    parts = [(lang, frame[frame[F.LANG] == lang]) for lang in sorted(set(frame[F.LANG]), key=CORE_LANGUAGES.index)]
    parts += [(g, frame[frame["group"] == g]) for g in ("Latin", "CJK") if (frame["group"] == g).any()]
    parts.append(("all", frame))
    for name, part in parts:
        if part.empty:
            continue
        stats = _bootstrap({c: part[c].to_numpy() for c in ("p1", "chance", "prior")},
                           part[F.FACT_ID].to_numpy(), seed)
        out[name] = {"p_at_1": stats["p1"], "chance": stats["chance"], "prior": stats["prior"],
                     "queries": int(len(part)), "facts": int(part[F.FACT_ID].nunique())}
    return out

"""The `rml-lama` command: build, validate, publish and evaluate RML-LAMA.

Each sub-command's arguments are declared here; its work lives in the concept
module named in COMMANDS (imported only when that command runs, so `rml-lama build` never imports torch)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Optional

from .errors import RmlLamaError

DEFAULT_RELEASE_DIR = "rml-lama"
SEED_HELP = "random seed (every sample and shuffle derives from it: same seed, same output)"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (None, a flag that is off)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, "", argparse.SUPPRESS):
            return action.help or ""
        return super()._get_help_string(action)


def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=DEFAULT_RELEASE_DIR,
                   help="release folder to write: absent, empty, or a release `build` wrote (never other files)")
    p.add_argument("--sources", default=None, help="sources folder (default: the copy shipped in the package)")
    p.add_argument("--no-extended", action="store_true", help="build the 7 core languages only")


def _add_publish(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo-id", required=True, help="Hub dataset repo, namespaced: ORG/rml-lama")
    p.add_argument("--folder", default=DEFAULT_RELEASE_DIR, help="release folder to upload")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--revision", default=None, help="branch to upload to (default: main)")
    p.add_argument("--token", default=None, help="Hub token (default: the logged-in one)")


def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("release", nargs="?", default=DEFAULT_RELEASE_DIR, help="release folder to check")
    p.add_argument("--report-dir", default=None,
                   help="where to write validation_report.{json,md} (default: the release folder)")
    p.add_argument("--tokenizer", default=None,
                   help="tokenizer id or path for the answer-length check (default: a seeded sentencepiece model)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_validate_language(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", required=True, help="code of the proposed language (letters, digits, - and _)")
    p.add_argument("--templates", required=True, help="folder of P*.jsonl templates ({'pattern': ...})")
    p.add_argument("--facts", required=True, help="folder of P*.jsonl facts (mLAMA format)")
    p.add_argument("--release", default=DEFAULT_RELEASE_DIR, help="release to check against")
    p.add_argument("--report-dir", default=None,
                   help="where to write validation_report.{json,md} (default: validation-LANG)")
    p.add_argument("--add-to", default=None, help="write a copy of the release with the new config here")
    p.add_argument("--tokenizer", default=None,
                   help="tokenizer id or path for the answer-length check (default: a seeded sentencepiece model)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model folder or Hub id (default: the shipped default model)")
    p.add_argument("--release", default=None, help="release folder (default: the release shipped in the package)")
    p.add_argument("--localizers", default="matrice,amig,kn,random",
                   help="comma-separated localizer names (`rml-lama list localizers`)")
    p.add_argument("--langs", default="en,fr,fi,hu,ja,ko,zh", help="languages to localize in")
    p.add_argument("--holdout-langs", default="", help="languages scored but never used to localize (default: none)")
    p.add_argument("--facts", type=int, default=None,
                   help="number of facts, a seeded sample (default: 200; on a planted model, its planted facts)")
    p.add_argument("--facts-per-relation", type=int, default=None,
                   help="at most this many facts of one relation (default: no cap)")
    p.add_argument("--max-rephrasings", type=int, default=None,
                   help="queries per fact and language, a seeded sample (default: all)")
    p.add_argument("--max-candidates", type=int, default=None,
                   help="cap on the candidate objects ranked for accuracy (seeded sample + gold; default: all)")
    p.add_argument("--min-prob", type=float, default=1e-4,
                   help="queries whose (per-token) gold probability is below this are left out of Dai's relative "
                        "changes, and counted (log-probability effects keep them)")
    p.add_argument("--budgets", default="1,3,5,10,20", help="neurons per (fact, language) and per fact (agnostic)")
    p.add_argument("--random-draws", type=int, default=3, help="random draws per fact and budget")
    p.add_argument("--no-oracle", action="store_true", help="skip the causal oracle (no recovery, no precision@k)")
    p.add_argument("--oracle-pool", type=int, default=None,
                   help="large models: ablate only each ranking's top N plus N random neurons (default: every neuron)")
    p.add_argument("--oracle-hurt", type=float, default=0.01,
                   help="nats per answer token a neuron's ablation must cost in every language to count as "
                        "language-agnostic by the oracle")
    p.add_argument("--in-sample", action="store_true",
                   help="localize and score on all rephrasings (the old protocol; default: seeded held-out halves)")
    p.add_argument("--split", default="test", choices=["validation", "test"],
                   help="facts of this split (validation: for tuning thresholds; test: for reported figures)")
    p.add_argument("--out", required=True,
                   help="results folder (resumed if it holds a run of the same options; use a new one per run)")
    p.add_argument("--steps", type=int, default=20, help="integrated-gradients steps")
    p.add_argument("--internal-batch-size", type=int, default=64, help="rows per forward pass")
    p.add_argument("--layers", default=None, help="layer subset, e.g. 0-5 or 2,4,6 (default: every layer)")
    p.add_argument("--planted", default=None,
                   help="truth.json of a planted model (default: MODEL/truth.json when there is one)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (on a busy 2-core machine one fact took 21 s with 1 thread, 215 s with 2)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="results folder of `rml-lama evaluate`, `edit`, `enhance` or `inject` (finished or "
                   "partial)")


def _add_train_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="models/rml-lama-mini", help="checkpoint folder")
    p.add_argument("--release", default=None, help="release folder (default: the shipped release)")
    p.add_argument("--facts", type=int, default=300, help="parallel facts to train on (--design all only)")
    p.add_argument("--epochs", type=float, default=None,
                   help="passes over the training queries (default: the training recipe's own)")
    p.add_argument("--max-steps", type=int, default=None, help="optimiser steps (default 12000)")
    p.add_argument("--design", choices=("transfer", "all"), default=None,
                   help="transfer: control facts + transfer facts with held-out languages (default); all: every "
                        "fact in every language (the older recipe)")
    p.add_argument("--code-switch-share", type=float, default=None,
                   help="share of trained queries repeated with the subject's label in another language (0.5)")
    p.add_argument("--dictionary-per-entity", type=int, default=None, help="entity-label lines per entity (0)")
    p.add_argument("--translation-per-fact-lang", type=int, default=None, help="translation-pair lines (0)")
    p.add_argument("--align-weight", type=float, default=None, help="InfoNCE alignment weight (1: on, the shipped recipe; 0: off)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a shared 2-core box)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_plant(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model to plant into (default: the shipped default model)")
    p.add_argument("--release", default=None, help="release folder or .parquet (default: the shipped release)")
    p.add_argument("--facts", type=int, default=60, help="facts to plant")
    p.add_argument("--out", required=True,
                   help="folder for the planted model and truth.json: absent, empty, or a model `plant` wrote")
    p.add_argument("--agnostic-share", type=float, default=None,
                   help="share of language-agnostic plants (default 0.3)")
    p.add_argument("--script-share", type=float, default=None,
                   help="share of plants for one script group, Latin or CJK (default 0.2)")
    p.add_argument("--distributed-share", type=float, default=None,
                   help="share of plants written over 2-4 neurons (default 0.2; the rest are language-specific)")
    p.add_argument("--decoy-share", type=float, default=None, help="share of plants given a decoy (default 0.3)")
    p.add_argument("--min-plants", type=int, default=None,
                   help="fail when fewer facts can be planted (default: --facts)")
    p.add_argument("--max-answer-tokens", type=int, default=None,
                   help="plant only facts whose answer is at most this many tokens in every language (default 1: "
                        "one neuron writes one direction at every answer position, so longer answers seldom take)")
    p.add_argument("--steps", type=int, default=None, help="Adam steps on each planted output column (default 120)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_pipeline(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/default", help="folder for the release, reports and results")
    p.add_argument("--facts", type=int, default=100, help="facts to evaluate")
    p.add_argument("--max-rephrasings", type=int, default=4, help="per fact and language (budget)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads per worker")
    p.add_argument("--workers", type=int, default=2, help="evaluation processes (torchrun, gloo); 1 = in-process")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)


def _add_review_sample(p: argparse.ArgumentParser) -> None:
    from .checks.review import add_arguments

    add_arguments(p)


def _add_study(p: argparse.ArgumentParser, facts: int = 100) -> None:
    """Arguments every application study shares (model, release, facts, localization budget, output)."""
    p.add_argument("--model", default=None, help="model path or Hub id (default: the shipped default model)")
    p.add_argument("--release", default=None, help="release folder (default: the release shipped in the package)")
    p.add_argument("--localizer", "--localizers", dest="localizer", default="matrice",
                   help="localizer(s), comma-separated registry names (default: matrice)")
    p.add_argument("--langs", default="en,fr,fi,hu,ja,ko,zh", help="languages of the study (scored in all)")
    p.add_argument("--facts", type=int, default=facts, help="number of facts (seeded sample)")
    p.add_argument("--facts-per-relation", type=int, default=None)
    p.add_argument("--max-rephrasings", type=int, default=None, help="per fact and language")
    p.add_argument("--split", default="test", choices=["validation", "test"])
    p.add_argument("--out", required=True, help="results folder (resumed if it holds a run of the same options)")
    p.add_argument("--steps", type=int, default=20, help="integrated-gradients steps")
    p.add_argument("--internal-batch-size", type=int, default=64, help="rows per forward pass")
    p.add_argument("--layers", default=None, help="layer subset, e.g. 0-5 or 2,4,6")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)


def _add_edit(p: argparse.ArgumentParser) -> None:
    _add_study(p)
    p.add_argument("--source-langs", default="en", help="languages to localize and edit from, one at a time "
                   "(rows of the transfer matrix; default: en)")
    p.add_argument("--editor", default="dai", help="how to write the edit: dai (Dai et al.) or adam (default: dai)")
    p.add_argument("--dai-a", type=float, default=1.0, help="Dai et al.'s a: lambda1 = |v|/|E(old)| * a")
    p.add_argument("--dai-b", type=float, default=8.0, help="Dai et al.'s b: lambda2 = |v|/|E(new)| * b")
    p.add_argument("--adam-steps", type=int, default=50, help="steps of the adam editor")
    p.add_argument("--adam-lr", type=float, default=0.1, help="learning rate of the adam editor")
    p.add_argument("--neighbours", type=int, default=5,
                   help="other facts per language for NS (same relation) and NS_other (other relations)")
    p.add_argument("--save-edited", default=None, help="write a copy of the model with the first fact's edit here")
    p.add_argument("--arms", default=None, help="neuron sets to edit through, comma-separated (default: all of "
                   "found, agnostic, specific, union, random, random-layers, planted, planted-random)")


def _add_enhance(p: argparse.ArgumentParser) -> None:
    _add_study(p)
    p.add_argument("--factors", default="1.5,2,4", help="amplification factors k, comma-separated")
    p.add_argument("--modes", default="activation,weight",
                   help="activation (x k at the answer positions) and/or weight (value vectors x k)")
    p.add_argument("--max-candidates", type=int, default=None,
                   help="cap on the candidate objects ranked for accuracy (seeded sample + gold; default: all)")
    p.add_argument("--min-prob", type=float, default=1e-4,
                   help="queries whose gold probability is below this are left out of relative changes")


def _add_inject(p: argparse.ArgumentParser) -> None:
    _add_study(p, facts=50)
    p.add_argument("--new-facts", default="50",
                   help="number of facts the model was not taught, or a file of fact ids (one per line)")
    p.add_argument("--train-langs", default="en", help="languages whose rephrasings the neurons are trained on")
    p.add_argument("--train-steps", type=int, default=30, help="Adam steps per fact and arm")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    p.add_argument("--control-queries", type=int, default=70,
                   help="queries of facts the model knows, checked for forgetting")
    p.add_argument("--max-candidates", type=int, default=None,
                   help="cap on the candidate objects ranked for accuracy (seeded sample + gold; default: all)")
    p.add_argument("--arms", default=None, help="what to train, comma-separated (default: found,random,specific,ffn)")


def _add_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=sorted(LISTABLE), help="registry to list")


# name -> (help, add-arguments, "module:function" that runs it and returns an exit code)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], str]] = {
    "build": ("generate the benchmark into a hub-ready folder", _add_build, "rml_lama.dataset.release:cmd_build"),
    "validate": ("check a release; exit 1 if any error-level check fails", _add_validate,
                 "rml_lama.checks.runner:cmd_validate"),
    "validate-language": ("check a proposed new language against a release", _add_validate_language,
                          "rml_lama.checks.proposal:validate_language"),
    "review-sample": ("draw a seeded sample of a language's queries (answers filled in) for a native review",
                      _add_review_sample, "rml_lama.checks.review:cmd_review_sample"),
    "publish": ("upload a release folder to the Hugging Face Hub", _add_publish, "rml_lama.dataset.hub:cmd_publish"),
    "evaluate": ("localize knowledge neurons and score the localizers", _add_evaluate,
                 "rml_lama.evaluation.run:cmd_evaluate"),
    "report": ("tables and plots from an evaluation or study run", _add_report,
               "rml_lama.evaluation.report:cmd_report"),
    "edit": ("cross-lingual knowledge editing through localized neurons", _add_edit,
             "rml_lama.applications.edit:cmd_edit"),
    "enhance": ("knowledge enhancement: amplify the neurons found from the languages a model gets right",
                _add_enhance, "rml_lama.applications.enhance:cmd_enhance"),
    "inject": ("new knowledge injection: fine-tune only chosen neurons in some languages", _add_inject,
               "rml_lama.applications.inject:cmd_inject"),
    "train-model": ("train the small default multilingual masked LM", _add_train_model,
                    "rml_lama.testbeds.train:cmd_train_model"),
    "plant": ("write facts into chosen neurons: a model with a known ground truth", _add_plant,
              "rml_lama.testbeds.plant:cmd_plant"),
    "pipeline": ("the main job: build, validate, evaluate the default model, report", _add_pipeline,
                 "rml_lama.pipeline:cmd_pipeline"),
    "list": ("list a registry (localizers, checks, adapters, languages, relations)", _add_list,
             "rml_lama.cli:cmd_list"),
}

LISTABLE = {
    "languages": "rml_lama.schema:LANGUAGES",
    "relations": "rml_lama.schema:RELATIONS",
    "checks": "rml_lama.checks:CHECKS",
    "adapters": "rml_lama.models.registry:ADAPTERS",
    "localizers": "rml_lama.localizers:LOCALIZERS",
}


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def cmd_list(args: argparse.Namespace) -> int:
    registry = _resolve(LISTABLE[args.what])
    width = max(len(str(key)) for key in registry)
    for key, entry in registry.items():
        doc = getattr(entry, "description", None) or getattr(entry, "label", None) or getattr(entry, "name", "")
        if not doc and getattr(entry, "__doc__", None):
            doc = entry.__doc__.strip().splitlines()[0]
        print(f"{str(key):<{width}}  {doc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rml-lama", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter))
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_resolve(COMMANDS[args.command][2])(args) or 0)
    except RmlLamaError as error:
        print(f"rml-lama {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rml-lama {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rml-lama list checks | head`: the reader left; nothing to report
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-language expectations of the validation suite, read from `validation/languages.json`."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Optional, Union

from ..errors import InputError, RmlLamaError
from ..paths import EXPECTATIONS_ENV, PACKAGED_EXPECTATIONS, REPOSITORY_EXPECTATIONS
from ..schema import LANG_CODE_PATTERN

"""In the repository a link to validation/languages.json; an installed wheel carries the file itself."""
DEFAULT_PATH = REPOSITORY_EXPECTATIONS if REPOSITORY_EXPECTATIONS.is_file() else PACKAGED_EXPECTATIONS


@dataclass(frozen=True)
class LanguageExpectation:
    code: str
    name: str
    script: str
    langdetect: tuple[str, ...]
    final_punct: str
    spaced: bool
    core: bool
    min_rephrasings: int
    min_mean_rephrasings: float
    min_langid_agreement: float
    short_text_letters: int
    min_script_share: float
    object_final_required: bool
    max_answer_tokens: int
    langid_sample: int
    min_templates_per_relation: int
    min_core_coverage: float
    text_quality_required: bool = True
    text_quality_note: str = ""


_FIELDS = {f.name for f in fields(LanguageExpectation)} - {"code"}


@dataclass(frozen=True)
class Expectations:
    languages: dict[str, LanguageExpectation]
    path: Optional[Path] = None

    def __getitem__(self, code: str) -> LanguageExpectation:
        try:
            return self.languages[code]
        except KeyError:
            raise RmlLamaError(
                f"no expectations for language {code!r} in {self.path}; add an entry "
                f"(script, langdetect, final_punct, ...) there"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self.languages

    @property
    def core(self) -> tuple[str, ...]:
        return tuple(code for code, lang in self.languages.items() if lang.core)

    def with_overrides(self, code: str, **changes) -> Expectations:
        languages = dict(self.languages)
        languages[code] = replace(self[code], **changes)
        return Expectations(languages, self.path)


def expectations_path(path: Union[str, Path, None] = None) -> Path:
    return Path(path or os.environ.get(EXPECTATIONS_ENV) or DEFAULT_PATH)


def load_expectations(path: Union[str, Path, None] = None) -> Expectations:
    """Read the expectations file (default: the repository's validation/languages.json)."""
    path = expectations_path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RmlLamaError(f"{path}: expectations file not found (set {EXPECTATIONS_ENV})") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON ({error})", path) from None
    if not isinstance(document, dict) or not isinstance(document.get("languages"), dict):
        raise InputError("expected an object with a 'languages' object", path, field="languages")
    defaults = document.get("defaults", {})
    languages = {}
    for code, entry in document["languages"].items():
        if not LANG_CODE_PATTERN.fullmatch(code):
            raise InputError(f"{code!r} is not a language code (2-3 letters, then optional -subtags; it becomes "
                             "part of paths)", path, field=f"languages.{code}")
        merged = {**defaults, **(entry if isinstance(entry, dict) else {})}
        missing = sorted(_FIELDS - set(merged))
        if missing:
            raise InputError(f"language {code!r} lacks {', '.join(missing)}", path, field=missing[0])
        values = {name: merged[name] for name in _FIELDS}
        values["langdetect"] = tuple(values["langdetect"])
        languages[code] = LanguageExpectation(code=code, **values)
    return Expectations(languages, path)

"""Readers of the raw sources: facts and templates as typed rows, checksums verified, one clear error per bad line.

The vendored copy lives in `rml_lama/data/sources/` (see its PROVENANCE.json): each `.jsonl` is stored as
`.jsonl.gz` and `SHA256SUMS` holds the sha256 of every *uncompressed* file. `SourceSet` reads that folder (or
another one of the same layout, compressed or not); `read_template_dir` / `read_fact_dir` read a user's
folder of `P*.jsonl` files (mParaRel pattern format / mLAMA fact format), e.g. for a proposed new language.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import InputError
from ..paths import SHIPPED_SOURCES
from ..schema import LANGUAGES, RELATIONS

CHECKSUMS = "SHA256SUMS"

MLAMA_DIR = "mlama1.1/datasets/mlama1.1"
MPARAREL_PATTERNS_DIR = "mpararel/data/mpararel_reviewed/patterns"
MPARAREL_TUPLES_DIR = "mpararel/data/mpararel_reviewed/tuples"
PARAREL_DIR = "pararel/data/pattern_data/graphs_json"
QLOC_DIR = "query-localization-mlama/my_mlama"
QLOC_FILE = "final_template.jsonl"
QLOC_ALIGNED_FILE = "final_template_aligned.jsonl"
QLOC_PIVOT = "en"  # the query-localization translations follow the English list line by line

_RELATION_FILE = re.compile(r"^(P\d+)\.jsonl(\.gz)?$")


# ----------------------------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class Fact:
    """One fact of one language, as mLAMA stores it (labels in that language)."""

    relation: str
    sub_uri: str
    obj_uri: str
    sub_label: str
    obj_label: str
    lineid: int
    uuid: Optional[str] = None  # absent in mParaRel's zh-hans / zh-hant tuples

    @property
    def key(self) -> tuple[str, str, str]:
        """The language-independent join key (relation, sub_uri, obj_uri)."""
        return (self.relation, self.sub_uri, self.obj_uri)


@dataclass(frozen=True)
class Template:
    """One cloze template of a relation with `[X]` (subject) and `[Y]` (object), as found in its source."""

    relation: str
    pattern: str
    checked_by_human: bool = False  # mParaRel: reviewed by a native speaker
    aligned_index: Optional[int] = None  # query-localization: index of the English template it translates
    in_aligned_set: bool = False  # query-localization: listed in final_template_aligned.jsonl


# -------------------------------------------------------------------------------------- line parsing
def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 ({error.reason})", path, line) from None


def iter_json_lines(data: bytes, path: Path) -> Iterator[tuple[int, dict]]:
    """(1-based line number, JSON object) for each non-blank line; InputError on bad JSON or a non-object."""
    for number, text in enumerate(_decode(data, path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON ({error.msg} at column {error.colno})", path, number) from None
        if not isinstance(obj, dict):
            raise InputError(f"expected a JSON object, got {type(obj).__name__}", path, number)
        yield number, obj


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def field_value(obj: dict, name: str, kind: type, path: Path, line: int, required: bool = True) -> Any:
    """obj[name], checked to be of `kind` (non-blank for str); InputError naming file, line and field otherwise.

    A missing optional field gives None."""
    if name not in obj:
        if required:
            raise InputError("missing field", path, line, name)
        return None
    value = obj[name]
    wrong_int = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_int:
        raise InputError(f"expected {_TYPE_NAMES[kind]}, got {json.dumps(value, ensure_ascii=False)[:60]}",
                         path, line, name)
    if kind is str and not value.strip():
        raise InputError("empty string", path, line, name)
    return value


def parse_facts(data: bytes, path: Path, relation: str) -> list[Fact]:
    """Facts of one mLAMA-format file (`sub_uri, obj_uri, sub_label, obj_label, lineid[, uuid]` per line)."""
    fast = _parse_facts_fast(data, relation)
    if fast is not None:
        return fast
    facts = []  # the careful path: finds and names the first bad line and field
    for line, obj in iter_json_lines(data, path):
        facts.append(Fact(
            relation=relation,
            sub_uri=field_value(obj, "sub_uri", str, path, line),
            obj_uri=field_value(obj, "obj_uri", str, path, line),
            sub_label=field_value(obj, "sub_label", str, path, line),
            obj_label=field_value(obj, "obj_label", str, path, line),
            lineid=field_value(obj, "lineid", int, path, line),
            uuid=field_value(obj, "uuid", str, path, line, required=False),
        ))
    return facts


def _parse_facts_fast(data: bytes, relation: str) -> Optional[list[Fact]]:
    """All facts when every line is well-formed (one json.loads for the file), else None."""
    try:
        text = data.decode("utf-8")
        rows = json.loads("[" + ",".join(line for line in text.splitlines() if line.strip()) + "]")
        if any("uuid" in o and type(o["uuid"]) is not str for o in rows):
            return None
        facts = [Fact(relation, o["sub_uri"], o["obj_uri"], o["sub_label"], o["obj_label"], o["lineid"],
                      o.get("uuid")) for o in rows]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
    for fact in facts:
        if not (type(fact.sub_uri) is str and type(fact.obj_uri) is str and type(fact.sub_label) is str
                and type(fact.obj_label) is str and type(fact.lineid) is int
                and (fact.uuid is None or type(fact.uuid) is str)
                and fact.sub_uri.strip() and fact.obj_uri.strip() and fact.sub_label.strip()
                and fact.obj_label.strip() and (fact.uuid is None or fact.uuid.strip())):
            return None
    return facts


def parse_patterns(data: bytes, path: Path, relation: str) -> list[Template]:
    """Templates of one mParaRel-format file (`pattern[, checked-by-human]` per line)."""
    return [
        Template(relation, field_value(obj, "pattern", str, path, line),
                 bool(field_value(obj, "checked-by-human", bool, path, line, required=False)))
        for line, obj in iter_json_lines(data, path)
    ]


def parse_relation_templates(data: bytes, path: Path, key: str) -> list[Template]:
    """Templates of a file with `relation` and `key` ("template" for mLAMA, "pattern" for query-localization)."""
    return [
        Template(field_value(obj, "relation", str, path, line), field_value(obj, key, str, path, line))
        for line, obj in iter_json_lines(data, path)
    ]


def relation_of_file(path: Path, known_only: bool = True) -> Optional[str]:
    """"P36" for `P36.jsonl` / `P36.jsonl.gz`; None for other names; InputError for an unknown relation."""
    match = _RELATION_FILE.match(path.name)
    if not match:
        return None
    if known_only and match.group(1) not in RELATIONS:
        raise InputError(f"unknown relation {match.group(1)} (known: the 41 mLAMA T-REx relations)", path)
    return match.group(1)


def _read_maybe_gzip(path: Path) -> bytes:
    if path.is_dir():
        raise InputError("a folder, not a file", path)
    try:
        data = path.read_bytes()
    except OSError as error:  # a symlink loop, a dangling link, no permission
        raise InputError(f"cannot read the file ({error.strerror or error})", path) from None
    if path.suffix == ".gz":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise InputError(f"not a readable gzip file ({error})", path) from None
    return data


def _relation_files(folder: Union[str, Path]) -> list[tuple[str, Path]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", folder)
    files = sorted((relation_of_file(p), p) for p in folder.iterdir() if relation_of_file(p, known_only=False))
    if not files:
        raise InputError("no P*.jsonl files in the folder", folder)
    return files


# ------------------------------------------------------------------------------------ user folders
def read_template_dir(folder: Union[str, Path]) -> dict[str, list[Template]]:
    """A user's folder of `P<id>.jsonl[.gz]` template files, mParaRel format (`{"pattern": ..., "checked-by-human": ...}`).

    Returns {relation: templates in file order}, relations sorted. InputError (file, line, field) on bad input.
    """
    return {rel: parse_patterns(_read_maybe_gzip(path), path, rel) for rel, path in _relation_files(folder)}


def read_fact_dir(folder: Union[str, Path]) -> list[Fact]:
    """A user's folder of `P<id>.jsonl[.gz]` fact files in mLAMA format; facts sorted by (relation, lineid)."""
    facts = [fact for rel, path in _relation_files(folder) for fact in parse_facts(_read_maybe_gzip(path), path, rel)]
    return sorted(facts, key=lambda fact: (fact.relation, fact.lineid, fact.sub_uri, fact.obj_uri))


# -------------------------------------------------------------------------------------- source set
def _mlama_code(lang: str) -> Optional[str]:
    return LANGUAGES[lang].mlama if lang in LANGUAGES else lang


def _mpararel_code(lang: str) -> Optional[str]:
    return LANGUAGES[lang].mpararel if lang in LANGUAGES else lang


class SourceSet:
    """The raw sources in one folder (default: the copy shipped in the package), read with checksums verified.

    Language arguments are schema codes ("zh" reads mLAMA `zh` and mParaRel `zh-hans`); a code not in
    schema.LANGUAGES is used as the source's own code (e.g. "sv"). Each file is read, verified and parsed
    once per SourceSet. Files are found as `<name>.jsonl.gz` or `<name>.jsonl`.
    """

    def __init__(self, root: Union[str, Path, None] = None, verify_checksums: bool = True):
        self.root = Path(root) if root is not None else SHIPPED_SOURCES
        if not self.root.is_dir():
            raise InputError("sources folder not found", self.root)
        self.verify_checksums = verify_checksums
        self._sums: Optional[dict[str, str]] = None
        self._cache: dict[tuple, Any] = {}

    # -- files
    @property
    def checksums(self) -> dict[str, str]:
        """{upstream relative path: sha256 of the uncompressed file} from SHA256SUMS."""
        if self._sums is None:
            path = self.root / CHECKSUMS
            if not path.is_file():
                raise InputError(f"missing {CHECKSUMS}: cannot verify the sources", path)
            sums = {}
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if text.strip():
                    digest, sep, rel = text.partition("  ")
                    if not sep or len(digest) != 64:
                        raise InputError("expected '<sha256>  <path>'", path, number)
                    sums[rel] = digest
            self._sums = sums
        return self._sums

    def _locate(self, rel: str) -> Optional[Path]:
        for candidate in (self.root / (rel + ".gz"), self.root / rel):
            if candidate.is_file():
                return candidate
        return None

    def exists(self, rel: str) -> bool:
        return self._locate(rel) is not None

    def read_bytes(self, rel: str) -> tuple[bytes, Path]:
        """The uncompressed content of an upstream-relative path, checked against SHA256SUMS."""
        path = self._locate(rel)
        if path is None:
            raise InputError("source file missing", self.root / rel)
        data = _read_maybe_gzip(path)
        if self.verify_checksums:
            expected = self.checksums.get(rel)
            if expected is None:
                raise InputError(f"not listed in {self.root / CHECKSUMS}", path)
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise InputError(f"sha256 mismatch: expected {expected[:12]}..., got {actual[:12]}... "
                                 f"(the file was changed or corrupted)", path)
        return data, path

    def verify(self) -> int:
        """Check every file listed in SHA256SUMS; return how many. InputError naming the first bad one."""
        for rel in sorted(self.checksums):
            self.read_bytes(rel)
        return len(self.checksums)

    def _cached(self, key: tuple, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _relations_in(self, folder: str) -> list[str]:
        directory = self.root / folder
        if not directory.is_dir():
            return []
        return sorted({rel for p in directory.iterdir() if (rel := relation_of_file(p, known_only=False))})

    # -- facts
    def facts(self, lang: str) -> list[Fact]:
        """mLAMA 1.1 facts of a language (all its relations), in (relation, file order)."""
        code = _mlama_code(lang)
        return self._cached(("facts", code), lambda: self._read_facts(f"{MLAMA_DIR}/{code}") if code else [])

    def zh_hans_facts(self) -> list[Fact]:
        """mParaRel's zh-hans tuples: the mLAMA facts with labels re-fetched in Simplified script."""
        return self._cached(("facts", "zh-hans"), lambda: self._read_facts(f"{MPARAREL_TUPLES_DIR}/zh-hans"))

    def _read_facts(self, folder: str) -> list[Fact]:
        facts = []
        for rel in self._relations_in(folder):
            data, path = self.read_bytes(f"{folder}/{rel}.jsonl")
            facts.extend(parse_facts(data, path, rel))
        return facts

    def fact_languages(self) -> list[str]:
        """mLAMA language codes that have fact files."""
        directory = self.root / MLAMA_DIR
        return sorted(p.name for p in directory.iterdir() if p.is_dir() and self._relations_in(f"{MLAMA_DIR}/{p.name}"))

    # -- templates
    def mlama_templates(self, lang: str) -> list[Template]:
        """mLAMA's one template per relation (all 49 rows, Google-RE names included), file order."""
        code = _mlama_code(lang)

        def build():
            rel = f"{MLAMA_DIR}/{code}/templates.jsonl"
            if not code or not self.exists(rel):
                return []
            data, path = self.read_bytes(rel)
            return parse_relation_templates(data, path, "template")

        return self._cached(("mlama-templates", code), build)

    def mpararel_templates(self, lang: str) -> list[Template]:
        """mParaRel reviewed patterns of a language, (relation, file order); `checked_by_human` as stored."""
        code = _mpararel_code(lang)

        def build():
            folder = f"{MPARAREL_PATTERNS_DIR}/{code}"
            templates = []
            for rel in self._relations_in(folder) if code else []:
                data, path = self.read_bytes(f"{folder}/{rel}.jsonl")
                templates.extend(parse_patterns(data, path, rel))
            return templates

        return self._cached(("mpararel", code), build)

    def pararel_templates(self) -> list[Template]:
        """ParaRel's English patterns (graphs_json), (relation, file order)."""

        def build():
            templates = []
            for rel in self._relations_in(PARAREL_DIR):
                data, path = self.read_bytes(f"{PARAREL_DIR}/{rel}.jsonl")
                templates.extend(parse_patterns(data, path, rel))
            return templates

        return self._cached(("pararel",), build)

    def qloc_templates(self, lang: str) -> list[Template]:
        """Query-localization templates of a language (en fr fi hu ja ko), file order, with their alignment.

        The translations in `final_template.jsonl` follow the English list line by line, but some languages
        lost or merged lines for some relations. We take a template as the translation of English line i
        (`aligned_index = i`) only where that relation has exactly as many lines as in English; elsewhere
        `aligned_index` is None. `in_aligned_set` marks the lines listed in `final_template_aligned.jsonl`.
        """
        qloc = LANGUAGES[lang].qloc if lang in LANGUAGES else None
        if not qloc:
            return []
        return self._cached(("qloc", qloc), lambda: self._read_qloc(qloc))

    def _qloc_rows(self, qloc: str, name: str) -> list[Template]:
        rel = f"{QLOC_DIR}/{qloc}/{name}"
        if not self.exists(rel):
            return []
        data, path = self.read_bytes(rel)
        return parse_relation_templates(data, path, "pattern")

    def _read_qloc(self, qloc: str) -> list[Template]:
        rows = self._qloc_rows(qloc, QLOC_FILE)
        aligned = {(t.relation, t.pattern) for t in self._qloc_rows(qloc, QLOC_ALIGNED_FILE)}
        pivot = LANGUAGES[QLOC_PIVOT].qloc
        pivot_rows = rows if qloc == pivot else self._qloc_rows(pivot, QLOC_FILE)
        pivot_counts = _count_by_relation(pivot_rows)
        counts = _count_by_relation(rows)
        seen: dict[str, int] = {}
        out = []
        for row in rows:
            index = seen.get(row.relation, 0)
            seen[row.relation] = index + 1
            is_aligned = counts[row.relation] == pivot_counts.get(row.relation)
            out.append(Template(row.relation, row.pattern, aligned_index=index if is_aligned else None,
                                in_aligned_set=(row.relation, row.pattern) in aligned))
        return out


def _count_by_relation(rows: list[Template]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.relation] = counts.get(row.relation, 0) + 1
    return counts

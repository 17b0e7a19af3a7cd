"""Korean: particle allomorphy after a slot (은/는, 이/가, 을/를, 과/와, 으로/로, the copula), by the final sound
of the word that fills it. Used when generating queries (`fill`) and by the `korean-particles` check
(`row_error`), so that both read a label the same way."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from ...schema import MASK

_VOWEL, _RIEUL, _CONSONANT = "vowel", "rieul", "consonant"

# (form after a consonant, form after a vowel, neutral written form). 으로/로 also takes 로 after ㄹ.
_KO_PARTICLES: tuple[tuple[str, str, str], ...] = (
    ("이었습니다", "였습니다", "(이)었습니다"),
    ("이었어요", "였어요", "(이)었어요"),
    ("이었다", "였다", "(이)었다"),
    ("이에요", "예요", "(이)에요"),
    ("이라고", "라고", "(이)라고"),
    ("이라는", "라는", "(이)라는"),
    ("이라", "라", "(이)라"),
    ("이며", "며", "(이)며"),
    ("이고", "고", "(이)고"),
    ("이나", "나", "(이)나"),
    ("이랑", "랑", "(이)랑"),
    ("으로", "로", "(으)로"),
    ("은", "는", "은(는)"),
    ("이", "가", "이(가)"),
    ("을", "를", "을(를)"),
    ("과", "와", "과(와)"),
)
# The copula 이다 is also correct after a vowel (다 is its optional contraction): 다 after a consonant
# becomes 이다, 이다 is never changed.
_KO_COPULA = ("이다", "다")
# What may follow a particle inside the glued run: "로부터", "로서", "와의", "로는", ...
_KO_CONTINUATIONS = ("", "의", "부터", "서", "써", "는", "도", "만")

_KO_LETTER_FINAL = dict.fromkeys("ABCDEFGHIJKOPQRSTUVWXYZ", _VOWEL)
_KO_LETTER_FINAL.update({"L": _RIEUL, "M": _CONSONANT, "N": _CONSONANT})  # 엘, 엠, 엔
# Sino-Korean digit names: 영 일 이 삼 사 오 육 칠 팔 구.
_KO_DIGIT_FINAL = {
    "0": _CONSONANT, "1": _RIEUL, "2": _VOWEL, "3": _CONSONANT, "4": _VOWEL,
    "5": _VOWEL, "6": _CONSONANT, "7": _RIEUL, "8": _RIEUL, "9": _VOWEL,
}
# Trailing zeros: 십 백 천 (1-3 zeros), then 만 억 조 경 for each group of four.
_KO_ZEROS_FINAL = {1: _CONSONANT, 2: _CONSONANT, 3: _CONSONANT}
_KO_MYRIAD_FINAL = {1: _CONSONANT, 2: _CONSONANT, 3: _VOWEL, 4: _CONSONANT}


@lru_cache(maxsize=1 << 16)
def korean_final_sound(label: str) -> Optional[str]:
    """'vowel', 'rieul' (final ㄹ) or 'consonant' for the sound a Korean reader ends `label` with, or None.

    Hangul syllables by their final consonant (batchim); digits by their Sino-Korean reading ("3" 삼,
    "2" 이, "10" 십, "1000" 천); a final upper-case Latin letter (an acronym) by its letter name ("L" 엘,
    "M" 엠, "N" 엔, the others end in a vowel). A trailing parenthesis is skipped ("커피 (음료)" -> 커피).
    None when the reading is unknown (a Latin word, Han characters, ...).
    """
    text = label.strip()
    while text.endswith(")") and "(" in text:
        text = text[: text.rindex("(")].rstrip()
    text = text.rstrip(" .,!?\"'”’」』")
    if not text:
        return None
    last = text[-1]
    if "\uac00" <= last <= "\ud7a3":
        batchim = (ord(last) - 0xAC00) % 28
        return _VOWEL if batchim == 0 else _RIEUL if batchim == 8 else _CONSONANT
    if last.isascii() and last.isdigit():
        return _korean_number_final(text)
    if last.isascii() and last.isalpha():
        run = re.search(r"[A-Za-z]+$", text).group(0)
        return _KO_LETTER_FINAL[last] if run.isupper() else None
    return None


def _korean_number_final(text: str) -> str:
    digits = re.search(r"[0-9]+$", text).group(0)
    after_point = text[: -len(digits)].endswith(".")
    significant = digits.rstrip("0")
    zeros = len(digits) - len(significant)
    if zeros == 0 or not significant or after_point:
        return _KO_DIGIT_FINAL[digits[-1]]
    if zeros % 4:
        return _KO_ZEROS_FINAL[zeros % 4]
    return _KO_MYRIAD_FINAL.get(zeros // 4, _CONSONANT)


def _korean_candidates() -> tuple[tuple[str, str, Optional[str], str], ...]:
    """(form found in a template, consonant form, vowel form, neutral form), longest forms first."""
    candidates = []
    for consonant_form, vowel_form, neutral in _KO_PARTICLES:
        for form in (consonant_form, vowel_form):
            candidates.append((form, consonant_form, vowel_form, neutral))
    for form in _KO_COPULA:
        candidates.append((form, "이다", None, "이다"))
    return tuple(sorted(candidates, key=lambda c: -len(c[0])))


_KO_CANDIDATES = _korean_candidates()


def _korean_particle(run: str, final: Optional[str]) -> Optional[tuple[str, str]]:
    """(particle form, rest of run) for a glued Hangul run, or None when it starts with no known particle."""
    if not run:
        return None
    for form, consonant_form, vowel_form, neutral in _KO_CANDIDATES:
        rest = run[len(form):]
        if not run.startswith(form) or rest not in _KO_CONTINUATIONS:
            continue
        if vowel_form is None:  # the copula: keep 이다 after a vowel, 다 -> 이다 after a consonant
            chosen = form if final == _VOWEL else consonant_form
        elif final == _VOWEL or (final == _RIEUL and consonant_form == "으로"):
            chosen = vowel_form
        elif final in (_RIEUL, _CONSONANT):
            chosen = consonant_form
        else:
            chosen = neutral
        return chosen, rest
    return None


def _fill_korean(text: str, slot: str, filler: str, label: str) -> str:
    final = korean_final_sound(label)
    if not _slot_run_re(slot).search(text).group(1):  # nothing glued to the slot
        return text.replace(slot, filler, 1)

    def replace(match: re.Match) -> str:
        run = match.group(1)
        particle = _korean_particle(run, final)
        if particle is None:
            return filler + run
        return filler + particle[0] + particle[1]

    return _slot_run_re(slot).sub(replace, text, count=1)


@lru_cache(maxsize=8)
def _slot_run_re(slot: str) -> re.Pattern:
    return re.compile(re.escape(slot) + r"([\uac00-\ud7a3]*)")


def fill(text: str, slot: str, filler: str, label: str) -> str:
    """Replace `slot` by `filler`, the particle glued to it agreeing with `label`."""
    return _fill_korean(text, slot, filler, label)


# ------------------------------------------------------------------------------------ the check's reading
CHECKED_PARTICLES = {  # written form -> (form after a final consonant, form after a vowel); ㄹ takes the vowel form
    "은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
    "을": ("을", "를"), "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와"),
}
INSTRUMENTAL = ("으로", "로")  # also heads of 으로서/로서, 으로써/로써, 으로부터/로부터
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]*")
HINT_PARTICLES = tuple(CHECKED_PARTICLES) + INSTRUMENTAL + ("이다", "다", "이었", "였", "이라", "라", "이며", "며")


def particle_error(final: Optional[str], tail: str) -> Optional[str]:
    """Why the particle opening `tail` disagrees with a word whose final sound is `final` (None: it agrees)."""
    if final is None or not tail:
        return None
    if tail in CHECKED_PARTICLES:
        consonant, vowel = CHECKED_PARTICLES[tail]
        wanted = consonant if final in (_CONSONANT, _RIEUL) else vowel
        return None if tail == wanted else f"{tail} after a {final}-final word (wants {wanted})"
    if tail.startswith(INSTRUMENTAL[0]):
        return None if final == _CONSONANT else f"으로 after a {final}-final word (wants 로)"
    if tail.startswith(INSTRUMENTAL[1]):
        return None if final in (_VOWEL, _RIEUL) else "로 after a consonant-final word (wants 으로)"
    return None


def row_error(query: str, subject: str, obj: str) -> Optional[str]:
    """Why a query's particles disagree with its subject or its gold object, or None."""
    at = query.find(subject)
    if at >= 0:
        error = particle_error(korean_final_sound(subject), HANGUL_RUN.match(query, at + len(subject)).group())
        if error:
            return f"subject: {error}"
    at = query.find(MASK)
    if at >= 0:
        error = particle_error(korean_final_sound(obj), HANGUL_RUN.match(query, at + len(MASK)).group())
        if error:
            return f"object: {error}"
    return None


def mask_hint(query: str) -> bool:
    """True when a particle whose form depends on the answer's final sound follows [MASK] (이/가, 은/는, ...);
    the invariant copula 이다 / 입니다 gives nothing away."""
    at = query.find(MASK)
    if at < 0:
        return False
    tail = HANGUL_RUN.match(query, at + len(MASK)).group()
    if not tail or tail.startswith(("이다", "입니다", "이었다", "에", "의", "인")):
        return False
    return any(tail.startswith(form) for pair in _KO_PARTICLES for form in pair[:2])

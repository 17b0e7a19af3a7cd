"""Language rules of rml_lama.dataset.morphology, with hand-computed expectations."""
from __future__ import annotations

import pytest

from rml_lama.dataset import morphology as m
from rml_lama.schema import MASK

# ------------------------------------------------------------------------------------------- Chinese


@pytest.mark.parametrize("traditional, simplified", [
    ("臺北", "台北"),
    ("資本", "资本"),
    ("國語", "国语"),
    ("發展", "发展"),
    ("頭髮", "头发"),
])
def test_to_simplified_converts_hand_picked_words(traditional, simplified):
    assert m.to_simplified(traditional) == simplified


def test_to_simplified_leaves_simplified_text_alone():
    assert m.to_simplified("[X]的首都是[Y]。") == "[X]的首都是[Y]。"


# ------------------------------------------------------------------------------------ normalization


@pytest.mark.parametrize("template, lang, expected", [
    ("[X] 的首都是 [Y]", "zh", "[X]的首都是[Y]。"),  # stray spaces, final mark added
    ("[X] 的首都， [Y]", "zh", "[X]的首都，[Y]。"),
    ("[X],由[Y]创造的产品,", "zh", "[X]，由[Y]创造的产品。"),  # ASCII commas, trailing comma dropped
    ("[X] 的資本是 [Y]", "zh", "[X]的资本是[Y]。"),  # Traditional -> Simplified
    ("[X] は [Y] から発生します", "ja", "[X]は[Y]から発生します。"),
    ("[X] Inc の親会社は [Y] です", "ja", "[X] Incの親会社は[Y]です。"),  # slot next to a Latin word keeps it
    ("the capital of [X] is [Y] ", "en", "The capital of [X] is [Y]."),
    ("The capital of [X] is [Y] .", "en", "The capital of [X] is [Y]."),
    ("[X]  was born in   [Y]..", "en", "[X] was born in [Y]."),
    ("[X]의 수도는 [Y]입니다", "ko", "[X]의 수도는 [Y]입니다."),
    ("[X] का जन्म [Y] में हुआ था", "hi", "[X] का जन्म [Y] में हुआ था।"),
])
def test_normalize_template(template, lang, expected):
    assert m.normalize_template(template, lang) == expected


@pytest.mark.parametrize("template, lang", [
    ("[X] 的首都是 [Y]", "zh"), ("the capital of [X] is [Y] ", "en"), ("[X] は [Y] です", "ja"),
])
def test_normalize_template_is_idempotent(template, lang):
    once = m.normalize_template(template, lang)
    assert m.normalize_template(once, lang) == once


# ------------------------------------------------------------------------------------------- repair


@pytest.mark.parametrize("template, lang, reason", [
    ("[X]n] pääoma on [Y]", "fi", "broken-slot"),
    ("[Y], [X] n] pääkaupunki", "fi", "broken-slot"),
    ("[X] on kotoisin [Y]stä]", "fi", "broken-slot"),
    ("[ [X] ]는 [ [Y] ]에 있습니다", "ko", "broken-slot"),
    ("[X] is the capital", "en", "slot-count"),
    ("[X] and [X] are [Y]", "en", "slot-count"),
    ("la creación del lenguaje [Y][X]", "es", "adjacent-slots"),
    ("[X], [Y].", "en", "no-words"),
])
def test_repair_rejects_with_reason(template, lang, reason):
    assert m.repair_template(template, lang) == (None, reason)
    assert reason in m.REJECT_REASONS


@pytest.mark.parametrize("template, lang, expected", [
    ("[x]的首都是[Y]。", "zh", "[X]的首都是[Y]。"),  # lower-case slot
    ("[X]fővárosa [Y]", "hu", "[X] fővárosa [Y]."),  # missing space
    ("[X] az [Y] -ban található", "hu", "[X] az [Y]-ban található."),  # detached suffix
    ("[X] [Y]ban született", "hu", "[X] [Y]-ban született."),  # suffix glued without hyphen
    ("[X]n pääkaupunki, [Y]", "fi", "[X]:n pääkaupunki, [Y]."),
    ("[X] kuoli [Y] ssä", "fi", "[X] kuoli [Y]:ssä."),
    ("[X]: n alkuperäinen kieli on [Y].", "fi", "[X]:n alkuperäinen kieli on [Y]."),
    ("[X]는 [Y]와 (과) 국경을 공유합니다", "ko", "[X]는 [Y]와 국경을 공유합니다."),
    ("●「[X]」はもともと「[Y]」で放映されました", "ja", "「[X]」はもともと「[Y]」で放映されました。"),
])
def test_repair_fixes_glue_and_normalizes(template, lang, expected):
    assert m.repair_template(template, lang) == (expected, None)


# ------------------------------------------------------------------------------------------ lexicon


@pytest.mark.parametrize("template, relation, lang, accepted", [
    ("[X]:n pääkaupunki on [Y].", "P36", "fi", True),
    ("[X]:n pääoma on [Y].", "P36", "fi", False),  # pääoma = financial capital
    ("[X]の首都は[Y]です。", "P36", "ja", True),
    ("[X]の大文字は[Y]です。", "P36", "ja", False),  # 大文字 = upper-case letter
    ("[X]의 수도는 [Y]입니다.", "P36", "ko", True),
    ("[X]의 자본은 [Y]입니다.", "P36", "ko", False),  # 자본 = money capital
    ("[X] 的資本是 [Y]", "P36", "zh", False),  # compared in Simplified script: 资本
    ("[X] 的首都是 [Y]", "P36", "zh", True),
    ("La capitale de [X] est [Y].", "P36", "fr", True),
    ("La majuscule de [X] est [Y].", "P36", "fr", False),
    ("[X] fővárosa [Y].", "P36", "hu", True),
    ("The Capital of [X] is [Y].", "P36", "en", True),  # case-insensitive
    ("[X]の占領は[Y]です。", "P106", "ja", False),  # 占領 = military occupation
    ("[X]の職業は[Y]です。", "P106", "ja", True),
    ("[X]は[Y]を演じます。", "P1303", "ja", False),  # 演じる = act a role, not play an instrument
])
def test_lexicon_accepts_good_and_rejects_mistranslations(template, relation, lang, accepted):
    assert m.lexicon_accepts(template, relation, lang) is accepted


def test_relation_or_language_without_entry_accepts_everything():
    assert m.lexicon_words("P31", "en") == ()
    assert m.lexicon_accepts("[X] is a [Y].", "P31", "en")
    assert m.lexicon_accepts("anything [X] [Y]", "P36", "sv")


# ------------------------------------------------------------------------------------ Korean particles


@pytest.mark.parametrize("label, final", [
    ("도쿄", "vowel"),  # 쿄: no batchim
    ("베를린", "consonant"),  # 린: ㄴ
    ("서울", "rieul"),  # 울: ㄹ
    ("3", "consonant"), ("2", "vowel"), ("7", "rieul"),  # 삼, 이, 칠
    ("10", "consonant"), ("2000", "consonant"),  # 십, 천
    ("L", "rieul"), ("M", "consonant"), ("IBM", "consonant"), ("BBC", "vowel"),  # 엘, 엠, 엠, 씨
    ("Apple", None),  # a Latin word: reading unknown
    ("커피 (음료)", "vowel"),  # the parenthesis is skipped
    ("제퍼디!", "vowel"),
])
def test_korean_final_sound(label, final):
    assert m.korean_final_sound(label) == final


@pytest.mark.parametrize("template, subject, expected", [
    ("[X]는 [Y]에 있습니다.", "도쿄", "도쿄는 [Y]에 있습니다."),
    ("[X]는 [Y]에 있습니다.", "베를린", "베를린은 [Y]에 있습니다."),
    ("[X]가 위치한 나라는 [Y]이다.", "서울", "서울이 위치한 나라는 [Y]이다."),
    ("[X]가 위치한 나라는 [Y]이다.", "부산시", "부산시가 위치한 나라는 [Y]이다."),
    ("[X]를 구성하는 것은 [Y]이다.", "현악 사중주", "현악 사중주를 구성하는 것은 [Y]이다."),
    ("[X]를 구성하는 것은 [Y]이다.", "붕산", "붕산을 구성하는 것은 [Y]이다."),
    ("[X]와 국경을 접한 곳은 [Y]이다.", "몬테네그로", "몬테네그로와 국경을 접한 곳은 [Y]이다."),
    ("[X]와 국경을 접한 곳은 [Y]이다.", "독일", "독일과 국경을 접한 곳은 [Y]이다."),
    ("[X]는 [Y]에 있습니다.", "Apple", "Apple은(는) [Y]에 있습니다."),  # neutral written form
    ("[X]는 [Y]에 있습니다.", "IBM", "IBM은 [Y]에 있습니다."),
    ("[X]는 [Y]에 있습니다.", "LG", "LG는 [Y]에 있습니다."),
    ("[X]의 수도는 [Y]입니다.", "독일", "독일의 수도는 [Y]입니다."),  # 의 does not alternate
])
def test_korean_subject_particles(template, subject, expected):
    assert m.fill_subject(template, "ko", subject) == expected


@pytest.mark.parametrize("text, obj, expected", [
    ("스미스는 [Y]로 일했다.", "교사", f"스미스는 {MASK}로 일했다."),  # vowel: 로
    ("스미스는 [Y]로 일했다.", "서울", f"스미스는 {MASK}로 일했다."),  # ㄹ: 로, not 으로
    ("스미스는 [Y]로 일했다.", "변호인", f"스미스는 {MASK}으로 일했다."),  # consonant: 으로
    ("스미스는 [Y]로부터 왔다.", "베를린", f"스미스는 {MASK}으로부터 왔다."),
    ("스미스는 [Y]로 일했다.", "Google", f"스미스는 {MASK}(으)로 일했다."),
    ("스미스는 [Y]를 연주합니다.", "피아노", f"스미스는 {MASK}를 연주합니다."),
    ("스미스는 [Y]를 연주합니다.", "드럼", f"스미스는 {MASK}을 연주합니다."),
    ("스미스는 [Y]와 국경을 공유합니다.", "독일", f"스미스는 {MASK}과 국경을 공유합니다."),
    ("스미스는 [Y]와의 관계를 유지합니다.", "독일", f"스미스는 {MASK}과의 관계를 유지합니다."),
    ("스미스의 수도는 [Y]이다.", "도쿄", f"스미스의 수도는 {MASK}이다."),  # 이다 kept after a vowel
    ("스미스의 수도는 [Y]다.", "베를린", f"스미스의 수도는 {MASK}이다."),  # 다 -> 이다 after a consonant
    ("스미스의 언어는 [Y]였습니다.", "영어", f"스미스의 언어는 {MASK}였습니다."),
    ("스미스의 언어는 [Y]였습니다.", "독일어", f"스미스의 언어는 {MASK}였습니다."),  # 어: vowel
    ("스미스의 도시는 [Y]였습니다.", "베를린", f"스미스의 도시는 {MASK}이었습니다."),
    ("스미스는 [Y]라고 불린다.", "서울", f"스미스는 {MASK}이라고 불린다."),
    ("스미스는 [Y]가 소유하고 있습니다.", "3M", f"스미스는 {MASK}이 소유하고 있습니다."),  # 엠
    ("스미스는 [Y]에 있습니다.", "서울", f"스미스는 {MASK}에 있습니다."),  # 에 does not alternate
])
def test_korean_object_particles_follow_the_gold_object(text, obj, expected):
    assert m.fill_object_mask(text, "ko", obj) == expected


# ------------------------------------------------------------------------------- Hungarian suffixes


@pytest.mark.parametrize("word, harmony", [
    ("Párizs", "back"), ("Madrid", "back"), ("Afrika", "back"), ("Tokió", "back"),
    ("Berlin", "front"), ("Helsinki", "front"), ("Budapest", "front"), ("Zürich", "front"),
    ("Győr", "rounded"), ("Egyesült Államok", "back"),
    ("BBC", None), ("2010", None), ("Bordeaux", None),
])
def test_hungarian_harmony(word, harmony):
    assert m.hungarian_harmony(word) == harmony


@pytest.mark.parametrize("obj, expected", [
    ("Párizs", f"[X] {MASK}-ban született."),
    ("Berlin", f"[X] {MASK}-ben született."),
    ("Afrika", f"[X] {MASK}-ban született."),
    ("Győr", f"[X] {MASK}-ben született."),
])
def test_hungarian_object_suffix_follows_the_gold_object(obj, expected):
    assert m.fill_object_mask("[X] [Y]-ban született.", "hu", obj) == expected


@pytest.mark.parametrize("template, obj, expected", [
    ("[X] [Y]-hoz kapcsolódik.", "Győr", f"[X] {MASK}-höz kapcsolódik."),
    ("[X] [Y]-hoz kapcsolódik.", "Berlin", f"[X] {MASK}-hez kapcsolódik."),
    ("[X] [Y]-ból származik.", "Berlin", f"[X] {MASK}-ből származik."),
    ("[X] [Y]-on debütált.", "Tokió", f"[X] {MASK}-n debütált."),
    ("[X] határos [Y]-val.", "Kína", f"[X] határos {MASK}-val."),
])
def test_hungarian_suffix_forms(template, obj, expected):
    assert m.fill_object_mask(template, "hu", obj) == expected


@pytest.mark.parametrize("template, subject, expected", [
    ("Az [X]-ben az [Y] a hivatalos nyelv.", "Párizs", "A Párizsban az [Y] a hivatalos nyelv."),
    ("Az [X]-ben az [Y] a hivatalos nyelv.", "Afrika", "Az Afrikában az [Y] a hivatalos nyelv."),  # a -> á
    ("[X]-et [Y] birtokolja.", "Berlin", "Berlint [Y] birtokolja."),
    ("[X]-et [Y] birtokolja.", "Firenze", "Firenzét [Y] birtokolja."),
    ("[X] fővárosa [Y].", "Magyarország", "Magyarország fővárosa [Y]."),
])
def test_hungarian_subject_suffix_is_attached(template, subject, expected):
    assert m.fill_subject(template, "hu", subject) == expected


@pytest.mark.parametrize("subject, expected", [
    ("London", "Londonnal határos [Y]."),  # the v of -val assimilates: the consonant doubles
    ("Párizs", "Párizzsal határos [Y]."),  # a digraph doubles its first letter
    ("Bonn", "Bonnal határos [Y]."),  # no third consonant
    ("Kína", "Kínával határos [Y]."),
    ("Berlin", "Berlinnel határos [Y]."),
])
def test_hungarian_instrumental_assimilation(subject, expected):
    assert m.fill_subject("[X]-val határos [Y].", "hu", subject) == expected


@pytest.mark.parametrize("obj, expected", [
    ("London", f"[X] határos {MASK}-nal."),
    ("Párizs", f"[X] határos {MASK}-zsal."),
    ("Kína", f"[X] határos {MASK}-val."),
])
def test_hungarian_instrumental_after_the_mask(obj, expected):
    assert m.fill_object_mask("[X] határos [Y]-val.", "hu", obj) == expected


@pytest.mark.parametrize("obj, expected", [
    ("gitár", f"[X] {MASK}-t játszik."),  # bare -t after r
    ("zongora", f"[X] {MASK}-t játszik."),
    ("rock", f"[X] {MASK}-ot játszik."),  # linking vowel after k, back
    ("Budapest", f"[X] {MASK}-et játszik."),  # front
])
def test_hungarian_accusative(obj, expected):
    assert m.fill_object_mask("[X] [Y]-t játszik.", "hu", obj) == expected


@pytest.mark.parametrize("template, label", [
    ("[X] [Y]-i származású.", "Berlin"),  # adjectival -i: not a case suffix, unknown
    ("[X] egy [Y]-nyelvű mű.", "angol"),  # a compound, not a suffix
    ("[X] [Y]-ban született.", "BBC"),  # acronym: reading unknown
    ("[X] [Y]-ban született.", "Bordeaux"),  # silent final letter
])
def test_hungarian_unsafe_suffix_drops_the_query(template, label):
    assert m.fill_object_mask(template, "hu", label) is None


# ------------------------------------------------------------------------------- other languages


def test_zh_ja_fill_inserts_no_spaces():
    assert m.fill_subject("[X]的首都是[Y]。", "zh", "法国") == "法国的首都是[Y]。"
    assert m.fill_object_mask("法国的首都是[Y]。", "zh", "巴黎") == f"法国的首都是{MASK}。"
    assert m.fill_subject("[X]の首都は[Y]です。", "ja", "フランス") == "フランスの首都は[Y]です。"


def test_plain_languages_replace_slots():
    text = m.fill_subject("The capital of [X] is [Y].", "en", "France")
    assert text == "The capital of France is [Y]."
    assert m.fill_object_mask(text, "en", "Paris") == f"The capital of France is {MASK}."


# ------------------------------------------------------------------------------------- object-final


@pytest.mark.parametrize("template, lang, final", [
    ("[X]の首都は[Y]です。", "ja", True),
    ("[X]の首都は[Y]である。", "ja", True),
    ("[Y]は[X]の首都です。", "ja", False),
    ("[X]의 수도는 [Y]이다.", "ko", True),
    ("[X]의 수도는 [Y]입니다.", "ko", True),
    ("[X]는 수도 [Y]를 가진 국가입니다.", "ko", False),
    ("The capital of [X] is [Y].", "en", True),
    ("[Y] is the capital of [X].", "en", False),
    ("[X] [Y]-ban született.", "hu", False),
    ("[X]的首都是[Y]。", "zh", True),
    (f"The capital of France is {MASK}.", "en", True),
    (f"프랑스의 수도는 {MASK}입니다.", "ko", True),
])
def test_is_object_final(template, lang, final):
    assert m.is_object_final(template, lang) is final


def test_forbidden_words_reject_a_mistranslation_that_also_has_an_accepted_word():
    from rml_lama.dataset.morphology import lexicon_accepts

    assert lexicon_accepts("[X]の首都は[Y]です。", "P36", "ja")
    assert not lexicon_accepts("首都を持つ[X]は、大文字[Y]。", "P36", "ja")
    assert not lexicon_accepts("[X]的首都大写是[Y]。", "P36", "zh")


# ------------------------------------------------------------------------------------ final punctuation


@pytest.mark.parametrize("query, lang, expected", [
    (f"{MASK} ist die offizielle Religion von Alfons V..", "de", f"{MASK} ist die offizielle Religion von Alfons V."),
    (f"{MASK} owns Fiat S.p.A..", "en", f"{MASK} owns Fiat S.p.A."),
    (f"{MASK}などのミュージシャン魔法。。", "ja", f"{MASK}などのミュージシャン魔法。"),
    (f"The capital of France is {MASK}.", "en", f"The capital of France is {MASK}."),  # nothing to merge
    (f"{MASK} was the language of Kerrang!.", "en", None),  # another mark: no spelling ends in one "."
    (f"{MASK}などのミュージシャンサミー・デイヴィスJr.。", "ja", None),
    (f"Des musiciens de {MASK} comme Y a-t-il un pilote dans l'avion ?.", "fr", None),
    (f"{MASK} released Dots....", "en", None),  # "..." + ".": still two marks after keeping one
])
def test_merge_final_punctuation_keeps_one_mark(query, lang, expected):
    assert m.merge_final_punctuation(query, lang) == expected

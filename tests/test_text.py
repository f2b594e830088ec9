"""Normalisation, codes, dates and language detection."""

import pytest

from text.codes import Code, canonical_codes, code_mentions, find_codes, parse_key
from text.dates import find_dates
from text.language import detect
from text.normalize import clean_display, fold


def test_fold_unifies_arabic_variants_digits_and_vietnamese_diacritics():
    assert fold("أكّد هانوى ١٢٣") == fold("اكد هانوي 123") == "اكد هانوي 123"
    assert fold("Quy định ĐẢNG") == "quy dinh dang"
    assert fold("Quy định", strip_diacritics=False) == "quy định"
    assert fold("بـــناء") == "بناء"  # tatweel


def test_clean_display_keeps_characters_but_cleans_layout():
    raw = "Điều 1.\r\n\r\n\r\nNội  dung\u200b  \nأكّد"
    assert clean_display(raw) == "Điều 1.\n\nNội dung\nأكّد"
    # decomposed Vietnamese becomes composed (NFC)
    assert clean_display("Quy đi\u0323nh") == "Quy định"


@pytest.mark.parametrize("text,expected", [
    ("37-QĐ/TW", "37-QĐ/TW"), ("37/QĐ-TW", "37-QĐ/TW"), ("37-QD/TW", "37-QĐ/TW"),
    ("theo QĐ 37", "37-QĐ"), ("quy định 37", "37-QĐ"), ("Quy dinh 37", "37-QĐ"),
    ("التوجيه رقم 24", "24-CT"), ("chi thi 24", "24-CT"), ("24/CT-TU", "24-CT/TU"),
    ("01-CTr/TU", "01-CTr/TU"), ("67-KL/TU", "67-KL/TU"), ("Directive 24-CT/TU", "24-CT/TU"),
    ("resolution 28", "28-NQ"), ("NQ 39-NQ/TW", "39-NQ/TW"), ("اللائحة 37-QD/TW", "37-QĐ/TW"),
])
def test_codes_are_canonicalised(text, expected):
    assert [c.display for c in find_codes(text)] == [expected]


@pytest.mark.parametrize("text,expected", [
    ("والقرار رقم 18", ["18-NQ", "18-QĐ"]), ("للقرار رقم 18-NQ", ["18-NQ"]),
    ("عملاً باللائحة رقم 37", ["37-QĐ"]), ("وفقاً للتوجيه رقم 24", ["24-CT"]),
    ("وكالخطة رقم 5", ["05-KH"]), ("Nghị quyết 18-NQ", ["18-NQ"]), ("theo 37/QĐ", ["37-QĐ"]),
    ("والمقرر 18", []), ("1.000-KH", []), ("5-2022", []),
])
def test_codes_after_arabic_proclitics_and_without_issuer(text, expected):
    assert [c.display for c in find_codes(text)] == expected


def test_years_and_dates_are_not_codes():
    assert find_codes("kế hoạch 2025, giai đoạn 2022-2025, 16/12/2024") == []


def test_partial_code_matches_full_code_of_same_number_and_type_only():
    full = Code(37, "QĐ", "TW")
    assert Code(37, "QĐ").matches(full)
    assert not Code(37, "NQ").matches(full)
    assert not Code(38, "QĐ").matches(full)
    assert not Code(9, "NQ", "TW").matches(Code(9, "NQ", "TU"))
    assert parse_key(full.key) == full


@pytest.mark.parametrize("text,expected", [
    ("Theo nguồn, Nghị quyết 18 của Trung ương", "Theo nguồn, Nghị quyết 18-NQ/TW của Trung ương"),
    ("theo quy định QD 37.", "theo quy định 37-QĐ/TW."),
    ("The Politburo's 39/NQ-TW covers", "The Politburo's 39-NQ/TW covers"),
    ("Directive No. 24 names them", "Directive No. 24-CT/TU names them"),
    ("التوجيه رقم 24. القرار رقم 18", "التوجيه رقم 24-CT/TU. القرار رقم 18-NQ/TW"),
    ("Chỉ thị 24/CT-TU năm 2023", "Chỉ thị 24-CT/TU năm 2023"),
    ("Nghị quyết số 39-NQ/TW", "Nghị quyết số 39-NQ/TW"),  # already as the sources write it
    ("Quy định 38 và Kết luận 67", "Quy định 38 và Kết luận 67"),  # no known code fits
    ("Nghị quyết 28 ngày 5/2/2022", "Nghị quyết 28 ngày 5/2/2022"),  # two known codes fit: unchanged
])
def test_answer_codes_take_the_form_the_sources_write(text, expected):
    known = find_codes("18-NQ/TW 37-QĐ/TW 39-NQ/TW 24-CT/TU 28-NQ/TW 28-NQ/TU")
    assert canonical_codes(text, known) == expected


def test_code_mentions_are_located_in_the_original_text():
    text = "Theo Quyết định  37/QĐ-TW và Nghị quyết 18"
    spans = [(text[s:e], text[n:e], c.display, word) for s, e, n, c, word in code_mentions(text)]
    assert spans == [("37/QĐ-TW", "37/QĐ-TW", "37-QĐ/TW", False), ("Nghị quyết 18", "18", "18-NQ", True)]


def test_dates_in_three_languages():
    assert find_dates("ban hành ngày 18 tháng 7 năm 2023") == ["2023-07-18"]
    assert find_dates("issued on July 18, 2023 and 5 August 2012") == ["2023-07-18", "2012-08-05"]
    assert find_dates("صدر في 18 يوليو 2023") == ["2023-07-18"]
    assert find_dates("Báo Dân trí•16/12/2024") == ["2024-12-16"]
    assert find_dates("tháng 12/2022") == ["2022-12"]
    assert find_dates("32/13/2020") == []


@pytest.mark.parametrize("text,lang", [
    ("Chỉ thị 24 của Thành ủy Hà Nội nói về gì?", "vi"),
    ("tu dau nhiem ky nganh to chuc tham muu trinh bao nhieu de an?", "vi"),
    ("What must party members not do under 37-QĐ/TW?", "en"),
    ("wats the weather in ha long bay this wknd", "en"),
    ("كم عدد أعضاء الحزب في لجنة الحزب بهانوي؟", "ar"),
    # English prose quoting a Vietnamese phrase and a name stays English
    ("Articles 1 to 5 each define one standard: diligence, thrift, integrity, uprightness and "
     "selfless devotion to the common good (cần, kiệm, liêm, chính, chí công vô tư); General "
     "Secretary Tô Lâm signed it.", "en"),
])
def test_language_detection(text, lang):
    assert detect(text) == lang


def test_the_terminology_table_names_each_body_and_type_in_the_three_languages():
    from text.terminology import bodies_in, level_of_issuer, terms, type_name

    for term in terms():
        assert set(term.names) == {"vi", "en", "ar"} and all(term.names.values()), term.key
        if term.kind == "body":
            for name in term.names.values():  # each name, in any language, is found as that body
                assert [key for _, key in bodies_in(f"… {name} …")] == [term.key], name
    three = "Ban Thường vụ Thành ủy Hà Nội; the City Party Committee; لجنة الحزب بالمدينة"
    assert [key for _, key in bodies_in(three)] == ["TU:city"] * 3
    assert [type_name("QĐ", lang) for lang in ("vi", "en", "ar")] == ["Quy định", "Regulation", "اللائحة"]
    assert [level_of_issuer(i) for i in ("TW", "UBKTTW", "TU", "HU", None)] == [
        "central", "central", "local", "local", None]


def test_a_sentence_does_not_end_at_an_abbreviation_a_number_follows():
    from text.sentences import split_sentences

    assert split_sentences("It came with Directive No. 35-CT/TW on congresses. Then Art. 5 applied. Điều 1. Nói.") == [
        "It came with Directive No. 35-CT/TW on congresses.", "Then Art. 5 applied.", "Điều 1. Nói."]

"""Vietnamese province names found in Arabic transliteration and shown to the model."""

from text.transliteration import annotate_places, arabic_skeleton, latin_skeleton


def test_both_spellings_reduce_to_one_skeleton():
    assert latin_skeleton("Quảng") == arabic_skeleton("كوانغ") == arabic_skeleton("كوانج") == "KNG"
    assert "".join(map(latin_skeleton, ["Nghệ", "An"])) == "".join(map(arabic_skeleton, ["نغي", "آن"]))


def test_a_province_gets_its_vietnamese_name_beside_its_arabic_spelling():
    text = "بشأن بناء وتطوير مقاطعة نغي آن حتى عام 2030. وقالت لجنة الحزب في كوانج بينه إن"
    assert annotate_places(text, "vi") == ("بشأن بناء وتطوير مقاطعة نغي آن (Nghệ An) حتى عام 2030. "
                                           "وقالت لجنة الحزب في كوانج بينه (Quảng Bình) إن")
    assert "(Nghe An)" in annotate_places(text, "en") and "(Quang Binh)" in annotate_places(text, "en")


def test_ordinary_words_and_peoples_names_are_not_taken_for_places():
    # "Bùi Anh Tuấn said that": T N N is also Tây Ninh's skeleton, but "إنه" is a function word;
    # a three-letter skeleton counts only after a word such as "province"
    for text in ("قال بوي آنه توان إنه منذ أن أصبح", "وصل نغي آن أمس", "كما تم في مدينة هانوي"):
        assert annotate_places(text, "vi") == text

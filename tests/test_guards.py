"""The checks that stand between the small model and the member."""

from answering import checks as guards

EVIDENCE = ["تضم لجنة الحزب في هانوي أكثر من 480 ألف عضو (أكثر من 9% من أعضاء الحزب)، "
            "وأصدر المكتب السياسي القرار رقم 39-NQ/TW بتاريخ 18 يوليو 2023."]


def test_markers_and_invalid_markers_removed():
    assert guards.markers("a [1] b [2, 3] c [4،5]") == [1, 2, 3, 4, 5]
    text, used = guards.clean_markers("Hanoi has 480,000 members [1][7]. Also [2, 9] .", n_sources=2)
    assert used == [1, 2]
    assert "[7]" not in text and "9]" not in text and text.endswith("[2].")


def test_numbers_in_no_source_are_caught():
    ok = "Hà Nội có hơn 480 nghìn đảng viên, hơn 9% cả nước [1]."
    assert guards.unsupported_numbers(ok, EVIDENCE, "bao nhiêu?") == []
    assert guards.unsupported_numbers("Hanoi has 480,000 members [1].", EVIDENCE, "") == []  # 480 ألف
    assert guards.unsupported_numbers("Hanoi has 520,000 members [1].", EVIDENCE, "") == ["520,000"]
    assert guards.unsupported_numbers("Nghị quyết ban hành năm 2019 [1].", EVIDENCE, "") == ["2019"]
    # Arabic-Indic digits are the same numbers
    assert guards.unsupported_numbers("أكثر من ٤٨٠ ألف عضو [1]", EVIDENCE, "") == []
    # list numbering and citation markers are not facts
    assert guards.unsupported_numbers("1. 480 nghìn [1]\n2. 9% [1]", EVIDENCE, "") == []
    # a number the member wrote in the question may be repeated
    assert guards.unsupported_numbers("Trong giai đoạn 2022-2025 [1]", EVIDENCE, "giai đoạn 2022-2025") == []


def test_codes_in_no_source_are_caught():
    assert guards.unsupported_codes("Nghị quyết 39-NQ/TW [1]", EVIDENCE, "") == []
    assert guards.unsupported_codes("theo Quy định 37-QĐ/TW [1]", EVIDENCE, "") == ["37-QĐ/TW"]
    assert guards.unsupported_codes("theo Quy định 37-QĐ/TW [1]", EVIDENCE, "quy định 37 là gì") == []


def test_wrong_language_is_caught():
    assert guards.language_problem("Hà Nội có hơn 480 nghìn đảng viên, chiếm hơn 9% cả nước [1].", "vi") is None
    assert guards.language_problem("Hanoi has more than 480,000 party members, over 9% [1].", "vi")
    assert guards.language_problem("Hà Nội có hơn 480 nghìn đảng viên trong لجنة الحزب الإقليمية [1].", "vi")
    assert guards.language_problem("تضم لجنة الحزب في هانوي أكثر من 480 ألف عضو [1].", "ar") is None
    assert guards.language_problem("Hanoi has more than 480,000 party members [1].", "ar")
    assert guards.language_problem("The Politburo issued resolution 39-NQ/TW in July 2023 [1].", "en") is None
    # quoted source text keeps its language
    assert guards.language_problem("The source says «تضم لجنة الحزب في هانوي أكثر من 480 ألف عضو» [1] "
                                   "about the membership of the Hanoi party committee.", "en") is None


def test_empty_runaway_and_repetition():
    assert guards.runaway_problem("  ") == "empty answer"
    assert "runaway" in guards.runaway_problem("x " * 2000)
    loop = "Đảng bộ Hà Nội có hơn 480 nghìn đảng viên [1]. " * 6
    assert guards.runaway_problem(loop) == "answer repeats itself"
    assert guards.runaway_problem("Đảng bộ Hà Nội có hơn 480 nghìn đảng viên [1].") is None


def test_check_requires_a_valid_citation():
    answer = "Hà Nội có hơn 480 nghìn đảng viên, chiếm hơn 9% cả nước."
    assert guards.check(answer, lang="vi", evidence=EVIDENCE, question="", n_sources=2) == ["no valid citation marker"]
    assert guards.check(answer + " [3]", lang="vi", evidence=EVIDENCE, question="", n_sources=2) == [
        "no valid citation marker"]
    assert guards.check(answer + " [2]", lang="vi", evidence=EVIDENCE, question="", n_sources=2) == []


def test_trim_to_sentence_keeps_finished_sentences_and_their_marker():
    text = "Hà Nội có hơn 480 nghìn đảng viên [1]. Ngoài ra, thành phố còn có nhiều tổ chức cơ sở đảng mà"
    assert guards.trim_to_sentence(text) == "Hà Nội có hơn 480 nghìn đảng viên [1]."
    text = "Hà Nội có hơn 480 nghìn đảng viên. [1] Thành phố đã"
    assert guards.trim_to_sentence(text) == "Hà Nội có hơn 480 nghìn đảng viên. [1]"


def test_not_in_sources_signal():
    assert guards.says_not_in_sources("NOT_IN_SOURCES")
    assert guards.says_not_in_sources("NOT_IN_SOURCES.")
    assert guards.says_not_in_sources("not in sources")
    assert not guards.says_not_in_sources("Hà Nội có hơn 480 nghìn đảng viên [1]. NOT_IN_SOURCES for the rest")
    assert guards.strip_signal("Hà Nội có hơn 480 nghìn đảng viên [1]. NOT_IN_SOURCES") == \
        "Hà Nội có hơn 480 nghìn đảng viên [1]."
    assert guards.arabic_runs("Hà Nội có لجنة الحزب và «قرار» nhiều") == ["لجنة الحزب"]


def test_dates_written_with_a_month_number_match_sources_that_name_the_month():
    evidence = ["أصدر المكتب السياسي القرار 39-NQ/TW في 18 يوليو 2023", "وفي ديسمبر 2022 صدر التوجيه"]
    for ok in ("ban hành ngày 18/07/2023 [1].", "ngày 18 tháng 7 năm 2023 và tháng 12/2022 [1].",
               "issued on 2023-07-18 [1]."):
        assert guards.unsupported_numbers(ok, evidence, "?") == [], ok
    assert guards.unsupported_numbers("ngày 19/07/2023 [1].", evidence, "?") == ["19", "07"]
    assert guards.unsupported_numbers("tháng 11/2022 [1].", evidence, "?") == ["11"]


def test_english_number_words_become_digits():
    from text.numbers import english_number_words as digits

    assert digits("There are five border guard cadres") == "There are 5 border guard cadres"
    assert digits("Twenty-one members and seventy five cadres") == "21 members and 75 cadres"
    assert digits("Nineteen provinces and thirty communes") == "19 provinces and 30 communes"
    # "one" is mostly a pronoun; "two-year" is not a count; words inside words are left alone
    assert digits("one of the two-year terms, someone, often") == "one of the two-year terms, someone, often"


def test_numbers_the_sources_write_as_words_support_digits():
    from answering.checks import unsupported_numbers
    from text.numbers import word_numbers

    source = "هناك سبعة كوادر يشاركون في لجان الحزب، وخمسة كوادر يشغلون منصب نائب الأمين"
    assert word_numbers(source) == {"7", "5"}
    assert word_numbers("có bảy đồng chí") == {"7"} and word_numbers("seventy-three committees") == {"73"}
    assert unsupported_numbers("Five, that is 5 cadres [1].", [source], "How many?") == []
    assert unsupported_numbers("6 cadres [1].", [source], "How many?") == ["6"]


def test_a_name_no_source_gives_is_caught_across_scripts():
    from answering.checks import check, unsupported_names

    source = ("حضر الأمين العام تو لام المؤتمر. وقال رئيس اللجنة المنظمة المركزية لي مينه هونغ إن القطاع "
              "قدم 79 مشروعًا. وقال سكرتير الحزب بوي آنه توان إن أعضاء الحزب دعموا العديد من الجوانب.")
    # transliterated names the sources give are accepted, in any spelling with or without diacritics
    assert unsupported_names("Tổng Bí thư Tô Lâm dự hội nghị [1].", [source], "Ai dự hội nghị?") == []
    assert unsupported_names("Secretary Le Minh Hung and Bui Anh Tuan spoke [1].", [source], "Who spoke?") == []
    # a name that is in no source (the small model's answer to "who is ...?") is not
    assert unsupported_names("Bí thư Tỉnh ủy là Nguyễn Văn Quyết [1].", [source], "Ai là Bí thư?") == [
        "Nguyễn Văn Quyết"]
    # after a lower-case word or a title ("ông", "Ông"), and in a Vietnamese answer's lower-case words
    assert unsupported_names("Bí thư Tỉnh ủy Quảng Ninh là ông Nguyễn Văn Quyên [2].", [source], "Ai?") == [
        "Nguyễn Văn Quyên"]
    assert unsupported_names("Ông Đỗ Văn Chiến dự hội nghị [1].", [source], "Ai?") == ["Đỗ Văn Chiến"]
    # the question's own names, and names written in Latin letters in a source, are given
    assert unsupported_names("Nguyễn Văn Quyết nói [1].", [source], "Ông Nguyễn Văn Quyết nói gì?") == []
    assert unsupported_names("Nguyen Van A said so [1].", ["Ông Nguyễn Văn A phát biểu."], "Who?") == []
    problems = check("Bí thư là Nguyễn Văn Quyết [1].", lang="vi", evidence=[source], question="Ai?", n_sources=1)
    assert problems == ["names in no source: Nguyễn Văn Quyết"]


def test_the_numbering_of_an_inline_list_is_not_a_fact():
    from answering.checks import unsupported_numbers

    source = "يتم تنظيم دراسة القرارات ووضع برامج العمل وتعزيز أعمال التفتيش."
    answer = "Tỉnh ủy làm như sau: 1. quán triệt nghị quyết [1]; 2. xây dựng chương trình hành động [1]; 3. kiểm tra [1]."
    assert unsupported_numbers(answer, [source], "Làm thế nào?") == []
    assert unsupported_numbers("Có 3. Các bước [1].", [source], "?") == ["3"]  # no list: a number


def test_arabic_the_model_puts_in_plain_quotes_is_still_arabic():
    answer = 'Theo nguồn, kết luận 67-KL/TU đề cập đến việc "الاستمرار في تنفيذ القرار رقم 09-NQ/TU" [1].'
    assert "Arabic" in guards.language_problem(answer, "vi")
    assert guards.arabic_runs(answer) == ["الاستمرار في تنفيذ القرار رقم"]


def test_a_reply_that_only_restates_the_question_is_caught_unless_it_answers_yes_or_no():
    q = "What are the 25 manifestations of shirking responsibility listed in Directive 24-CT/TU?"
    empty = "According to the sources, the 25 manifestations of shirking responsibility listed in Directive 24-CT/TU are [1]."
    ev = ["Directive 24-CT/TU identifies 25 manifestations of shirking responsibility."]
    assert "nothing the question does not say" in guards.check(empty, lang="en", evidence=ev, question=q,
                                                                n_sources=1, framing="According to the sources,")
    assert guards.ungrounded([["nothing the question does not say"]] * 2)
    told = "According to the sources, Directive 24-CT/TU identifies 25 manifestations but does not list them [1]."
    assert guards.check(told, lang="en", evidence=ev, question=q, n_sources=1, framing="According to the sources,") == []
    # a yes/no question may be answered in its own words
    assert not guards.says_nothing_new("Theo nguồn, Quy định 69 áp dụng với đảng viên đã qua đời [1].",
                                       "Quy định 69 có áp dụng với đảng viên đã qua đời không?", "Theo nguồn,")


def test_a_number_is_the_same_without_its_leading_zeros():
    source = ["Quy định số 69-QĐ/TW do Bộ Chính trị ban hành ngày 06/7/2022."]
    assert guards.unsupported_numbers("It took effect on the 6th, signed in 2022 [1].", source, "") == []
    assert guards.unsupported_numbers("It has 60 articles [1].", source, "") == ["60"]

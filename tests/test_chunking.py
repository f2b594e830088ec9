from ingest.chunking import chunk_text
from text.normalize import clean_display

REGULATION = """QUY ĐỊNH
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
1. Quy định này quy định những điều đảng viên không được làm.
2. Áp dụng với mọi đảng viên.
Điều 2. Đối tượng áp dụng
Đảng viên trong toàn Đảng.
Chương II
NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM
Điều 3. Nói và làm trái
1. Nói, viết, làm trái hoặc không thực hiện Cương lĩnh chính trị.
2. Tham gia các tổ chức phản động.
"""


def test_chunks_follow_articles_and_carry_locators():
    text = clean_display(REGULATION)
    chunks = chunk_text(text, target=300, maximum=600)
    assert [c.locator for c in chunks] == [
        ["Chương I", "Điều 1", "khoản 1-2"],
        ["Chương I", "Điều 2"],
        ["Chương II", "Điều 3", "khoản 1-2"],
    ]
    # headings with nothing under them travel with the first article after them
    assert chunks[0].text.startswith("QUY ĐỊNH\nChương I")
    assert chunks[2].text.startswith("Chương II\nNHỮNG ĐIỀU")
    for c in chunks:
        assert text[c.start:c.end] == c.text


def test_an_article_written_on_one_line_with_its_text_is_a_heading_however_long_a_reference_is_not():
    prohibited = "Nói, viết, làm trái hoặc không thực hiện Cương lĩnh chính trị, Điều lệ Đảng, nghị quyết, " * 2
    text = ("QUY ĐỊNH VỀ NHỮNG ĐIỀU ĐẢNG VIÊN KHÔNG ĐƯỢC LÀM\n"
            f"Điều 1. {prohibited}\n"
            "Điều lệ Đảng quy định đảng viên phải chấp hành nghị quyết.\n"
            f"Điều 2. Tuyên truyền, phát tán, xuyên tạc đường lối của Đảng; {prohibited}\n"
            "Chương trình hành động của Tỉnh ủy nêu rõ các bước thực hiện.\n"
            "Điều 1 của Quy định này cũng áp dụng cho đảng viên dự bị.\n"
            "Mục tiêu của Quy định là giữ kỷ luật đảng.\n"
            "ĐIỀU 3. Quy định này có hiệu lực từ ngày ký.\n"
            "المادة الأولى: " + "يحظر على أعضاء الحزب مخالفة البرنامج السياسي. " * 5 + "\n")
    chunks = chunk_text(text, target=300, maximum=600)
    assert list(dict.fromkeys(c.locator[0] for c in chunks)) == ["Điều 1", "Điều 2", "ĐIỀU 3", "المادة الأولى"]
    under = {line: c.locator[0] for c in chunks for line in c.text.split("\n")}
    # "Điều lệ Đảng…" (the Charter), "Chương trình…" (a programme), "Mục tiêu…" (a goal), and a
    # reference to an article ("Điều 1 của Quy định này…"): text, not headings
    assert under["Điều lệ Đảng quy định đảng viên phải chấp hành nghị quyết."] == "Điều 1"
    assert under["Chương trình hành động của Tỉnh ủy nêu rõ các bước thực hiện."] == "Điều 2"
    assert under["Điều 1 của Quy định này cũng áp dụng cho đảng viên dự bị."] == "Điều 2"
    assert under["Mục tiêu của Quy định là giữ kỷ luật đảng."] == "Điều 2"
    # the heading is the number; a title on the same line is not part of the locator
    assert chunk_text("Chương I NHỮNG QUY ĐỊNH CHUNG\nĐiều 1 Phạm vi điều chỉnh\nNội dung.")[0].locator == [
        "Chương I", "Điều 1"]
    for c in chunks:
        assert text[c.start:c.end] == c.text


def test_english_and_arabic_articles():
    text = "Article 1\nScope of this regulation.\nArticle 2\nSubjects.\n"
    assert [c.locator[0] for c in chunk_text(text)] == ["Article 1", "Article 2"]
    text = "المادة 1\nنطاق التنظيم.\nالمادة 2\nالمواضيع.\n"
    assert [c.locator[0] for c in chunk_text(text)] == ["المادة 1", "المادة 2"]


def test_long_paragraph_is_split_at_sentences_with_overlap():
    sentences = [f"Câu số {i} nói về công tác xây dựng Đảng ở cơ sở." for i in range(60)]
    text = " ".join(sentences)
    chunks = chunk_text(text, target=300, maximum=600)
    assert len(chunks) > 3
    assert all(len(c.text) <= 600 for c in chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # one sentence of overlap
        assert a.text.endswith(".") and b.text.startswith("Câu")
    joined = set()
    for c in chunks:
        joined.update(s for s in sentences if s in c.text)
    assert joined == set(sentences)  # nothing lost


def test_news_paragraphs_get_paragraph_locators_and_tiny_tail_merges():
    text = "Tiêu đề ngắn\n" + "\n".join(f"Đoạn {i}. " + "nội dung " * 40 for i in range(3)) + "\nBình luận (0)"
    chunks = chunk_text(text, target=400, maximum=800)
    assert chunks[0].text.startswith("Tiêu đề ngắn\nĐoạn 0")
    assert chunks[-1].text.endswith("Bình luận (0)")
    assert all(c.locator[-1].startswith("¶") for c in chunks)

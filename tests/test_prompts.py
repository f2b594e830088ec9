"""Every prompt and message file renders, in every language, and carries a version."""

import re

import pytest

from answering.prompts import LANGS, PROMPTS_DIR, load_prompt, messages

PURPOSES = ("answer", "strict", "translate")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_each_prompt_renders(purpose, lang):
    prompt = load_prompt(purpose, lang)
    assert re.fullmatch(rf"{purpose}\.{lang}@\d+", prompt.version)
    sources = "[1] (Quy định 37-QĐ/TW)\n<<<\nĐảng viên không được {làm} điều này.\n>>>"
    question = "Đảng viên không được làm gì? {sources} {question}"
    system, user = prompt.render(sources=sources, question=question)
    assert system and user
    assert question in user  # braces in the question are kept as text, not re-expanded
    if purpose != "translate":
        assert sources in user
        assert user.index(sources) < user.index(question)
        assert "NOT_IN_SOURCES" in system  # the abstention signal the answerer understands
    assert "{sources}" not in user.replace(question, "")


def test_answer_prompts_name_their_language():
    names = {"vi": "Vietnamese", "ar": "Arabic", "en": "English"}
    for lang in LANGS:
        assert names[lang] in load_prompt("answer", lang).system
        assert names[lang] in load_prompt("strict", lang).system


def test_a_malformed_prompt_file_is_refused(tmp_path):
    (tmp_path / "answer.vi.txt").write_text("version: 1\n--- system ---\nhi\n--- user ---\nno placeholders\n")
    with pytest.raises(ValueError, match="needs"):
        load_prompt("answer", "vi", tmp_path)
    (tmp_path / "answer.en.txt").write_text("just text")
    with pytest.raises(ValueError, match="expected"):
        load_prompt("answer", "en", tmp_path)


def test_messages_have_the_same_keys_and_placeholders_in_every_language():
    base = messages("en")
    for lang in LANGS:
        msg = messages(lang)
        assert msg["_version"] == f"messages.{lang}@{msg['version']}"
        assert set(msg) == set(base), lang
        for key, text in msg.items():
            if isinstance(text, str) and not key.startswith("_"):
                assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", base[key])), (lang, key)
    assert "{docs}" in messages("ar")["abstain_closest"]
    messages("vi")["ambiguous"].format(code="09-NQ/TU", n=2)


def test_prompt_files_are_all_accounted_for():
    files = {p.name for p in PROMPTS_DIR.iterdir() if p.suffix in (".txt", ".toml")}
    expected = {f"{p}.{l}.txt" for p in PURPOSES for l in LANGS} | {f"messages.{l}.toml" for l in LANGS}
    expected |= {f"bot.{l}.toml" for l in LANGS} | {"topics.toml"}
    assert files == expected


def test_bot_texts_have_the_same_keys_and_placeholders_and_render():
    from partybot.bot.texts import t, texts

    base = texts("en")
    for lang in LANGS:
        msg = texts(lang)
        assert msg["_version"] == f"bot.{lang}@{msg['version']}"
        assert set(msg) == set(base), lang
        assert set(msg["commands"]) == set(base["commands"])
        for key, text in msg.items():
            if isinstance(text, str) and not key.startswith("_"):
                names = set(re.findall(r"{(\w+)}", text))
                assert names == set(re.findall(r"{(\w+)}", base[key])), (lang, key)
                rendered = t(lang, key, **{n: "<x&y>" for n in names})
                assert "<x&y>" not in rendered and ("&lt;x&amp;y&gt;" in rendered or not names)


def test_topic_descriptions_cover_every_language():
    from text.language import detect
    from answering.prompts import topics

    data = topics()
    assert data["_version"] == f"topics@{data['version']}"
    for key in ("on_topic", "off_topic"):
        assert {detect(text) for text in data[key]} == set(LANGS), key

"""Normalisation and language choice: how typed text becomes comparable."""

from __future__ import annotations

import pytest

from bot.matching.language import detect_language
from bot.matching.normalize import normalize


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width
        ("人才公寓怎麼申請？", "人才公寓怎么申请"),  # 繁體 and full-width punctuation
        ("人才\u200b公寓", "人才 公寓"),  # zero-width characters
        ("golden panda计划", "golden panda 计划"),  # spacing between Chinese and Latin
        ("  Talent   APARTMENT!!! ", "talent apartment"),
        ("🐼熊猫🐼", "熊猫"),
    ],
)
def test_typed_variants_normalise_to_one_form(typed, normalized):
    assert normalize(typed) == normalized


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("人才公寓怎么申请", "zh"),
        ("how do I apply for a talent apartment", "en"),
        ("golden panda 计划怎么申请", "zh"),  # mostly Chinese
        ("how do I apply for 人才公寓", "en"),  # mostly English
        ("こんにちは", "other"),
        ("привет", "other"),
        ("", None),
        ("123 456", None),
    ],
)
def test_the_reply_language_follows_what_the_message_is_mostly_in(text, lang):
    assert detect_language(normalize(text)) == lang


def test_an_explicit_language_choice_wins_over_the_message(engine):
    assert engine.reply("人才公寓", "en").lang == "en"
    assert engine.reply("talent apartment", "zh").lang == "zh"

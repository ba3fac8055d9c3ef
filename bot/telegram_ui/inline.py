"""Inline mode (`@bot question` in any chat): answer cards, each with the topic one tap away."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from .context import Context, inline_query_of
from .delivery import deliver
from .render import Labels, card_keyboard, deep_link, reply_html
from .send import NO_PREVIEW

MAX_CARDS = 8
POPULAR_DAYS = 30


async def inline_query(update: Update, context: Context) -> None:
    """An empty query shows the most asked topics; a few letters find topics as you type
    ("gold" → Golden Panda, "学" → education); a question gets the answers that fit it."""
    svc, query = context.svc, inline_query_of(update)
    engine, lang = svc.engine, context.lang
    text = query.query.strip()
    if not text:
        intents = await svc.storage.top_intents(POPULAR_DAYS, MAX_CARDS)
        intents += [i for i in engine.default_topics() if i not in intents]
    else:
        intents = engine.find_topics(text, lang, MAX_CARDS)
    answers = [(i, r) for i in intents[:MAX_CARDS] if (r := engine.answer(i, lang)) is not None]
    labels = Labels.of(engine, lang)
    results = [
        InlineQueryResultArticle(
            id=intent,  # the reply's own intent
            title=reply.title or intent,
            description=reply.text.splitlines()[0][:100],
            input_message_content=InputTextMessageContent(
                reply_html(reply), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
            reply_markup=card_keyboard(reply, labels,
                                       deep_link(context.bot.username or "", intent)),
        )
        for intent, reply in answers[:MAX_CARDS]
    ]
    await deliver(lambda _: query.answer(results, cache_time=60, is_personal=True),
                  "answerInlineQuery", sends=False)

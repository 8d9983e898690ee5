"""Tests of the fake Telegram Bot API server, driven by a real aiogram ``Bot``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fakes import FakeTelegram

CHAT = 1001


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A running fake server."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """An aiogram bot pointed at the fake server."""
    instance = tg.create_bot()
    try:
        yield instance
    finally:
        await instance.session.close()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose data is the lower-cased label."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=x, callback_data=x.lower()) for x in labels]]
    )


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "vkcomments_test_bot", True)
    assert tg.calls[-1].method == "getMe"


async def test_send_message_with_inline_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Choose:", reply_markup=keyboard("Export", "Cancel"))
    assert sent.text == "Choose:"
    assert sent.chat.id == CHAT
    assert sent.from_user is not None and sent.from_user.id == tg.bot_id
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "export"

    call = tg.calls_of("sendMessage")[-1]
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"]["inline_keyboard"][0][1]["text"] == "Cancel"

    [message] = tg.messages(CHAT)
    assert message.message_id == sent.message_id
    assert message.button_data("Canc") == "cancel"
    assert [b.text for b in message.buttons()] == ["Export", "Cancel"]

    second = await bot.send_message(CHAT, "again")
    assert second.message_id == sent.message_id + 1


async def test_html_is_rendered_and_validated(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "<b>Done</b> &lt;3 &amp; more", parse_mode=ParseMode.HTML)
    assert sent.text == "Done <3 & more"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert tg.messages(CHAT)[0].raw_text == "<b>Done</b> &lt;3 &amp; more"

    with pytest.raises(TelegramBadRequest, match="Unsupported start tag"):
        await bot.send_message(CHAT, "comment from <user>", parse_mode=ParseMode.HTML)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "1.5 + 2", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "x" * 4097)


async def test_edit_message_text_and_not_modified(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Progress: 0%", reply_markup=keyboard("Cancel"))
    edited = await bot.edit_message_text(
        "Progress: 50%",
        chat_id=CHAT,
        message_id=sent.message_id,
        reply_markup=keyboard("Cancel"),
    )
    assert isinstance(edited, Message)
    assert edited.text == "Progress: 50%"

    [message] = tg.messages(CHAT)
    assert (message.text, message.edits, message.history) == ("Progress: 50%", 1, ["Progress: 0%"])

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Progress: 50%",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=keyboard("Cancel"),
        )
    assert tg.calls[-1].status == 400

    # Without reply_markup Telegram drops the keyboard: that is a modification.
    await bot.edit_message_text("Progress: 50%", chat_id=CHAT, message_id=sent.message_id)
    assert tg.messages(CHAT)[0].reply_markup is None
    await bot.edit_message_reply_markup(
        chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard("Retry")
    )
    assert tg.messages(CHAT)[0].button_data("Retry") == "retry"
    assert tg.messages(CHAT)[0].edits == 3

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("nope", chat_id=CHAT, message_id=999)


async def test_send_document(tg: FakeTelegram, bot: Bot) -> None:
    payload = "id,text\n1,привет\n".encode()
    sent = await bot.send_document(
        CHAT,
        BufferedInputFile(payload, filename="comments.csv"),
        caption="Your export",
    )
    assert sent.document is not None
    assert sent.document.file_name == "comments.csv"
    assert sent.caption == "Your export"

    [message] = tg.messages(CHAT)
    assert message.kind == "document"
    assert (message.document_name, message.document_bytes) == ("comments.csv", payload)
    assert message.text == "Your export"
    [upload] = tg.calls_of("sendDocument")[-1].files.values()
    assert upload.filename == "comments.csv"

    # The file can be downloaded back through the file endpoint.
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None and downloaded.read() == payload


async def test_get_updates_returns_injected_command(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == []
    message_id = tg.send_text("/start deep-link")
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.message_id == message_id
    assert update.message.text == "/start deep-link"
    assert update.message.chat.type == "private"
    assert update.message.entities is not None
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)

    # Offset confirms the update; a new one wakes a pending long poll.
    loop = asyncio.get_running_loop()
    started = loop.time()
    polls_before = len(tg.calls)
    poll = asyncio.create_task(bot.get_updates(offset=update.update_id + 1, timeout=5))
    await tg.wait_for_call("getUpdates", after=polls_before)  # the long poll is pending
    tg.send_text("hello")
    [second] = await poll
    assert second.message is not None and second.message.text == "hello"
    assert loop.time() - started < 1
    assert tg.pending_updates[0]["update_id"] == second.update_id


async def test_long_poll_is_capped(tg: FakeTelegram, bot: Bot) -> None:
    tg.max_poll_wait = 0.2
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=30) == []
    assert 0.15 < loop.time() - started < 1


async def test_button_press_and_callback_answer(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard("Yes", "No"))
    with pytest.raises(LookupError):
        tg.press_button(message_id=sent.message_id, data="maybe")
    query_id = tg.click("Yes")
    [update] = await bot.get_updates(allowed_updates=["callback_query"])
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "yes"
    assert isinstance(update.callback_query.message, Message)
    assert update.callback_query.message.message_id == sent.message_id

    assert await bot.answer_callback_query(query_id, text="ok")
    assert tg.callback_answers[query_id]["text"] == "ok"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_allowed_updates_filter(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard("Yes"))
    tg.press_button(message_id=sent.message_id, data="yes")
    tg.send_text("text")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["text"]
    assert len(updates) == 1


async def test_retry_after_fault(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(CHAT, "hi")
    assert caught.value.retry_after == 3
    assert tg.calls[-1].status == 429
    assert tg.messages(CHAT) == []
    await bot.send_message(CHAT, "hi")  # the fault was used up
    assert len(tg.messages(CHAT)) == 1

    tg.fail_next("editMessageText", error_code=500, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.edit_message_text("x", chat_id=CHAT, message_id=1)


async def test_errors_unknown_method_wrong_token_blocked(tg: FakeTelegram, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot{tg.token}/sendDice") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        async with http.post(f"{tg.base_url}/bot1:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
    wrong = Bot("1:WRONG", session=bot.session)
    with pytest.raises(TelegramUnauthorizedError):
        await wrong.get_me()

    tg.block(CHAT)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(CHAT, "hi")


async def test_commands_and_misc_methods(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.delete_webhook(drop_pending_updates=True)
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.send_chat_action(CHAT, "typing")
    sent = await bot.send_photo(CHAT, BufferedInputFile(b"\x89PNG...", filename="chart.png"))
    assert sent.photo
    assert await bot.delete_message(CHAT, sent.message_id)
    assert tg.messages(CHAT) == []
    assert tg.messages(CHAT, include_deleted=True)[0].deleted


async def test_dispatcher_polling_roundtrip(tg: FakeTelegram) -> None:
    router = Router()

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        await message.answer("pong", reply_markup=keyboard("Again"))

    @router.callback_query()
    async def again(query: CallbackQuery) -> None:
        await query.answer("again!")
        if isinstance(query.message, Message):
            await query.message.edit_text("pong (again)")

    dp = Dispatcher()
    dp.include_router(router)
    bot = tg.create_bot()
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        asked = tg.send_text("/ping")
        reply = await tg.wait_for_message(CHAT, "pong", timeout=5, after=asked)
        assert reply.message_id == asked + 1

        query_id = tg.press_button(message_id=reply.message_id, data="again")
        await tg.wait_for_message(CHAT, "pong (again)", timeout=5)
        await tg.wait_for(lambda t: query_id in t.callback_answers, timeout=5)
        assert tg.callback_answers[query_id]["text"] == "again!"
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=5)
    assert [c.method for c in tg.calls[:2]] == ["getMe", "getUpdates"]


async def test_wait_for_times_out_with_dump(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(CHAT, "something else")
    with pytest.raises(AssertionError, match="something else"):
        await tg.wait_for_message(CHAT, "never", timeout=0.1)


async def test_stop_releases_pending_long_poll() -> None:
    fake = FakeTelegram(max_poll_wait=30)
    url = await fake.start()
    other = fake.create_bot()
    try:
        assert url == fake.base_url
        poll = asyncio.create_task(other.get_updates(timeout=30))
        await fake.wait_for(lambda t: bool(t.calls_of("getUpdates")), timeout=2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await fake.stop()
        assert await asyncio.wait_for(poll, timeout=2) == []
        assert loop.time() - started < 1
    finally:
        await other.session.close()
        await fake.stop()


async def test_drop_pending_updates(tg: FakeTelegram, bot: Bot) -> None:
    tg.send_text("stale")
    assert len(tg.pending_updates) == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert tg.pending_updates == []
    assert await bot.get_updates(timeout=0) == []

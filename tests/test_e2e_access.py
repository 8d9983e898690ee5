"""Access through real processes: admins allow and deny from the chat, strangers are refused
once and then ignored, a job is seen only in its own chat, and forged buttons are refused."""

from __future__ import annotations

import itertools
import time

from tests.conftest import ADMIN_ID, ALLOWED_ID, STRANGER_ID, Process
from tests.fakes import FakeTelegram
from tests.test_e2e_bot import JOB_ID

ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot
_ids = itertools.count(100_000)


async def ask(tg: FakeTelegram, user: int, text: str, expect: str, chat: int | None = None) -> str:
    chat_type = "private" if chat is None else "group"
    sent = tg.send_text(text, user_id=user, chat_id=chat, chat_type=chat_type)
    reply = await tg.wait_for_message(
        user if chat is None else chat, expect, after=sent, timeout=30
    )
    return reply.text or ""


async def delivered(tg: FakeTelegram) -> None:
    """The bot has taken every update sent so far (their handling started before what follows)."""
    await tg.wait_for(lambda t: not t.pending_updates, timeout=30, description="updates taken")


def group_message(chat_id: int, **fields: object) -> dict[str, object]:
    """A raw group message (for what `send_text` cannot make: anonymous admins, joins)."""
    return {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"},
        **fields,
    }


def anonymous_command(chat_id: int, text: str) -> dict[str, object]:
    sender = {"id": ANONYMOUS_ADMIN, "is_bot": True, "first_name": "Group"}
    return group_message(
        chat_id,
        text=text,
        sender_chat={"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"},
        entities=[{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        **{"from": sender},
    )


async def test_admins_manage_access_from_the_chat(
    services: list[Process], fake_tg: FakeTelegram
) -> None:
    """/allow, /deny and /access; a stranger is told once whom to ask, then ignored; the
    settings' entries cannot be denied from the chat."""
    refusal = await ask(fake_tg, STRANGER_ID, "/help", "Access denied")
    assert f"Your user id: {STRANGER_ID}" in refusal and f"/allow {STRANGER_ID}" in refusal
    fake_tg.send_text("/help", user_id=STRANGER_ID)
    fake_tg.send_text("/jobs", user_id=STRANGER_ID)
    await delivered(fake_tg)

    await ask(fake_tg, ALLOWED_ID, f"/allow {STRANGER_ID}", "/allow is for admins only")
    await ask(fake_tg, ADMIN_ID, f"/allow {STRANGER_ID}", f"user {STRANGER_ID} may use the bot")
    await ask(fake_tg, STRANGER_ID, "/help", "I collect comments")
    # The refusal and this answer: the two messages between them got nothing.
    assert len(fake_tg.messages(STRANGER_ID)) == 2

    listing = await ask(fake_tg, ADMIN_ID, "/access", "Who may use the bot")
    assert f"admins (ADMIN_IDS): {ADMIN_ID}" in listing
    assert f"users (ALLOWED_USER_IDS): {ALLOWED_ID}" in listing
    assert f"user {STRANGER_ID}, by {ADMIN_ID} on " in listing
    await ask(fake_tg, ADMIN_ID, f"/deny {STRANGER_ID}", "may no longer use the bot")
    await ask(fake_tg, ADMIN_ID, f"/deny {STRANGER_ID}", "had no access given from the chat")
    await ask(fake_tg, ADMIN_ID, f"/deny {ALLOWED_ID}", "allowed by the setting ALLOWED_USER_IDS")
    await ask(fake_tg, ALLOWED_ID, "/help", "I collect comments")
    for wrong in ("x", "1 2", "9" * 30, "٣"):
        await ask(fake_tg, ADMIN_ID, f"/allow {wrong}", "expected one numeric id")
    await ask(fake_tg, ADMIN_ID, "/allow", "in a private chat, name the person")
    await ask(fake_tg, ADMIN_ID, f"/allow {ANONYMOUS_ADMIN}", "shared by all anonymous")

    # A whole group: everyone in it may use the bot once an admin says /allow there.
    group, member = -100500, 5555
    refusal = await ask(fake_tg, member, "/help", "Access denied", chat=group)
    assert "/allow in this chat" in refusal and f"chat id: {group}" in refusal
    await ask(fake_tg, ADMIN_ID, "/allow", f"chat {group} may use the bot", chat=group)
    await ask(fake_tg, member, "/help", "I collect comments", chat=group)
    await ask(fake_tg, ADMIN_ID, "/deny", f"chat {group} may no longer use the bot", chat=group)


async def test_a_job_is_seen_only_in_its_chat(
    services: list[Process], fake_tg: FakeTelegram
) -> None:
    """/status, /result, /abort and the buttons show a job only in its chat (admins see all);
    anonymous admins of another group cannot touch it; forged button data is refused; service
    messages and commands for other bots get no answer."""
    group, other_group = -200, -300
    sent = fake_tg.send_text(
        "/parse taiga_demo 100000", user_id=ALLOWED_ID, chat_id=group, chat_type="group"
    )
    card = await fake_tg.wait_for_message(group, "/status", after=sent, timeout=30)
    match = JOB_ID.search(card.text or "")
    assert match, card.text
    job_id = match.group(1)

    for command in ("/status", "/result", "/abort"):
        await ask(fake_tg, ALLOWED_ID, f"{command} {job_id}", f"Job {job_id} not found")
    await ask(fake_tg, ADMIN_ID, f"/status {job_id}", f"Comment collection {job_id}")

    # The same job's Refresh, forged into another chat, and data no button of ours carries.
    private = fake_tg.messages(ALLOWED_ID)[-1].message_id
    forged = [
        (f"job:refresh:{job_id}", "not valid"),
        (f"job:abort:{job_id}", "not valid"),
        ("job:explode:1", "not valid"),
        ("💣" * 30, "not valid"),
    ]
    for data, expect in forged:
        query = fake_tg.press_button(
            message_id=private, data=data, user_id=ALLOWED_ID, strict=False
        )
        await fake_tg.wait_for(lambda tg, q=query: q in tg.callback_answers, timeout=30)
        assert expect in str(fake_tg.callback_answers[query].get("text")), data

    # Anonymous admins: in another group they cannot stop it; in its own group they are not
    # the person who started it.
    await ask(fake_tg, ADMIN_ID, "/allow", f"chat {other_group} may use", chat=other_group)
    # (They speak DEFAULT_LANGUAGE, Russian here: Telegram gives no language for them.)
    fake_tg.inject_update({"message": anonymous_command(other_group, f"/abort {job_id}")})
    await fake_tg.wait_for_message(other_group, f"Задача {job_id} не найдена", timeout=30)
    fake_tg.inject_update({"message": anonymous_command(group, f"/abort {job_id}")})
    await fake_tg.wait_for_message(
        group, "Попросите администратора бота отправить /allow в этом чате"
    )
    await ask(fake_tg, ADMIN_ID, "/allow", f"chat {group} may use", chat=group)
    fake_tg.inject_update({"message": anonymous_command(group, f"/abort {job_id}")})
    await fake_tg.wait_for_message(group, "Остановить задачу может только тот", timeout=30)

    # Nothing to answer: a join, talk between people, a command for another bot.
    before = len(fake_tg.messages(group))
    member = {"id": 7777, "is_bot": False, "first_name": "New", "language_code": "en"}
    fake_tg.inject_update(
        {"message": group_message(group, new_chat_members=[member], **{"from": member})}
    )
    fake_tg.send_text("hi all", user_id=member["id"], chat_id=group, chat_type="group")
    fake_tg.send_text("/help@otherbot", user_id=member["id"], chat_id=group, chat_type="group")
    await delivered(fake_tg)
    await ask(fake_tg, member["id"], "/help", "I collect comments", chat=group)
    answers = [m.text for m in fake_tg.messages(group)[before:]]
    assert len(answers) == 1, answers

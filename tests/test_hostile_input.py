"""Hostile input, generated (hypothesis): every chat command's arguments and every callback's data
(arbitrary unicode, huge numbers, injection strings, over-long text, forged buttons) get a clear
answer or a valid job, never an exception, a refused API call or a stored change; and the time
an answer takes grows no faster than its input.

The bulk of the cases go through the functions the handlers validate with (fast); the rest
through the real dispatcher, in-process, reading its updates from the fake Telegram Bot API with
getUpdates as polling does and answering there, over a real Redis and SQLite.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.filters import CommandObject
from arq.constants import abort_jobs_ss
from arq.jobs import JobStatus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.app import build_dispatcher
from bot.handlers.control import job_id_of
from bot.handlers.jobs import positional, usage_reply
from bot.scheduler import BotScheduler
from core.audit import audit_trail
from core.catalog import COMMANDS
from core.queue import JobQueue, explain, validate_args
from core.settings import Settings
from core.ui import JobAction
from tests.conftest import ADMIN_ID, ALLOWED_ID, function_names_shown
from tests.databases import queue_door
from tests.fakes import FakeTelegram

GROUP_CHAT = -100777
OTHER_COMMANDS = ["status", "result", "abort", "analyze", "jobs", "queue", "health", "help"]
COMMAND_NAMES = sorted({*COMMANDS, *OTHER_COMMANDS, "start", "nosuchcommand"})
INJECTIONS = [
    "'; DROP TABLE job_audit; --",
    '" OR 1=1 --',
    "<b>bold</b><script>alert(1)</script>",
    "*_[`bold`](tg://user?id=1)",
    "{job_id}{0.__class__}%s%n%(x)s",
    "${jndi:ldap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "\x00\x1b[2J\u202e\ufeff\u200b",
    "vk.com/taiga\n?w=1",
    "ſtaiga İnfo ١٢٣",
    "club0",
    "-0",
    "job:abort:" + "f" * 32,
]
# Examples per test (15,600 in all), scaled by HOSTILE_EXAMPLES_SCALE for a quick local run.
SCALE = float(os.environ.get("HOSTILE_EXAMPLES_SCALE", "1"))


def examples(count: int) -> settings:
    """`count` examples, no per-example deadline (the machine may be busy), no stored database
    (each run explores afresh), and one fixture shared by the examples of a test on purpose."""
    return settings(
        max_examples=max(1, int(count * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


words = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(INJECTIONS),
    st.from_regex(r"[a-z0-9_.]{1,70}", fullmatch=True),
    st.just("taiga_demo"),
)
arguments = st.one_of(
    st.lists(words, max_size=5).map(" ".join),
    # Over-long: a short random piece repeated (drawing 4,000 random characters is slow).
    st.builds(
        lambda piece, size: (piece * size)[:size], st.text(min_size=1), st.integers(3000, 5000)
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
)


CONFIG = Settings(_env_file=None)
JOB_ID = re.compile(r"[A-Za-z0-9:_-]{1,64}")


@examples(12_000)
@given(name=st.sampled_from(COMMAND_NAMES), args=arguments)
def test_arguments_give_a_valid_job_or_a_short_reason(name: str, args: str) -> None:
    """What the handlers validate with: a job's arguments become a valid job, or a one-line
    reason that fits a message with the usage line; a job id is one safe word or refused."""
    spec = COMMANDS.get(name)
    if spec is None:
        job_id = job_id_of(CommandObject(prefix="/", command=name, args=args or None))
        assert job_id is None or JOB_ID.fullmatch(job_id)
        return
    try:
        job_args = validate_args(spec, positional(spec, args), CONFIG)
    except ValueError as error:  # pydantic's ValidationError is one too
        reason = explain(error) if isinstance(error, ValidationError) else str(error)
        assert 0 < len(reason) <= 300 and "\n" not in reason, reason
        assert len(usage_reply(reason, spec.usage)) <= 4096
        return
    payload = job_args.model_dump(mode="json")  # what the queue carries to the worker
    assert validate_args(spec, payload, CONFIG) == job_args
    group = payload.get("group")
    assert group is None or (group.isascii() and group == group.strip() and group)


class ErrorLog(logging.Handler):
    """Collects error records: an exception anywhere in handling is logged at ERROR."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class Chat:
    """The dispatcher wired to the fake Bot API, and what the database holds."""

    tg: FakeTelegram
    bot: Bot
    dp: Dispatcher
    queue: JobQueue
    database: sqlite3.Connection
    errors: ErrorLog
    offset: int = 0
    my_job: str = ""
    others_job: str = ""
    seen: list[str] = field(default_factory=list)

    async def deliver(self) -> None:
        """Fetch pending updates as polling does and let the dispatcher handle them."""
        for update in await self.bot.get_updates(offset=self.offset, timeout=0):
            self.offset = update.update_id + 1
            await self.dp.feed_update(self.bot, update)

    def audit_rows(self) -> int:
        return int(self.database.execute("SELECT count(*) FROM job_audit").fetchone()[0])

    async def written_rows(self) -> int:
        """Audit rows once the bot's trail has written what it holds (it writes in batches,
        so a row counted without waiting belongs to whichever action came next)."""
        await audit_trail(self.queue.sessions).flush()
        return self.audit_rows()

    async def check(self, act: object) -> list[str]:
        """Run an action (a message or a button press); return the bot's answers, after
        checking that nothing failed and that at most one job was stored."""
        calls, rows = len(self.tg.calls), await self.written_rows()
        await self.deliver()
        new_calls = self.tg.calls[calls:]
        # "not modified": a Refresh with nothing new to show, which the handler expects.
        refused = [c for c in new_calls if not c.ok and "not modified" not in str(c.error)]
        assert not refused, f"{act!r}: the Bot API refused {refused}"
        assert not self.errors.records, f"{act!r}: {self.errors.records}"
        answers = [str(c.params.get("text", "")) for c in new_calls if c.method != "getUpdates"]
        assert not any("Something went wrong" in a for a in answers), (act, answers)
        added = await self.written_rows() - rows
        assert added in (0, 1), (act, added)
        if any(a.startswith(("⚠️", "⛔")) for a in answers):
            assert added == 0, (act, answers)
        return answers


@pytest.fixture
async def chat(fake_tg: FakeTelegram, redis_url: str, tmp_path: Path) -> AsyncIterator[Chat]:
    path = tmp_path / "hostile.sqlite3"
    config = Settings(
        _env_file=None,
        bot_token=fake_tg.token,
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{path}",
        admin_ids=frozenset({ADMIN_ID}),
        allowed_user_ids=frozenset({ALLOWED_ID}),
        allowed_chat_ids=frozenset({GROUP_CHAT}),
        arq_queue_name="arq:hostile",
    )
    errors = ErrorLog()
    async with queue_door(config) as queue:
        logging.getLogger().addHandler(errors)
        bot = fake_tg.create_bot()
        database = sqlite3.connect(path)
        try:
            dispatcher = build_dispatcher(config, queue, BotScheduler(queue))  # not started
            state = Chat(fake_tg, bot, dispatcher, queue, database, errors)
            state.my_job = await start_job(state, ALLOWED_ID, "/parse mine_club")
            state.others_job = await start_job(state, ADMIN_ID, "/parse admins_club")
            yield state
        finally:
            logging.getLogger().removeHandler(errors)
            database.close()
            await bot.session.close()


async def start_job(state: Chat, user: int, text: str) -> str:
    state.tg.send_text(text, user_id=user)
    answers = await state.check(text)
    assert len(answers) == 1 and "/status " in answers[0], answers
    return answers[0].rsplit("/status ", 1)[1].strip()


@examples(1_500)
@given(
    name=st.sampled_from(COMMAND_NAMES),
    mention=st.sampled_from(["", "@vkcomments_test_bot"]),
    args=arguments,
    admin=st.booleans(),
    user=st.integers(min_value=10_000, max_value=2**40),
)
async def test_any_command_arguments(
    chat: Chat, name: str, mention: str, args: str, admin: bool, user: int
) -> None:
    """Any arguments to any command: a clear answer or a valid job, nothing else."""
    text = f"/{name}{mention} {args}".rstrip()
    if admin:
        chat.tg.send_text(text, user_id=ADMIN_ID)
    else:  # a member of an allowed group, throttled like everyone who is not an admin
        chat.tg.send_text(text, user_id=user, chat_id=GROUP_CHAT, chat_type="supergroup")
    answers = await chat.check(text)
    if admin:
        # Quick jobs (no progress card) answer when they end, from the worker.
        quick = name == "analyze" or (name in COMMANDS and not COMMANDS[name].card)
        assert answers or quick, text


async def test_a_persons_own_word_echoed_back_is_not_a_leak(chat: Chat) -> None:
    """Hypothesis draws words from our source, job function names among them: a community typed
    as `extract_keywords` is the person's word when /jobs shows it; a name nobody typed still is
    a leak."""
    for text in ("/report extract_keywords", "/jobs"):
        chat.tg.send_text(text, user_id=ADMIN_ID)
        answers = await chat.check(text)
    assert any("(group extract_keywords" in answer for answer in answers), answers
    assert not function_names_shown(chat.tg)
    async with FakeTelegram(token=chat.tg.token) as tg:
        tg.send_text("/jobs", user_id=ADMIN_ID)
        bot = tg.create_bot()
        await bot.send_message(ADMIN_ID, "generate_report: queued")
        await bot.session.close()
        assert function_names_shown(tg) == ["generate_report: queued"]


@examples(1_000)
@given(
    data=st.one_of(
        st.text(max_size=64),
        st.builds(  # shaped like our buttons' data, with any action and job id
            lambda action, job_id: f"{JobAction.__prefix__}:{action}:{job_id}",
            st.sampled_from(["refresh", "abort", "delete", "", "x" * 20]),
            st.one_of(
                st.from_regex(r"[0-9a-f]{1,32}", fullmatch=True),
                st.text(max_size=30),
            ),
        ),
        st.sampled_from(INJECTIONS),
    ),
    admin=st.booleans(),
)
async def test_any_callback_data(chat: Chat, data: str, admin: bool) -> None:
    """A button press with any data (clients can send what they like) is answered, changes
    nothing stored, and aborts nothing."""
    card = chat.tg.messages(ALLOWED_ID)[0]
    user = ADMIN_ID if admin else ALLOWED_ID
    query = chat.tg.press_button(message_id=card.message_id, data=data, user_id=user, strict=False)
    calls = len(chat.tg.calls)
    await chat.check(data)
    answered = [
        c
        for c in chat.tg.calls[calls:]
        if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query
    ]
    assert len(answered) == 1, f"{data!r} was answered {len(answered)} times"
    assert not await chat.queue.redis.zrange(abort_jobs_ss, 0, -1)
    for job_id in (chat.my_job, chat.others_job):
        assert await chat.queue.status(job_id) is JobStatus.queued


@examples(100)
@given(job=st.sampled_from(["others", "mine"]), how=st.sampled_from(["button", "command"]))
async def test_forged_abort_is_refused(chat: Chat, job: str, how: str) -> None:
    """A forged Abort of someone else's job (a crafted button or /abort with its id) is
    refused; pressing it on one's own job is the control case that does abort."""
    job_id = chat.others_job if job == "others" else chat.my_job
    if how == "button":
        card = chat.tg.messages(ALLOWED_ID)[0]
        forged = JobAction(action="abort", job_id=job_id).pack()
        chat.tg.press_button(
            message_id=card.message_id, data=forged, user_id=ALLOWED_ID, strict=False
        )
    else:
        chat.tg.send_text(f"/abort {job_id}", user_id=ALLOWED_ID)
    answers = await chat.check((job, how))
    assert await chat.queue.status(chat.others_job) is JobStatus.queued  # untouched
    if job == "others":
        # A button on one's own card that names another job is not a button of ours; a job of
        # another chat is not even confirmed to exist.
        refusal = "This button is not valid" if how == "button" else "not found"
        assert any(refusal in a for a in answers), answers
    else:  # the first press aborts the waiting job at once; later ones find it ended
        assert any("Abort requested" in a or "is not running" in a for a in answers), answers
        assert await chat.queue.status(chat.my_job) is not JobStatus.queued


async def test_answer_time_grows_linearly(chat: Chat) -> None:
    """10x longer arguments take at most about 10x longer (with room for a busy machine),
    for every command; a quadratic step would take 100x."""
    for name in COMMAND_NAMES:
        timings = []
        for size in (2_000, 20_000):
            best = float("inf")
            for _ in range(3):
                text = f"/{name} " + ("a." * size)[:size]
                chat.tg.send_text(text, user_id=ADMIN_ID)
                started = time.perf_counter()
                await chat.check(name)
                best = min(best, time.perf_counter() - started)
            timings.append(best)
        small, big = timings
        assert big < 30 * small + 0.25, (name, timings)


async def test_button_presses_are_throttled(chat: Chat) -> None:
    """Button presses count against a person's flood guard like messages (defect 8: they were
    never throttled): past the burst one warning, then quiet answers; every press is answered."""
    card = chat.tg.messages(ALLOWED_ID)[0]
    refresh = JobAction(action="refresh", job_id=chat.my_job).pack()
    # Pressed all at once and handled in one go, so the flood window cannot pass meanwhile.
    queries = [
        chat.tg.press_button(
            message_id=card.message_id, data=refresh, user_id=ALLOWED_ID, strict=False
        )
        for _ in range(12)
    ]
    calls = len(chat.tg.calls)
    await chat.deliver()
    answers = {
        str(c.params.get("callback_query_id")): c.params
        for c in chat.tg.calls[calls:]
        if c.method == "answerCallbackQuery"
    }
    assert set(answers) == set(queries), "every press is answered"
    warnings = [q for q in queries if "Too many messages" in str(answers[q].get("text"))]
    # The start of the job was the person's first message in the window: 7 presses pass.
    assert warnings == [queries[7]], [answers[q] for q in queries]
    assert all(not answers[q].get("text") for q in queries[8:])

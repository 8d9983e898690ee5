"""Report stories through real processes: /parse, then /report and /stats in the chat."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from core import storage
from core.db import make_engine, make_sessionmaker, migrate
from fakevk.api import FakeVK
from fakevk.people import full_name
from fakevk.wall import build_synthetic_wall
from tests.conftest import ADMIN_ID, STRANGER_ID, VK_TOKEN, running
from tests.databases import BACKENDS, scalar
from tests.fakes import FakeTelegram
from tests.fakes.telegram import SentMessage
from tests.report_fixture import (
    AUTHORS,
    CURRENT,
    LAST_7_DAYS,
    LIKES,
    PREVIOUS,
    REPLIES,
    REPORT_GROUP,
    REPORT_NAME,
    STORED,
    TOP_AUTHORS,
    ZONE,
    busiest_weekday,
    report_group,
    stored_rows,
)
from tests.test_e2e_bot import parse_and_wait

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    server = FakeVK([report_group(ZONE)], rps=50.0, tokens={VK_TOKEN: "user"})
    await server.start()
    yield server
    await server.stop()


async def bot_ready(tg: FakeTelegram) -> None:
    """The bot polls: on a busy machine starting the processes can take tens of seconds."""
    await tg.wait_for_call("getUpdates", timeout=180)


async def wait_for_rows(database_url: str, query: str, wanted: int) -> int:
    """Poll the processes' database until the query answers `wanted` (at most a minute)."""
    found = -1
    for _ in range(300):
        found = int(await scalar(database_url, query))
        if found == wanted:
            break
        await asyncio.sleep(0.2)
    return found


async def report_messages(tg: FakeTelegram, command: str, closing: str) -> list[SentMessage]:
    """Send a /report and return every message it brought, the closing one last."""
    sent = tg.send_text(command, user_id=ADMIN_ID)
    await tg.wait_for_message(ADMIN_ID, closing, after=sent, timeout=120)
    return [m for m in tg.messages(ADMIN_ID) if m.message_id > sent]


async def ask(tg: FakeTelegram, command: str, contains: str) -> str:
    sent = tg.send_text(command, user_id=ADMIN_ID)
    return (await tg.wait_for_message(ADMIN_ID, contains, after=sent, timeout=60)).text


def png_size(message: SentMessage) -> tuple[int, int]:
    assert message.kind == "photo" and message.document_bytes
    with Image.open(io.BytesIO(message.document_bytes)) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("app_database", BACKENDS, indirect=True)
async def test_report_story(services: object, fake_tg: FakeTelegram, app_database: str) -> None:
    """After /parse, /report sends the chart, the exact summary, the CSV and the XLSX, then its
    closing line, each once although Telegram's 429 made the job run again; /stats and
    /keywords count the same comments. Bot and worker on SQLite, then on PostgreSQL."""
    await bot_ready(fake_tg)
    _job, parsed = await parse_and_wait(fake_tg, "/parse report_club 1000")
    # The parse summary counts readable comments: the deleted one is stored, never counted.
    assert f"{STORED} comments of this community are stored in total" in parsed
    # The automatic analysis closes in this chat too: let it, so the report's messages follow.
    await fake_tg.wait_for_message(ADMIN_ID, "comments analysed", timeout=120)
    # The parse queued update_statistics: the days are counted before anyone asks.
    counted = await wait_for_rows(
        app_database, "SELECT coalesce(sum(comments), 0) FROM stats_daily", STORED
    )
    assert counted == STORED
    fake_tg.fail_next("sendDocument", retry_after=1)
    messages = await report_messages(fake_tg, "/report report_club 30", "Report for")
    kinds = [m.kind for m in messages]
    assert kinds == ["photo", "text", "document", "document", "text"], fake_tg.dump()
    assert [c.status for c in fake_tg.calls_of("sendDocument")] == [429, 200, 200]
    assert len(fake_tg.calls_of("sendPhoto")) == 1
    chart, summary, csv_doc, xlsx_doc, closing = messages
    width, height = png_size(chart)
    assert width >= 1200 and height >= 800
    assert f"{CURRENT} comments" in chart.text and REPORT_NAME in chart.text

    weekday = WEEKDAYS[busiest_weekday()]
    lines = summary.text.splitlines()
    assert f"Comments: {CURRENT} (+200.0% against the previous 30 days ({PREVIOUS}))" in lines
    assert f"Authors: {AUTHORS}; replies: {REPLIES}; likes: {LIKES}" in lines
    assert f"Busiest hour: 14:00–15:00; busiest weekday: {weekday}" in lines
    link = f"https://vk.com/wall-{REPORT_GROUP}"
    assert f"1. {link}_9 — 6 comments — «Горячее обсуждение»" in lines
    assert f"2. {link}_5 — 3 comments — «Пост про рыбалку»" in lines
    for rank, (author, count) in enumerate(TOP_AUTHORS, 1):
        assert f"{rank}. {' '.join(full_name(author))} — {count} comment" in summary.text
    # Every comment says "текст": the keyword is in all of the period's analysed comments.
    assert f"Top keywords of {CURRENT} analysed comments (how many mention each):" in lines
    assert f"1. текст ({CURRENT})" in lines

    assert csv_doc.document_bytes and csv_doc.document_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_doc.document_bytes.decode("utf-8-sig"))))[1:]
    ids = [row[3] for row in rows]
    assert len(ids) == len(set(ids)) == CURRENT
    assert {row[6] for row in rows} == {" ".join(full_name(a)) for a, _ in TOP_AUTHORS}
    assert sum(int(row[7]) for row in rows) == LIKES
    assert xlsx_doc.document_name and xlsx_doc.document_name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_doc.document_bytes or b""), read_only=True)
    cells = [r for r in book.active.iter_rows(min_row=2, values_only=True)]
    assert [str(r[3]) for r in cells] == ids and [r[8] for r in cells] == [r[8] for r in rows]
    assert f"{CURRENT} comments" in closing.text

    stats = await ask(fake_tg, "/stats report_club", "Stored:")
    assert f"Stored: {STORED} comments, 6 authors, {REPLIES} reply, {LIKES} likes" in stats
    assert f"Last 7 days: {LAST_7_DAYS[0]} comments, {LAST_7_DAYS[1]} authors" in stats
    assert f"Last 30 days: {CURRENT} comments, {AUTHORS} authors" in stats
    overview = await ask(fake_tg, "/stats", "tracked")
    assert f"1 community tracked, {STORED} comments stored" in overview
    keywords = await ask(fake_tg, "/keywords report_club", "keywords of")
    assert f"keywords of {STORED} comments" in keywords

    empty = await ask(fake_tg, "/report report_club 1", "Nothing stored")
    assert f"Nothing stored for {REPORT_NAME} in the last 1 day." in empty
    assert "/parse report_club" in empty


async def test_report_refusals_and_bad_input(
    services: object, fake_tg: FakeTelegram, app_database: str
) -> None:
    """An unknown community, an empty database and bad days get clear answers; a stranger
    gets the refusal and no data at all."""
    await bot_ready(fake_tg)
    unknown = await ask(fake_tg, "/report nobody_here", "failed")
    assert "nobody_here has no stored comments yet: /parse nobody_here first" in unknown
    nothing = await ask(fake_tg, "/report", "Nothing stored")
    assert "Nothing stored for all communities in the last 30 days." in nothing
    assert "/parse <group>" in nothing
    assert "No comments stored yet. Collect some: /parse <group>" in await ask(
        fake_tg, "/stats", "No comments"
    )
    usage = await ask(fake_tg, "/report report_club zero", "Usage: /report [group] [days]")
    assert "days must be a whole number" in usage
    sent = fake_tg.send_text("/report report_club", user_id=STRANGER_ID)
    await fake_tg.wait_for_message(STRANGER_ID, "Access denied", after=sent, timeout=30)
    for command in ("/report", "/stats", "/stats report_club"):  # refused once an hour: silence
        fake_tg.send_text(command, user_id=STRANGER_ID)
    await ask(fake_tg, "/stats", "No comments")  # the bot has read the stranger's commands
    assert [m.kind for m in fake_tg.messages(STRANGER_ID)] == ["text"]
    jobs = f"SELECT count(*) FROM job_audit WHERE user_id = {STRANGER_ID}"
    assert await scalar(app_database, jobs) == 0


COMMUNITIES = 30
SUMMARY_LINE = re.compile(
    r"^(📊 .+|Comments: .+|Authors: .+|Busiest hour: .+|\d+ communities had comments\.|— .+ —"
    r"|Top (posts by comments|authors|keywords):|\d+\. .+|Keywords: none yet .+|)$"
)


async def seed_communities(url: str) -> int:
    """Thirty small communities stored as the parser stores them; returns readable comments."""
    await migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    start = int((datetime.now(UTC) - timedelta(days=6)).timestamp())
    readable = 0
    for number in range(COMMUNITIES):
        group = build_synthetic_wall(
            900_000 + number, f"club_number_{number}", posts=3, comments_per_post=12,
            texts=["Длинный комментарий о жизни сообщества номер " + str(number)],
            start_date=start + number * 600, seed=number, deleted_every=7,
        )  # fmt: skip
        posts, comments, authors = stored_rows(group, ZONE)
        await storage.save_group(sessions, group.id, group.screen_name, f"Сообщество №{number}")
        await storage.save_posts(sessions, posts)
        await storage.save_authors(sessions, authors)
        await storage.save_comments(sessions, comments)
        readable += sum(1 for row in comments if not row["deleted"])
    await engine.dispose()
    return readable


def original_file(documents: list[SentMessage]) -> bytes:
    """A document as it was before sending: its parts joined, then unzipped if zipped."""
    data = b"".join(d.document_bytes or b"" for d in documents)
    if not (documents[0].document_name or "").endswith((".zip", ".zip.001")):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return bundle.read(bundle.namelist()[0])


async def test_report_of_all_communities(
    app_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path, app_database: str
) -> None:
    """/report alone: one chart with the busiest as lines, a summary too long for one message
    split on line ends, and files over the (lowered) upload limit zipped and split, with the
    user told so."""
    readable = await seed_communities(app_database)
    env = {**app_env, "UPLOAD_LIMIT_BYTES": "8192"}
    async with running(env, tmp_path):
        await bot_ready(fake_tg)
        messages = await report_messages(fake_tg, "/report", "Report for")
    chart, *rest = messages
    width, height = png_size(chart)
    assert width >= 1200 and height >= 800
    texts = [m.text for m in rest if m.kind == "text"][:-1]  # the last text is the closing one
    assert len(texts) >= 2 and all(len(t) <= 4096 for t in texts)
    summary = "\n".join(texts)
    assert all(SUMMARY_LINE.match(line) for line in summary.splitlines()), summary
    assert f"Comments: {readable} (nothing in the previous 30 days)" in summary
    assert f"{COMMUNITIES} communities had comments." in summary
    for number in range(COMMUNITIES):
        assert summary.count(f"— Сообщество №{number} —") == 1
    documents = [m for m in rest if m.kind == "document"]
    csv_parts = [d for d in documents if ".csv" in (d.document_name or "")]
    xlsx_parts = [d for d in documents if ".xlsx" in (d.document_name or "")]
    assert len(csv_parts) + len(xlsx_parts) == len(documents) > 2
    assert "Larger than Telegram's upload limit" in csv_parts[0].text
    assert all(len(d.document_bytes or b"") <= 8192 for d in documents)
    rows = list(csv.reader(io.StringIO(original_file(csv_parts).decode("utf-8-sig"))))[1:]
    assert len(rows) == len({(r[1], r[3]) for r in rows}) == readable
    book = openpyxl.load_workbook(io.BytesIO(original_file(xlsx_parts)), read_only=True)
    assert sum(1 for _ in book.active.iter_rows(min_row=2)) == readable

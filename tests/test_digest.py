"""The daily digest on a fixture with known numbers: comments stored since the last digest (the
window's ends exact), the day's volume against the four weeks before (a spike flagged, a day
exactly at the threshold not), the day's keywords, the jobs that failed in the window."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from core import storage
from core.digest import digest_text, gather, last_digest, remember_digest
from core.i18n import use_locale
from core.models import Comment, Group, JobAudit
from core.reports import statistics

ZONE = ZoneInfo("Europe/Moscow")
DAY = date(2026, 11, 29)  # the digest's day: the one before it runs
UNTIL = datetime.combine(DAY + timedelta(days=1), time(9, 0), ZONE).astimezone(UTC)
SINCE = UNTIL - timedelta(days=1)
BEFORE = SINCE - timedelta(hours=1)  # stored before the window

ALPHA, BETA, GAMMA, EMPTY = 9001, 9002, 9003, 9004
# Four weeks of 10 and 12 comments a day, one after the other: mean 11, sd 1, so the spike
# threshold (mean + 3 sd) is 14 comments.
HISTORY = [10 + 2 * (i % 2) for i in range(28)]


class Rows:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        group: int,
        day: date,
        n: int,
        *,
        stored_at: datetime = BEFORE,
        terms: str | None = None,
        deleted: bool = False,
    ) -> None:
        moment = datetime.combine(day, time(12, 0), ZONE)
        for _ in range(n):
            self.rows.append(
                {
                    "owner_id": -group,
                    "post_id": 1,
                    "comment_id": next(self.ids),
                    "parent_id": None,
                    "from_id": 100,
                    "date": moment.astimezone(UTC),
                    "text": "текст",
                    "deleted": deleted,
                    "terms": terms,
                    "local_day": day,
                    "local_hour": 12,
                    "stored_at": stored_at,
                }
            )

    def history(self, group: int, counts: list[int]) -> None:
        for days_back, n in enumerate(reversed(counts), start=1):
            self.add(group, DAY - timedelta(days=days_back), n)


async def fixture(sessions: storage.Sessions) -> None:
    rows = Rows()
    # Alpha: a spike (20 on the day); 3 readable comments and a deleted one stored in the
    # window; 5 of the day's comments analysed with "щука", 3 with "клёв".
    rows.history(ALPHA, HISTORY)
    rows.add(ALPHA, DAY, 5, terms="щука")
    rows.add(ALPHA, DAY, 3, terms="клёв")
    rows.add(ALPHA, DAY, 9)
    rows.add(ALPHA, DAY, 3, stored_at=SINCE + timedelta(hours=1))
    rows.add(ALPHA, DAY, 1, stored_at=SINCE + timedelta(hours=1), deleted=True)
    # Beta: 14 on the day, exactly the threshold: no spike. One stored at the window's start
    # (in it), one at its end (not in it: the next digest's).
    rows.history(BETA, HISTORY)
    rows.add(BETA, DAY, 12)
    rows.add(BETA, DAY, 1, stored_at=SINCE)
    rows.add(BETA, DAY, 1, stored_at=UNTIL)
    # Gamma: 9 on the day, but only 3 days of history: too little to call anything a spike.
    rows.history(GAMMA, [1, 1, 1])
    rows.add(GAMMA, DAY, 9)
    async with sessions.begin() as session:
        await session.execute(
            insert(Group),
            [
                {"id": ALPHA, "screen_name": "alpha", "name": "Alpha"},
                {"id": BETA, "screen_name": "beta", "name": "Beta"},
                {"id": GAMMA, "screen_name": "gamma", "name": "Gamma"},
                {"id": EMPTY, "screen_name": "empty", "name": "Empty"},
            ],
        )
        await session.execute(insert(Comment), rows.rows)
        await storage.mark_days_changed(
            session, {(row["owner_id"], row["local_day"]) for row in rows.rows}
        )
        await session.execute(
            insert(JobAudit),
            [
                audit("failed-before", "failed", SINCE - timedelta(seconds=1)),
                audit("failed-first", "failed", SINCE + timedelta(hours=2)),
                audit("complete-in", "complete", SINCE + timedelta(hours=3)),
                audit("failed-last", "failed", UNTIL - timedelta(seconds=1)),
                audit("failed-after", "failed", UNTIL),
            ],
        )
    await statistics.refresh(sessions)  # the per-day table, counted by the real code


def audit(job_id: str, status: str, finished: datetime) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "job_name": "parse_vk_comments",
        "args": {},
        "status": status,
        "tries": 1,
        "enqueued_at": finished - timedelta(minutes=1),
        "finished_at": finished,
        "summary": "VK error 15: access denied" if status == "failed" else "ok",
    }


async def test_the_digests_numbers_are_exact(sessions: storage.Sessions) -> None:
    await fixture(sessions)
    digest = await gather(sessions, ZONE, SINCE, UNTIL)
    assert digest.day == DAY
    by_name = {c.name: c for c in digest.communities}
    assert list(by_name) == ["Alpha", "Beta", "Empty", "Gamma"]
    alpha, beta, gamma, empty = (by_name[n] for n in ("Alpha", "Beta", "Gamma", "Empty"))
    assert (alpha.new, alpha.total, alpha.day_comments) == (3, 308 + 20, 20)
    assert (beta.new, beta.total, beta.day_comments) == (1, 308 + 14, 14)
    assert (gamma.new, gamma.total, gamma.day_comments) == (0, 3 + 9, 9)
    assert (empty.new, empty.total, empty.day_comments, empty.history) == (0, 0, 0, [])
    assert digest.new == 4 == sum(c.new for c in digest.communities)
    assert alpha.history == HISTORY and (alpha.usual, alpha.spread) == (11.0, 1.0)
    assert alpha.keywords == [("щука", 5), ("клёв", 3)]
    assert beta.keywords == [] and gamma.history == [1, 1, 1]
    assert [c.name for c in digest.communities if c.spike] == ["Alpha"]
    assert [job.job_id for job in digest.failed] == ["failed-first", "failed-last"]

    with use_locale("en"):
        text = digest_text(digest, ZONE)
    assert text.startswith("📰 Daily digest for 29.11.2026")
    assert "Since 29.11.2026 09:00: 4 new comments stored in 4 communities." in text
    assert "• Alpha: 3 new comments, 328 comments stored in all" in text
    assert "29.11.2026: 20 comments — ⚠️ a spike: usually 11.0 ± 1.0 a day" in text
    assert "keywords of the day: щука (5), клёв (3)" in text
    assert "29.11.2026: 14 comments\n" in text  # Beta: at the threshold, no flag
    assert text.count("a spike") == 1
    assert "2 jobs failed since 29.11.2026 09:00:" in text
    assert "Comment collection failed-first: VK error 15: access denied" in text
    with use_locale("ru"):
        russian = digest_text(digest, ZONE)
    assert "4 новых комментария" in russian and "⚠️ всплеск: обычно 11,0 ± 1,0 в день" in russian


async def test_an_empty_digest_says_why_and_the_window_follows_the_last_one(
    sessions: storage.Sessions,
) -> None:
    assert await last_digest(sessions, UNTIL) == UNTIL - timedelta(days=1)
    await remember_digest(sessions, UNTIL)
    later = UNTIL + timedelta(days=1)
    assert await last_digest(sessions, later) == UNTIL
    digest = await gather(sessions, ZONE, UNTIL, later)
    with use_locale("en"):
        text = digest_text(digest, ZONE)
    assert "No community is collected yet: /parse <group> starts one." in text
    assert "No job failed since 30.11.2026 09:00." in text

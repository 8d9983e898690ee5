"""The daily digest: per community what came in, the day's volume against its usual and its
keywords, and the jobs that failed; then the text people read.

Read from the stored comments (`stored_at`), the per-day statistics (`stats_daily`, recounted
first by the job) and the audit trail. The digest speaks of one local day, the last complete
one before it runs (in TIMEZONE); comments and failures are counted since the last digest.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import upsert
from core.i18n import _, current_language, ngettext
from core.jobstate import title_of
from core.models import AppState, Comment, DailyStats, DailyTerm, Group, JobAudit
from core.reports.describe import day_text
from core.storage import Sessions

HISTORY_DAYS = 28  # the "usual" a day is compared with: the four weeks before it
MIN_HISTORY_DAYS = 7  # fewer days of history than this: no usual to speak of, no spike flag
SPIKE_SDS = 3
TOP_KEYWORDS = 5
FAILED_SHOWN = 10
FIRST_WINDOW = timedelta(days=1)  # the first digest ever looks back this far
LAST_DIGEST_KEY = "digest:last"


@dataclass(frozen=True)
class CommunityDigest:
    owner_id: int  # as comments store it: minus the community id
    name: str
    new: int  # readable comments stored since the last digest
    total: int  # readable comments stored in all
    day_comments: int  # readable comments published on the digest's day
    history: list[int] = field(default_factory=list)  # comments per day of the weeks before
    keywords: list[tuple[str, int]] = field(default_factory=list)  # the day's, with comments

    @property
    def usual(self) -> float:
        return statistics.fmean(self.history) if self.history else 0.0

    @property
    def spread(self) -> float:
        return statistics.pstdev(self.history) if self.history else 0.0

    @property
    def spike(self) -> bool:
        """The day is far above its usual: over mean + 3 sd of the four weeks before."""
        if len(self.history) < MIN_HISTORY_DAYS:
            return False
        return self.day_comments > self.usual + SPIKE_SDS * self.spread


@dataclass(frozen=True)
class FailedJob:
    job_id: str
    job_name: str
    error: str


@dataclass(frozen=True)
class Digest:
    since: datetime
    until: datetime
    day: date
    communities: list[CommunityDigest]
    failed: list[FailedJob]

    @property
    def new(self) -> int:
        return sum(community.new for community in self.communities)


def digest_day(until: datetime, zone: tzinfo) -> date:
    """The last complete local day before the digest runs."""
    return until.astimezone(zone).date() - timedelta(days=1)


async def gather(sessions: Sessions, zone: tzinfo, since: datetime, until: datetime) -> Digest:
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    day = digest_day(until, zone)
    first = day - timedelta(days=HISTORY_DAYS)
    readable = Comment.deleted.is_(False)
    async with sessions() as session:
        groups = (await session.execute(select(Group.id, Group.name, Group.screen_name))).all()
        new = await _pairs(
            session,
            select(Comment.owner_id, func.count())
            .where(readable, Comment.stored_at >= since, Comment.stored_at < until)
            .group_by(Comment.owner_id),
        )
        totals = await _pairs(
            session,
            select(Comment.owner_id, func.count()).where(readable).group_by(Comment.owner_id),
        )
        starts = await _pairs(
            session,
            select(DailyStats.owner_id, func.min(DailyStats.day)).group_by(DailyStats.owner_id),
        )
        days = await session.execute(
            select(DailyStats.owner_id, DailyStats.day, DailyStats.comments)
            .where(DailyStats.day >= first, DailyStats.day <= day)
        )  # fmt: skip
        day_terms = await session.execute(
            select(DailyTerm.owner_id, DailyTerm.term, DailyTerm.comments)
            .where(DailyTerm.day == day)
            .order_by(DailyTerm.owner_id, DailyTerm.comments.desc(), DailyTerm.term)
        )
        terms_of: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for owner, term, mentions in day_terms:
            terms_of[int(owner)].append((str(term), int(mentions)))
        failed = await session.execute(
            select(JobAudit.job_id, JobAudit.job_name, JobAudit.summary)
            .where(
                JobAudit.status == "failed",
                JobAudit.finished_at >= since,
                JobAudit.finished_at < until,
            )
            .order_by(JobAudit.finished_at)
        )
        failures = [FailedJob(str(i), str(n), str(s or "")) for i, n, s in failed]
    per_day: dict[tuple[int, date], int] = {
        (int(owner), d): int(comments) for owner, d, comments in days
    }
    communities = []
    for group_id, name, screen_name in sorted(groups, key=lambda g: (str(g[1]).lower(), g[0])):
        owner = -int(group_id)
        start = starts.get(owner)
        history = [
            per_day.get((owner, first + timedelta(days=i)), 0)
            for i in range(HISTORY_DAYS)
            if start is not None and first + timedelta(days=i) >= start
        ]
        comments = per_day.get((owner, day), 0)
        communities.append(
            CommunityDigest(
                owner_id=owner,
                name=str(name or screen_name or group_id),
                new=int(new.get(owner, 0)),
                total=int(totals.get(owner, 0)),
                day_comments=comments,
                history=history,
                keywords=terms_of[owner][:TOP_KEYWORDS],
            )
        )
    return Digest(since, until, day, communities, failures)


async def _pairs(session: AsyncSession, query: Select[int, Any]) -> dict[int, Any]:
    """A two-column query as a dict by its first column."""
    return {int(key): value for key, value in await session.execute(query)}


async def last_digest(sessions: Sessions, until: datetime) -> datetime:
    """When the last digest was made (the first one looks back a day)."""
    async with sessions() as session:
        stored = await session.get(AppState, LAST_DIGEST_KEY)
    return datetime.fromisoformat(stored.value) if stored else until - FIRST_WINDOW


async def remember_digest(sessions: Sessions, until: datetime) -> None:
    async with sessions.begin() as session:
        await upsert(
            session,
            AppState.__table__,  # type: ignore[arg-type]
            [{"key": LAST_DIGEST_KEY, "value": until.astimezone(UTC).isoformat()}],
            keys=["key"],
            update=["value"],
        )


def digest_text(digest: Digest, zone: tzinfo) -> str:
    """The digest in the current language; numbers that add up, and a reason when empty."""
    since = digest.since.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    lines = [_("📰 Daily digest for {day}", day=day_text(digest.day))]
    if not digest.communities:
        lines.append(_("No community is collected yet: /parse <group> starts one."))
    else:
        lines.append(
            _(
                "Since {since}: {comments} stored in {communities}.",
                since=since,
                comments=ngettext("{n} new comment", "{n} new comments", digest.new),
                communities=ngettext("{n} community", "{n} communities", len(digest.communities)),
            )
        )
        lines.extend(_community_lines(community, digest.day) for community in digest.communities)
    lines.append(_failed_lines(digest.failed, since))
    return "\n\n".join(lines)


def _community_lines(community: CommunityDigest, day: date) -> str:
    lines = [
        "• "
        + _(
            "{name}: {new}, {total} stored in all",
            name=community.name,
            new=ngettext("{n} new comment", "{n} new comments", community.new),
            total=ngettext("{n} comment", "{n} comments", community.total),
        ),
        _(
            "{day}: {comments}",
            day=day_text(day),
            comments=ngettext("{n} comment", "{n} comments", community.day_comments),
        ),
    ]
    if community.spike:
        lines[-1] += " — " + _(
            "⚠️ a spike: usually {usual} ± {spread} a day",
            usual=_decimal(community.usual),
            spread=_decimal(community.spread),
        )
    if community.keywords:
        words = ", ".join(f"{term} ({count})" for term, count in community.keywords)
        lines.append(_("keywords of the day: {words}", words=words))
    elif community.day_comments:
        lines.append(_("keywords of the day: none yet (the comments are not analysed)"))
    return "\n  ".join(lines)


def _decimal(value: float) -> str:
    """One decimal, written as the reader's language writes it (3,5 in Russian)."""
    return str(format_decimal(round(value, 1), format="0.0", locale=current_language()))


def _failed_lines(failed: list[FailedJob], since: str) -> str:
    if not failed:
        return _("No job failed since {since}.", since=since)
    lines = [
        ngettext(
            "{n} job failed since {since}:", "{n} jobs failed since {since}:", len(failed),
            since=since,
        )
    ]  # fmt: skip
    lines.extend(
        f"{title_of(job.job_name)} {job.job_id}: {job.error}" for job in failed[:FAILED_SHOWN]
    )
    if len(failed) > FAILED_SHOWN:
        hidden = len(failed) - FAILED_SHOWN
        lines.append(ngettext("and {n} more", "and {n} more", hidden))
    return "\n".join(lines)

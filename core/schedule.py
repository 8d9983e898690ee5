"""Recurring jobs: which rules the settings give, and enqueueing one slot of a rule exactly once.

A slot (one firing time of a rule) becomes a job whose id is made of the rule's name and the slot
time in UTC, enqueued once (arq refuses an id it holds) and claimed in Redis only then: a restart,
a second bot instance or a late catch-up asking for the same slot get the job that exists
instead, and one asking after an asker that failed before the enqueue enqueues it. The last
slot enqueued per rule is kept in Redis, so a process starting after a slot passed (within the
grace period) knows it was missed and runs it once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.catalog import JobArgs, JobSpec
from core.crontab import latest_slot
from core.i18n import N_
from core.queue import JobQueue, Submitted
from core.settings import Settings

LAST_SLOT_KEY = "vkc:schedule:last:{key}"
# Interval rules count from this instant, so every instance computes the same slots.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MAX_ID = 64  # job_audit.job_id


@dataclass(frozen=True)
class Recurring:
    """A recurring job of the settings: `rule` empty means off."""

    key: str  # names the rule in Redis and in job ids
    title: str  # N_ text: what /schedule calls it
    setting: str
    job: str
    rule: str


def recurring(settings: Settings) -> list[Recurring]:
    """The configured rules, in the order /schedule lists them."""
    return [
        Recurring(
            "statistics", N_("Statistics recount"), "SCHEDULE_STATISTICS",
            "update_statistics", settings.schedule_statistics,
        ),
        Recurring(
            "backup", N_("Database backup"), "SCHEDULE_BACKUP",
            "backup_database", settings.schedule_backup,
        ),
        Recurring(
            "cleanup", N_("Old data cleanup"), "SCHEDULE_CLEANUP",
            "cleanup_old_data", settings.schedule_cleanup,
        ),
        Recurring(
            "digest", N_("Daily digest"), "SCHEDULE_DIGEST",
            "send_digest", settings.schedule_digest,
        ),
    ]  # fmt: skip


def watch_key(chat_id: int, group: str) -> str:
    return f"watch:{chat_id}:{group}"


def interval_trigger(minutes: int) -> IntervalTrigger:
    return IntervalTrigger(minutes=minutes, start_date=EPOCH, timezone=UTC)


def slot_job_id(key: str, slot: datetime) -> str:
    """The job id of one slot of a rule: `digest:2026-11-30T06:00:00Z`.

    In the characters and length /status takes and the audit table holds (64): other
    characters become "-" (never in a screen name, so no two rules meet), and a long rule name
    is cut and completed with a hash of it.
    """
    stamp = slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = re.sub(r"[^A-Za-z0-9:_-]", "-", key)
    if len(name) > MAX_ID - len(stamp) - 1:
        digest = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]
        name = f"{name[: MAX_ID - len(stamp) - len(digest) - 2]}-{digest}"
    return f"{name}:{stamp}"


def current_slot(trigger: BaseTrigger, now: datetime, grace: int) -> datetime | None:
    """The slot a firing at `now` is for: the latest one at most `grace` seconds old."""
    return latest_slot(trigger, now, now - timedelta(seconds=grace))


async def last_slot(queue: JobQueue, key: str) -> datetime | None:
    raw = await queue.redis.get(LAST_SLOT_KEY.format(key=key))
    return datetime.fromisoformat(raw.decode()) if raw else None


async def enqueue_slot(
    queue: JobQueue, key: str, spec: JobSpec, args: JobArgs, slot: datetime
) -> Submitted:
    """Enqueue one slot's job, at most once whoever asks; remember it as the rule's last slot.

    The job has no person and no chat: it closes silently, a failure goes to NOTIFY_CHAT_ID.
    Its texts are in DEFAULT_LANGUAGE (the queue's rule for a job nobody asked for).
    """
    submitted = await queue.submit(
        spec, args, user_id=None, chat_id=None, language=None, job_id=slot_job_id(key, slot)
    )
    previous = await last_slot(queue, key)
    if previous is None or slot > previous:
        await queue.redis.set(LAST_SLOT_KEY.format(key=key), slot.astimezone(UTC).isoformat())
    return submitted


async def catch_up(
    queue: JobQueue, key: str, spec: JobSpec, args: JobArgs, trigger: BaseTrigger, now: datetime
) -> Submitted | None:
    """At start: the most recent slot missed since the last one enqueued, if within the grace
    period, is enqueued now (once: its id is the slot's). None when nothing was missed or the
    rule never ran before (nothing is known to be missed)."""
    last = await last_slot(queue, key)
    if last is None:
        return None
    since = max(last, now - timedelta(seconds=queue.settings.schedule_grace))
    slot = latest_slot(trigger, now, since)
    if slot is None:
        return None
    return await enqueue_slot(queue, key, spec, args, slot)

"""The scheduler over a real Redis and SQLite: each slot enqueued once, whoever asks and however
often it restarts; a slot missed while it was down runs once at start (within the grace period).
The rules' arithmetic (crontab weekdays, slots) is checked without any service."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from redis.exceptions import ResponseError
from sqlalchemy import select

from bot.handlers.control import JOB_ID
from bot.scheduler import BotScheduler
from core import subscriptions
from core.catalog import CATALOG
from core.crontab import cron_trigger, latest_slot, next_slot
from core.db import make_engine, make_sessionmaker, migrate
from core.models import JobAudit
from core.queue import JobQueue
from core.redis_client import connect
from core.schedule import LAST_SLOT_KEY, enqueue_slot, slot_job_id
from core.settings import Settings, load_settings
from tests.faults import wait_until

ADMIN_CHAT = 1001


def test_crontab_weekdays_mean_what_crontab_means() -> None:
    """0 and 7 are Sunday, 1-5 Monday to Friday (APScheduler 3 alone would shift them)."""
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday
    sunday = cron_trigger("0 9 * * 0", UTC)
    assert next_slot(sunday, monday) == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert next_slot(cron_trigger("0 9 * * 7", UTC), monday) == datetime(
        2026, 12, 6, 9, 0, tzinfo=UTC
    )
    weekdays = cron_trigger("30 18 * * 1-5", UTC)
    saturday = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    assert next_slot(weekdays, saturday) == datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
    assert next_slot(cron_trigger("0 0 * * */2", UTC), monday) == datetime(2026, 12, 1, tzinfo=UTC)


def test_slots_are_read_in_the_zone_and_the_latest_is_found() -> None:
    trigger = cron_trigger("0 9 * * *", "Europe/Moscow")  # 06:00 UTC
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert latest_slot(trigger, now, now - timedelta(days=3)) == datetime(
        2026, 11, 30, 6, 0, tzinfo=UTC
    )
    assert latest_slot(trigger, now, now - timedelta(minutes=30)) is None
    nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert slot_job_id("digest", nine) == "digest:2026-11-30T09:00:00Z"
    assert slot_job_id("watch:-1001:a.b", nine) == "watch:-1001:a-b:2026-11-30T09:00:00Z"
    long_ones = {slot_job_id(f"watch:-1001234567890:{'x' * 60}{n}", nine) for n in range(3)}
    assert len(long_ones) == 3 and all(len(job_id) == 64 for job_id in long_ones)
    assert all(JOB_ID.match(job_id) for job_id in long_ones)


@pytest.mark.parametrize("rule", ["0 9 * *", "61 * * * *", "0 9 * * 8", "every day"])
def test_a_bad_rule_stops_with_one_line_naming_the_setting(
    rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings(_env_file=None, schedule_digest=rule)
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("configuration error: SCHEDULE_DIGEST: expected a crontab rule")
    assert "\n" not in error


def settings_for(redis_url: str, tmp_path: Path, **rules: Any) -> Settings:
    values: dict[str, Any] = {
        "schedule_statistics": "",
        "schedule_backup": "",
        "schedule_cleanup": "",
        "schedule_digest": "",
        **rules,
    }
    return Settings(
        _env_file=None,
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'schedule.sqlite3'}",
        arq_queue_name="arq:schedule-test",
        timezone="UTC",
        **values,
    )


@contextlib.asynccontextmanager
async def scheduler_of(settings: Settings) -> AsyncIterator[BotScheduler]:
    """A started scheduler with its own Redis client and database engine (as a process has)."""
    await migrate(settings.db_url)
    engine = make_engine(settings.db_url)
    redis = await connect(settings)
    queue = JobQueue(redis, make_sessionmaker(engine), settings)
    scheduler = BotScheduler(queue)
    try:
        await scheduler.start()
        yield scheduler
    finally:
        scheduler.stop()
        await queue.write_audit()  # as the bot does at shutdown
        await redis.aclose()
        await engine.dispose()


async def audit_ids(settings: Settings, job_name: str) -> list[str]:
    engine = make_engine(settings.db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            query = select(JobAudit.job_id).where(JobAudit.job_name == job_name)
            return list((await session.scalars(query)).all())
    finally:
        await engine.dispose()


async def test_two_schedulers_over_one_redis_enqueue_each_slot_once(
    redis_url: str, tmp_path: Path, redis: Any
) -> None:
    """Both fire every second; every slot becomes exactly one job (audit row and arq job)."""
    settings = settings_for(redis_url, tmp_path, schedule_digest="* * * * * *")
    fired: Counter[int] = Counter()
    async with scheduler_of(settings) as first, scheduler_of(settings) as second:
        for number, scheduler in enumerate((first, second)):

            def count(event: JobExecutionEvent, number: int = number) -> None:
                if event.job_id == "digest" and event.exception is None:
                    fired[number] += 1

            scheduler.scheduler.add_listener(count, EVENT_JOB_EXECUTED)

        await wait_until(
            "both schedulers fired 4 times", lambda: min(fired[0], fired[1]) >= 4, timeout=90
        )
    ids = await audit_ids(settings, "send_digest")
    assert len(ids) == len(set(ids)) >= 4
    assert all(job_id.startswith("digest:") for job_id in ids)
    # Both fired for the same slots more often than there are jobs: the second asker of a
    # slot got the existing job back.
    assert fired[0] + fired[1] > len(ids)
    queued = {key.decode().removeprefix("arq:job:") for key in await redis.keys("arq:job:*")}
    assert queued == set(ids)


async def test_a_missed_slot_runs_once_after_a_restart(
    redis_url: str, tmp_path: Path, redis: Any
) -> None:
    """The rule's slot passed two minutes ago while no scheduler ran; the last slot enqueued
    was the day before. Starting enqueues it; starting again (a restart) does not again."""
    missed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    rule = f"{missed.minute} {missed.hour} * * *"
    settings = settings_for(redis_url, tmp_path, schedule_digest=rule)
    await redis.set(LAST_SLOT_KEY.format(key="digest"), (missed - timedelta(days=1)).isoformat())
    async with scheduler_of(settings) as scheduler:
        next_run = scheduler.next_run("digest")
        assert next_run is not None and next_run - missed == timedelta(days=1)
    assert await audit_ids(settings, "send_digest") == [slot_job_id("digest", missed)]
    async with scheduler_of(settings), scheduler_of(settings):  # a restart, and a second bot
        pass
    assert await audit_ids(settings, "send_digest") == [slot_job_id("digest", missed)]
    assert await redis.exists(f"arq:job:{slot_job_id('digest', missed)}")
    stored = await redis.get(LAST_SLOT_KEY.format(key="digest"))
    assert datetime.fromisoformat(stored.decode()) == missed


async def test_a_slot_older_than_the_grace_period_or_never_known_is_not_run(
    redis_url: str, tmp_path: Path, redis: Any
) -> None:
    missed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    rule = f"{missed.minute} {missed.hour} * * *"
    settings = settings_for(redis_url, tmp_path, schedule_digest=rule, schedule_grace=60)
    async with scheduler_of(settings):  # no last slot recorded: nothing is known to be missed
        pass
    await redis.set(LAST_SLOT_KEY.format(key="digest"), (missed - timedelta(days=1)).isoformat())
    async with scheduler_of(settings):  # missed 3 minutes ago, grace 1 minute
        pass
    assert await audit_ids(settings, "send_digest") == []


async def test_a_rule_whose_job_this_version_lacks_is_logged_not_scheduled(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        redis_url, tmp_path, schedule_backup="0 3 * * *", schedule_statistics="0 4 * * *"
    )
    async with scheduler_of(settings) as scheduler:
        planned = {entry.recurring.key: entry for entry in scheduler.plan()}
    assert planned["statistics"].next_run is not None
    assert planned["cleanup"].recurring.rule == "" and planned["cleanup"].next_run is None
    if "backup_database" in CATALOG:  # once the backup job is merged
        assert planned["backup"].next_run is not None
        return
    assert planned["backup"].next_run is None
    lines = [r.getMessage() for r in caplog.records if "SCHEDULE_BACKUP" in r.getMessage()]
    assert lines == [
        "SCHEDULE_BACKUP is set, but this version has no job backup_database: not scheduled"
    ]


async def test_a_paused_watch_is_not_scheduled_until_watched_again(
    redis_url: str, tmp_path: Path
) -> None:
    """VK said the community cannot be read: its watch leaves the schedule at the next sync,
    the other stays; /watch (the upsert) puts it back."""
    settings = settings_for(redis_url, tmp_path)
    async with scheduler_of(settings) as scheduler:
        sessions = scheduler.queue.sessions
        for group in ("gone_club", "fine_club"):
            await subscriptions.watch(sessions, ADMIN_CHAT, group, 5, ADMIN_CHAT)
        await scheduler.sync_watches()
        assert scheduler.watch_next_run(ADMIN_CHAT, "gone_club") is not None
        assert await subscriptions.pause(sessions, ADMIN_CHAT, "gone_club", 18)
        assert not await subscriptions.pause(sessions, ADMIN_CHAT, "gone_club", 18)  # once
        await scheduler.sync_watches()
        assert scheduler.watch_next_run(ADMIN_CHAT, "gone_club") is None
        assert scheduler.watch_next_run(ADMIN_CHAT, "fine_club") is not None
        await subscriptions.watch(sessions, ADMIN_CHAT, "gone_club", 5, ADMIN_CHAT)
        await scheduler.sync_watches()
        assert scheduler.watch_next_run(ADMIN_CHAT, "gone_club") is not None


async def test_a_watch_set_checks_at_once_and_not_twice(redis_url: str, tmp_path: Path) -> None:
    """/watch checks at once instead of a whole interval later: one check, however often it is
    asked while one is queued (the parse's dedupe key), under an id marked "now" that no slot
    of the watch can hold."""
    settings = settings_for(redis_url, tmp_path)
    async with scheduler_of(settings) as scheduler:
        sessions = scheduler.queue.sessions
        await subscriptions.watch(sessions, ADMIN_CHAT, "fine_club", 60, ADMIN_CHAT)
        await scheduler.sync_watches()
        assert await scheduler.check_watch_now(ADMIN_CHAT, "fine_club")
        assert not await scheduler.check_watch_now(ADMIN_CHAT, "fine_club")
        next_run = scheduler.watch_next_run(ADMIN_CHAT, "fine_club")
    (check,) = await audit_ids(settings, "watch_vk_comments")
    asked = datetime.fromisoformat(check.removeprefix("watch:1001:fine_club:now:"))
    assert next_run is not None and asked < next_run <= asked + timedelta(minutes=60)


async def test_a_slot_its_first_asker_failed_to_enqueue_is_enqueued_by_the_next(
    redis_url: str, tmp_path: Path, redis: Any
) -> None:
    """An asker claims a slot only once it enqueued it: one whose enqueue Redis refused (as one
    that died on the way) leaves the slot to the next asker, which enqueues it once; an asker
    after that is told it exists."""
    settings = settings_for(redis_url, tmp_path)
    spec = CATALOG["send_digest"]
    slot = datetime.now(UTC).replace(microsecond=0)
    job_id = slot_job_id("digest", slot)
    # A Redis user that may read but not add to the queue: arq's enqueue fails at ZADD.
    await redis.execute_command("ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@all", "-zadd")
    limited = settings.model_copy(update={"redis_url": redis_url.replace("://", "://reader:pw@")})
    engine = make_engine(settings.database_url)
    failing = JobQueue(await connect(limited), make_sessionmaker(engine), limited)
    try:
        with pytest.raises(ResponseError):
            await enqueue_slot(failing, "digest", spec, spec.args(), slot)
    finally:
        await failing.redis.aclose()
        await engine.dispose()
    assert not await redis.exists(f"arq:job:{job_id}")

    async with scheduler_of(settings) as scheduler:
        first = await enqueue_slot(scheduler.queue, "digest", spec, spec.args(), slot)
        again = await enqueue_slot(scheduler.queue, "digest", spec, spec.args(), slot)
    assert (first.job_id, first.existing) == (job_id, False)
    assert (again.job_id, again.existing) == (job_id, True)
    assert await redis.exists(f"arq:job:{job_id}")
    assert await audit_ids(settings, "send_digest") == [job_id]

"""The bot's scheduler: APScheduler enqueues the recurring jobs and the watched communities.

The bot process is its home (Telegram allows one poller per token, so there is one bot); a
second instance would still enqueue each slot once (see `core.schedule`). Rules come from the
settings; watches from the database, read again every WATCH_SYNC_S (and at once after /watch
or /unwatch in this process).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import ValidationError

from core import subscriptions
from core.catalog import CATALOG, JobArgs, JobSpec, WatchArgs
from core.crontab import cron_trigger
from core.queue import JobQueue
from core.schedule import (
    Recurring,
    catch_up,
    current_slot,
    enqueue_slot,
    interval_trigger,
    recurring,
    slot_job_id,
    watch_key,
)

log = logging.getLogger(__name__)

WATCH_SYNC_S = 60


@dataclass(frozen=True)
class Planned:
    """One recurring job as /schedule shows it: next run None when it is not scheduled."""

    recurring: Recurring
    next_run: datetime | None


class BotScheduler:
    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self.settings = queue.settings
        self.scheduler = AsyncIOScheduler(timezone=self.settings.zone)
        # APScheduler logs every run at INFO (the watch sync alone once a minute); the slots
        # enqueued are logged here, its warnings and errors still show.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self.watch_minutes: dict[str, int] = {}

    async def start(self) -> None:
        """Schedule the configured rules (catching up a missed slot of each), then the watches."""
        for rule in recurring(self.settings):
            if not rule.rule:
                continue
            spec = CATALOG.get(rule.job)
            if spec is None:
                log.warning(
                    "%s is set, but this version has no job %s: not scheduled",
                    rule.setting,
                    rule.job,
                )
                continue
            try:
                args = spec.args()
            except ValidationError:
                log.warning("%s: job %s needs arguments: not scheduled", rule.setting, rule.job)
                continue
            await self._add(rule.key, spec, args, cron_trigger(rule.rule, self.settings.zone))
        self.scheduler.start()
        await self.sync_watches()
        self.scheduler.add_job(
            self.sync_watches,
            IntervalTrigger(seconds=WATCH_SYNC_S),
            id="watch-sync",
            coalesce=True,
            max_instances=1,
        )

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _add(self, key: str, spec: JobSpec, args: JobArgs, trigger: BaseTrigger) -> None:
        try:
            caught = await catch_up(self.queue, key, spec, args, trigger, datetime.now(UTC))
        except Exception as error:  # Redis or the database out: the next slot comes anyway
            log.warning("schedule %s: missed slot not checked (%s)", key, type(error).__name__)
        else:
            if caught is not None and not caught.existing:
                log.info("schedule %s: missed slot enqueued as job %s", key, caught.job_id)
        self.scheduler.add_job(
            self._fire,
            trigger,
            args=(key, spec, args, trigger),
            id=key,
            replace_existing=True,
            misfire_grace_time=self.settings.schedule_grace,
            coalesce=True,
            max_instances=1,
        )

    async def _fire(self, key: str, spec: JobSpec, args: JobArgs, trigger: BaseTrigger) -> None:
        slot = current_slot(trigger, datetime.now(UTC), self.settings.schedule_grace)
        if slot is None:
            return
        try:
            submitted = await enqueue_slot(self.queue, key, spec, args, slot)
        except Exception as error:  # an outage costs this slot, never the scheduler
            log.warning("schedule %s: slot %s not enqueued (%s)", key, slot, type(error).__name__)
            return
        if not submitted.existing:
            log.info("schedule %s: slot %s enqueued as job %s", key, slot, submitted.job_id)

    async def sync_watches(self) -> None:
        """Make the scheduled watches those of the database."""
        try:
            rows = await subscriptions.watches(self.queue.sessions)
        except Exception as error:
            log.warning("watches not read (%s)", type(error).__name__)
            return
        # A paused watch (VK said its community cannot be read) waits for /watch again.
        wanted = {watch_key(r.chat_id, r.group): r for r in rows if r.paused_for is None}
        for key, minutes in list(self.watch_minutes.items()):
            if key not in wanted or wanted[key].minutes != minutes:
                self.scheduler.remove_job(key)
                del self.watch_minutes[key]
        for key, row in wanted.items():
            if key in self.watch_minutes:
                continue
            args = WatchArgs(group=row.group, chat_id=row.chat_id)
            spec = CATALOG["watch_vk_comments"]
            await self._add(key, spec, args, interval_trigger(row.minutes))
            self.watch_minutes[key] = row.minutes

    async def check_watch_now(self, chat_id: int, group: str) -> bool:
        """A watch set or resumed checks at once, not a whole interval later. True if a check
        was enqueued.

        A one-off check beside the slots: its id is the watch's, marked "now", with the second
        it was asked (a message repeated within it gets the same check; a slot's id never
        equals it), and a running check or /parse of the community is returned instead (one
        dedupe key), so nothing is parsed twice.
        """
        key = watch_key(chat_id, group)
        asked = datetime.now(UTC).replace(microsecond=0)
        try:
            submitted = await self.queue.submit(
                CATALOG["watch_vk_comments"],
                WatchArgs(group=group, chat_id=chat_id),
                user_id=None,
                chat_id=None,
                language=None,  # speaks DEFAULT_LANGUAGE, as every check of a watch
                job_id=slot_job_id(f"{key}:now", asked),
            )
        except Exception as error:  # Redis out: the scheduled checks still come
            log.warning("watch %s: first check not enqueued (%s)", key, type(error).__name__)
            return False
        return not submitted.existing

    def next_run(self, key: str) -> datetime | None:
        job = self.scheduler.get_job(key)
        return job.next_run_time if job is not None else None

    def plan(self) -> list[Planned]:
        """Each recurring job with its rule and next run, for /schedule."""
        return [Planned(rule, self.next_run(rule.key)) for rule in recurring(self.settings)]

    def watch_next_run(self, chat_id: int, group: str) -> datetime | None:
        return self.next_run(watch_key(chat_id, group))

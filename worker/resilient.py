"""arq's Worker, made to ride out Redis outages of any length instead of exiting.

arq's main loop raises on the first lost connection and the process ends; a half-done step
also leaves a job slot held or a job marked in progress. Here a lost Redis is waited for with
backoff (one log line when it goes, one when it is back), and each step is repaired so that
every job still runs to its end exactly as arq would have run it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from arq.constants import in_progress_key_prefix, retry_key_prefix
from arq.worker import Worker
from redis.exceptions import RedisError

from core.redis_client import connect
from worker.resilience import Condition

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.25
MAX_DELAY_S = 5.0
# A job whose start failed (a hook could not reach the database) waits this long before it is
# put back, so an outage does not spin it through start after start.
PUT_BACK_DELAY_S = 1.0


def backoff() -> Iterator[float]:
    """Waits between attempts: doubling from FIRST_DELAY_S up to MAX_DELAY_S, for ever."""
    delay = FIRST_DELAY_S
    while True:
        yield delay
        delay = min(delay * 2, MAX_DELAY_S)


class ResilientWorker(Worker):
    """`arq.Worker` that never exits on a Redis outage; `python -m worker` runs this one."""

    # arq's `Worker` arguments, not `**options`: arq's CLI picks the settings it passes by them.
    __signature__ = inspect.signature(Worker)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.redis_state = Condition("Redis")  # logs once when lost, once when back
        self._poll_waits = backoff()

    async def main(self) -> None:
        """Use our Redis client (every command bounded by REDIS_TIMEOUT), then arq's loop."""
        if self._pool is None:
            self._pool = await connect(self.ctx["settings"])
        await super().main()

    async def _poll_iteration(self) -> None:
        """One poll; with Redis gone, wait (backoff) instead of letting arq's loop raise."""
        try:
            await super()._poll_iteration()
        except RedisError as error:
            self.redis_state.failed(error)
            await asyncio.sleep(next(self._poll_waits))
        else:
            self.redis_state.recovered()
            self._poll_waits = backoff()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's start, one job at a time, giving back the slot of a job whose start failed."""
        for job_id in job_ids:
            counter = self.job_counter
            task_before = self.tasks.get(job_id.decode())
            try:
                await super().start_jobs([job_id])
            except BaseException:
                if self.job_counter > counter and self.tasks.get(job_id.decode()) is task_before:
                    self._release_sem_dec_counter_on_complete()
                raise

    async def run_job(self, job_id: str, score: int) -> None:
        """arq's run; if a step before the job function failed, the job is put back whole."""
        try:
            await super().run_job(job_id, score)
        except Exception as error:
            log.info("job %s could not start (%s); putting it back", job_id, type(error).__name__)
            await asyncio.sleep(PUT_BACK_DELAY_S)
            await self._until_redis_answers(self._put_back, job_id)

    async def _put_back(self, job_id: str) -> None:
        """Let any worker pick the job again without spending a try on a run that never was.

        Steps after the function (finishing) retry until Redis answers, so a job still in the
        queue here did not run.
        """
        if await self.pool.zscore(self.queue_name, job_id) is None:
            return
        tries_key = retry_key_prefix + job_id
        if int(await self.pool.get(tries_key) or 0) > 0:  # the cut-off step may not have counted
            await self.pool.decr(tries_key)
        await self.pool.delete(in_progress_key_prefix + job_id)

    async def finish_job(self, *args: Any, **kwargs: Any) -> None:
        await self._until_redis_answers(super().finish_job, *args, **kwargs)

    async def finish_failed_job(self, job_id: str, result_data: bytes | None) -> None:
        await self._until_redis_answers(super().finish_failed_job, job_id, result_data)

    async def close(self) -> None:
        """arq's close; a Redis still down at shutdown is logged, not raised."""
        try:
            await super().close()
        except RedisError as error:
            log.warning("Redis unreachable at shutdown (%s)", type(error).__name__)

    async def _until_redis_answers(
        self, step: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any
    ) -> None:
        """Run an idempotent Redis step until it succeeds, waiting out an outage."""
        for delay in backoff():
            try:
                await step(*args, **kwargs)
            except RedisError as error:
                self.redis_state.failed(error)
                await asyncio.sleep(delay)
            else:
                self.redis_state.recovered()
                return

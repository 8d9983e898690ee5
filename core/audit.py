"""The job audit trail, written in batches: many job events share one database transaction.

Each audit write used to be a transaction of its own, and at queue speed a commit per job event
cost more than the job. Here events gather for a moment (or while a write is in flight) and the
next write takes all of them ("group commit"): under load hundreds share a commit.

Nobody on a job's path waits for a write, and every write is order-independent, because the
job's enqueue (bot, API, scheduler) and its worker are different processes with batches of
their own:

* `insert` (a job enqueued) creates the row unless it exists: a worker may have written first.
* `update` sets columns; given the job's row as enqueued (`create`, the worker has it: the job
  carries its origin), it creates the row when its insert is not written yet.
* A failed write is retried with backoff, inserts and updates alike, merged with later events of
  the same job; what a killed process had not written yet, the worker's sweeper reconciles from
  arq's state, and a started job's row is written by its worker anyway.
* Reads of job rows (`core.storage`) first wait for what this process added so far
  (`caught_up`): a job just queued shows in /jobs and /status at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import upsert
from core.models import JobAudit

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 5.0
# How long events nobody waits for may gather before they are written. Each batch is a dozen
# hand-offs to SQLite's driver thread, each taking the GIL from the event loop between its
# socket calls: at 50 ms (40 batches a second at queue speed) they cost more than the writes.
LINGER_S = 0.2
# How long an awaited update waits for its row, written by another process's batch.
ROW_WAIT_S = 10.0
Row = dict[str, Any]
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Batch:
    """Events gathered while the previous batch was being written."""

    # Rows to create where none exists: a new job's, or the one its worker writes with its update.
    creates: dict[str, Row] = field(default_factory=dict)
    # Columns to set, per job.
    updates: dict[str, Row] = field(default_factory=dict)
    written: asyncio.Future[BaseException | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    # Someone waits for this batch's commit: write it at once, even in the middle of lingering.
    awaited: asyncio.Event = field(default_factory=asyncio.Event)

    def empty(self) -> bool:
        return not self.creates and not self.updates

    async def linger(self) -> None:
        """Let events nobody waits for gather for LINGER_S, unless someone starts waiting.

        A reader waiting for the batch (`caught_up`, `update_now`) would otherwise wait out the
        linger (a fixed linger once cost every enqueue up to LINGER_S).
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LINGER_S):
                await self.awaited.wait()


class AuditTrail:
    """One per process and database (`audit_trail(sessions)`); a task writes the batches."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.gathering: Batch | None = None
        self.writing: Batch | None = None
        self.writer: asyncio.Task[None] | None = None
        self.failing_since: float | None = None

    def insert(self, row: Row) -> None:
        """Add a new job's row with the next batch, without waiting; an existing row is kept
        (its worker may have written it first, with progress)."""
        self._batch().creates.setdefault(row["job_id"], row)
        self._start_writer()

    def update(self, job_id: str, *, create: Row | None = None, **values: Any) -> None:
        """Set columns of a job's row with the next batch, without waiting; later values win.

        `create`: the job's row as enqueued, written with the values if the row is not there
        yet (its insert, in another process, not written yet). Without it, a missing row stays
        missing (a job enqueued without an audit row, like a closing message).
        """
        batch = self._batch()
        if create is not None:
            batch.creates.setdefault(job_id, create)
        batch.updates.setdefault(job_id, {}).update(values)
        self._start_writer()

    async def update_now(self, job_id: str, **values: Any) -> None:
        """`update`, returning once it is committed; in order with this process's other writes.

        Its row may not be written yet (the enqueue's insert and the start wait in other
        processes' batches for a moment) and an update of a missing row is lost: a closing
        message recorded as sent that way was sent again by a rerun. So the row is waited for,
        up to ROW_WAIT_S (a job enqueued without a row gives up then)."""
        await self._row_written(job_id)
        await self.update_committed(job_id, **values)

    async def update_committed(self, job_id: str, **values: Any) -> None:
        """`update`, returning once it is committed (raising if the write failed), without
        waiting for a row another process may not have written yet: a missing row stays
        missing."""
        batch = self._batch()
        batch.updates.setdefault(job_id, {}).update(values)
        await self._committed(batch)

    async def _committed(self, batch: Batch) -> None:
        batch.awaited.set()
        self._start_writer()
        error = await asyncio.shield(batch.written)
        if error is not None:
            raise error

    async def _row_written(self, job_id: str) -> None:
        await self.caught_up()  # this process's own insert first
        query = select(JobAudit.job_id).where(JobAudit.job_id == job_id)
        delay, deadline = 0.05, time.monotonic() + ROW_WAIT_S
        while True:
            async with self.sessions() as session:
                if await session.scalar(query) is not None or time.monotonic() > deadline:
                    return
            await asyncio.sleep(delay)
            delay = min(2 * delay, 1.0)

    async def caught_up(self) -> None:
        """Until what this process added so far is committed, or its write failed (a reader
        then sees what the database has). Batches are written in order: the last one will do."""
        batch = self.gathering if self.gathering is not None else self.writing
        if batch is None or batch.written.done():
            return
        batch.awaited.set()
        self._start_writer()
        await asyncio.shield(batch.written)

    async def flush(self) -> None:
        """Until everything added so far is written (at shutdown, and for tests)."""
        while self.writer is not None and not self.writer.done():
            await asyncio.shield(self.writer)

    async def flush_within(self, bound: float) -> None:
        """`flush` at shutdown: a database away for `bound` s is given up on (logged), so a
        process stopping during an outage still stops (the sweeper reconciles its jobs' rows)."""
        try:
            await asyncio.wait_for(self.flush(), bound)
        except TimeoutError:
            log.warning("audit trail: rows not written at shutdown (database away)")

    def _batch(self) -> Batch:
        if self.gathering is None:
            self.gathering = Batch()
        return self.gathering

    def _start_writer(self) -> None:
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write_batches())

    async def _write_batches(self) -> None:
        delay = FIRST_DELAY_S
        while self.gathering is not None and not self.gathering.empty():
            # Nobody waits for these updates yet: let more gather so they share a commit.
            await self.gathering.linger()
            batch, self.gathering = self.gathering, None
            self.writing = batch
            try:
                await self._write(batch)
            except Exception as error:
                batch.written.set_result(error)
                self._failed(error)
                self._retry(batch)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_S)
            else:
                batch.written.set_result(None)
                self._recovered()
                delay = FIRST_DELAY_S

    async def _write(self, batch: Batch) -> None:
        table: Table = JobAudit.__table__  # type: ignore[assignment]
        async with self.sessions.begin() as session:
            for (_columns, changed), rows in _upserts(batch).items():
                await upsert(session, table, rows, ["job_id"], changed)
            plain = {key: v for key, v in batch.updates.items() if key not in batch.creates}
            for statement, rows in _updates_by_columns(plain):
                await session.execute(statement, rows)  # one executemany per set of columns

    def _retry(self, failed: Batch) -> None:
        """Put a failed batch's events back under any newer ones of the same jobs."""
        retry = self._batch()
        for job_id, row in failed.creates.items():
            retry.creates.setdefault(job_id, row)
        for job_id, values in failed.updates.items():
            retry.updates[job_id] = {**values, **retry.updates.get(job_id, {})}

    def _failed(self, error: BaseException) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.warning("audit trail: writing failed (%s); retrying", type(error).__name__)

    def _recovered(self) -> None:
        if self.failing_since is not None:
            took = time.monotonic() - self.failing_since
            self.failing_since = None
            log.warning("audit trail: written again after %.1f s", took)


def _upserts(batch: Batch) -> dict[tuple[tuple[str, ...], tuple[str, ...]], list[Row]]:
    """The rows to create, with the columns their updates set where the row exists, grouped by
    (columns, columns set): one statement each. A new job's own row sets nothing."""
    grouped: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Row]] = {}
    for job_id, row in batch.creates.items():
        values = batch.updates.get(job_id, {})
        full = {**row, **values}
        grouped.setdefault((tuple(sorted(full)), tuple(sorted(values))), []).append(full)
    return grouped


def _updates_by_columns(updates: dict[str, Row]) -> list[tuple[Update, list[Row]]]:
    """UPDATE statements by primary key, one per set of columns, with their parameter rows."""
    grouped: dict[tuple[str, ...], list[Row]] = {}
    for job_id, values in updates.items():
        row = {"key_job_id": job_id, **{f"new_{name}": value for name, value in values.items()}}
        grouped.setdefault(tuple(sorted(values)), []).append(row)
    return [(_update_statement(names), rows) for names, rows in grouped.items()]


@functools.cache
def _update_statement(names: tuple[str, ...]) -> Update:
    """One statement per set of columns, built once: building and keying it costs more than
    the write. Core rather than the ORM's bulk update, which refuses a row that is not there
    (a job enqueued without an audit row, like a closing message, is a harmless no-op)."""
    table: Table = JobAudit.__table__  # type: ignore[assignment]
    return (
        update(table)
        .where(table.c.job_id == bindparam("key_job_id"))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in names})
    )


_TRAILS: weakref.WeakKeyDictionary[Sessions, AuditTrail] = weakref.WeakKeyDictionary()


def audit_trail(sessions: Sessions) -> AuditTrail:
    """The process's trail for this database: every writer shares its batches."""
    trail = _TRAILS.get(sessions)
    if trail is None:
        trail = _TRAILS[sessions] = AuditTrail(sessions)
    return trail

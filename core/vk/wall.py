"""Reading a community wall and its comment threads into the database.

Work is a queue of page requests ("tasks"): comment pages of posts and, when the queue runs low,
the next wall.get page. Up to `parallel` `execute` batches of 25 calls are in flight at once and
a new batch leaves as soon as one comes back, so the shared pace is never left idle while results
are stored. A post counts as done only when all its pages are stored, and the checkpoint (in
Redis, keyed by job id) lists done posts with their counts, so a retried job skips them and its
totals stay right. Each round adds only the posts it finished (a set) and rewrites the totals (a
small hash), in one transaction: the checkpoint costs O(new posts) per round, not O(wall).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, tzinfo
from typing import Any

from redis.asyncio import Redis

from core import storage
from core.vk.client import MAX_EXECUTE_CALLS, Call, VkClient
from core.vk.errors import SKIPPABLE, VkError
from core.vk.wall_items import (
    PAGE,
    THREAD_PREVIEW,
    Item,
    PostState,
    Task,
    Totals,
    WallPage,
    author_rows,
    comment_row,
    post_row,
)

__all__ = [
    "PAGE",
    "THREAD_PREVIEW",
    "ProgressCallback",
    "Task",
    "Totals",
    "WallParser",
]

CHECKPOINT_TTL = 7 * 24 * 3600
SAVE_CHUNK = 250
REMEMBERED_AUTHORS = 200_000

ProgressCallback = Callable[[dict[str, Any]], Awaitable[None]]


class WallParser:
    """Parses one community's wall for one job."""

    def __init__(
        self,
        client: VkClient,
        sessions: storage.Sessions,
        redis: Redis,
        *,
        job_id: str,
        group_id: int,
        limit: int,
        days: int | None = None,
        lookback_days: int = 30,
        zone: tzinfo = UTC,
        parallel: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.redis = redis
        self.job_id = job_id
        self.owner_id = -group_id
        self.limit = limit
        self.cutoff = time.time() - days * 86400 if days else None
        # Posts stored in full before are read again only when this recent and changed.
        self.recent_since = time.time() - lookback_days * 86400
        self._vk_counts: dict[int, int] = {}
        # Batches in flight: by default what keeps every token of the client's pool busy.
        self.parallel = parallel or client.parallel
        self.zone = zone  # comments' local day and hour are counted in it
        self._authors: dict[int, dict[str, Any]] = {}  # read since the last store
        # Authors stored by this parse with their names: most come back on every page, and
        # storing them again each round cost as much as storing the comments.
        self._stored_authors: dict[int, tuple[str, str]] = {}
        self.on_progress = on_progress
        self.totals = Totals()
        self.done_posts: set[int] = set()
        self._unsaved_done: list[int] = []  # done since the last checkpoint
        self.posts_total = 0
        self._totals_key = f"vkc:ckpt:{job_id}:totals"
        self._done_key = f"vkc:ckpt:{job_id}:done"

    async def run(self) -> Totals:
        """Read the wall to its end (or the limit / cutoff); a job-ending VkError is raised
        after what was already read is stored and checkpointed."""
        await self._load_checkpoint()
        self._queue: deque[Task] = deque()
        self._states: dict[int, PostState] = {}
        self._next_offset = 0
        self._wall_ended = False
        self._wall_pending = False
        self._error: VkError | None = None
        self._waiting = 0  # batches sent for but not yet filled
        running: set[asyncio.Task[tuple[list[Item], list[Any | VkError]]]] = set()
        try:
            while True:
                while len(running) < self.parallel and self._unclaimed_work():
                    self._waiting += 1
                    running.add(asyncio.create_task(self._send()))
                if not running:
                    break
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                finished: list[tuple[int, PostState]] = []
                for sent in done:
                    items, results = sent.result()
                    finished += await self._absorb(items, results)
                await self._finish_posts(finished)
                await self._save_checkpoint()
                await self._report()
        finally:
            for pending in running:
                pending.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self._error is not None:
            raise self._error
        return self.totals

    def _stopping(self) -> bool:
        """Nothing new is sent after a job-ending error or once the limit is reached."""
        return self._error is not None or self._limit_reached()

    def _unclaimed_work(self) -> bool:
        """Whether work is queued beyond what the batches waiting for a slot will take."""
        if self._stopping():
            return False
        wall_page = not self._wall_ended and not self._wall_pending
        return len(self._queue) + wall_page > self._waiting * MAX_EXECUTE_CALLS

    def _next_batch(self) -> list[Item]:
        """Up to 25 calls: queued comment pages, plus the next wall page when they run low."""
        self._waiting -= 1
        batch: list[Item] = []
        if self._stopping():
            return batch
        low = len(self._queue) < self.parallel * MAX_EXECUTE_CALLS
        if low and not self._wall_ended and not self._wall_pending:
            self._wall_pending = True
            batch.append(WallPage(self._next_offset))
        while self._queue and len(batch) < MAX_EXECUTE_CALLS:
            batch.append(self._queue.popleft())
        return batch

    async def _send(self) -> tuple[list[Item], list[Any | VkError]]:
        """One batch, filled when its slot comes: by then more pages may be queued."""
        batch: list[Item] = []

        def take() -> list[Call]:
            batch.extend(self._next_batch())
            return [item.call(self.owner_id) for item in batch]

        results = await self.client.run_taken(take)
        return batch, results

    def _fail(self, error: VkError) -> None:
        """Remember the first job-ending error; nothing new is sent after it."""
        if self._error is None:
            self._error = error

    async def _absorb(
        self, items: list[Item], results: list[Any | VkError]
    ) -> list[tuple[int, PostState]]:
        """Take in one batch's answers; returns the posts that are now completely read."""
        finished: list[tuple[int, PostState]] = []
        for item, result in zip(items, results, strict=True):
            if isinstance(item, WallPage):
                self._wall_pending = False
                if isinstance(result, VkError):
                    self._fail(result)
                else:
                    finished += await self._take_wall_page(item.offset, result)
                continue
            state = self._states[item.post_id]
            state.open_tasks -= 1
            if isinstance(result, VkError) and result.code == 100 and item.after:
                # The comment we paged from was deleted meanwhile: read this level again
                # from its start; comments are kept by id, so nothing doubles.
                state.open_tasks += 1
                self._queue.append(Task(item.post_id, item.thread_of))
            elif isinstance(result, VkError):
                self._handle_error(result, state)
            else:
                follow = self._collect(item, result, state)
                state.open_tasks += len(follow)
                self._queue.extend(follow)
            if state.open_tasks == 0:
                del self._states[item.post_id]
                if not state.failed:
                    finished.append((item.post_id, state))
        return finished

    # -- wall -----------------------------------------------------------------------------

    async def _take_wall_page(
        self, offset: int, result: dict[str, Any]
    ) -> list[tuple[int, PostState]]:
        """Store a wall page's posts and queue their comments; returns posts with none."""
        self.posts_total = int(result.get("count", 0))
        items: list[dict[str, Any]] = result.get("items", [])
        kept, ended = [], not items or offset + PAGE >= self.posts_total
        for post in items:
            old = self.cutoff is not None and int(post.get("date", 0)) < self.cutoff
            if old and post.get("is_pinned"):
                continue  # an old pinned post must not end the scan
            if old:
                ended = True
                break
            kept.append(post)
        if self.cutoff is not None:
            self.posts_total = min(self.posts_total, offset + len(kept))
        self._next_offset = offset + PAGE
        self._wall_ended = ended
        await storage.save_posts(self.sessions, [post_row(self.owner_id, p) for p in kept])
        known = await storage.parsed_counts(
            self.sessions, self.owner_id, [int(p["id"]) for p in kept]
        )
        empty: list[tuple[int, PostState]] = []
        unchanged_old = 0
        for post in kept:
            post_id = int(post["id"])
            # A post seen before (done, or in progress when new posts shifted the offsets).
            if post_id in self.done_posts or post_id in self._states:
                continue
            count = int((post.get("comments") or {}).get("count", 0))
            recent = int(post.get("date", 0)) >= self.recent_since
            if post_id in known and (known[post_id] == count or not recent):
                self.totals.posts_unchanged += 1
                self._mark_done(post_id)
                unchanged_old += int(not recent and not post.get("is_pinned"))
                continue
            self._vk_counts[post_id] = count
            if count > 0:
                self._states[post_id] = PostState(open_tasks=1)
                self._queue.append(Task(post_id))
            else:
                empty.append((post_id, PostState()))
        if unchanged_old and unchanged_old == len([p for p in kept if not p.get("is_pinned")]):
            # A whole page of old posts read in full before: earlier parses covered the rest.
            self._wall_ended = True
        return empty

    # -- comments -------------------------------------------------------------------------

    def _handle_error(self, error: VkError, state: PostState) -> None:
        # 100 here means the post vanished while we were reading the wall.
        if error.code in SKIPPABLE or error.code == 100:
            state.skipped = True
            return
        state.failed = True
        self._fail(error)

    def _collect(self, task: Task, result: dict[str, Any], state: PostState) -> list[Task]:
        items: list[dict[str, Any]] = result.get("items", [])
        follow: list[Task] = []
        self._authors.update((row["id"], row) for row in author_rows(result))
        for item in items:
            parent = task.thread_of
            row = comment_row(self.owner_id, task.post_id, item, parent, self.zone)
            state.comments[int(item["id"])] = row
            thread = item.get("thread") or {}
            replies: list[dict[str, Any]] = thread.get("items", [])
            for reply in replies:
                row = comment_row(self.owner_id, task.post_id, reply, int(item["id"]), self.zone)
                state.comments[int(reply["id"])] = row
            if task.thread_of is None and int(thread.get("count", 0)) > len(replies):
                follow.append(Task(task.post_id, thread_of=int(item["id"])))
        if len(items) >= PAGE:
            follow.append(Task(task.post_id, task.thread_of, after=int(items[-1]["id"])))
        return follow

    async def _finish_posts(self, finished: list[tuple[int, PostState]]) -> None:
        """Store completely read posts and count them."""
        batch: list[dict[str, Any]] = []
        complete: dict[int, int] = {}
        for post_id, state in finished:
            room = self.limit - self.totals.comments_parsed
            if room <= 0 and state.comments:
                continue  # over the limit: leave it unread
            rows = sorted(state.comments.values(), key=lambda r: r["comment_id"])[: max(0, room)]
            for row in rows:
                row["first_job_id"] = self.job_id
            batch += rows
            if not state.skipped and len(rows) == len(state.comments):
                complete[post_id] = self._vk_counts.get(post_id, 0)
            self.totals.posts_scanned += 1
            self.totals.posts_skipped += int(state.skipped)
            self.totals.comments_parsed += len(rows)
            self.totals.comments_saved += sum(1 for r in rows if not r["deleted"])
            self._mark_done(post_id)
        # Modest statements: building a big one holds the event loop long enough to make the
        # requests in flight miss their turn at the shared pace.
        await self._save_authors()
        for start in range(0, len(batch), SAVE_CHUNK):
            chunk = batch[start : start + SAVE_CHUNK]
            changed = await self._count_changes(chunk)
            await storage.save_comments(self.sessions, chunk)
            await storage.forget_terms(self.sessions, self.owner_id, changed)
        await storage.mark_posts_parsed(self.sessions, self.owner_id, complete)

    async def _save_authors(self) -> None:
        """Store the authors read since the last time, unless stored already with these names."""
        stored, read, self._authors = self._stored_authors, self._authors, {}
        new = [a for a in read.values() if stored.get(a["id"]) != (a["name"], a["screen_name"])]
        await storage.save_authors(self.sessions, new)
        if len(stored) + len(new) > REMEMBERED_AUTHORS:
            stored.clear()  # a bound on memory; forgetting only costs storing some again
        stored.update((a["id"], (a["name"], a["screen_name"])) for a in new)

    def _mark_done(self, post_id: int) -> None:
        self.done_posts.add(post_id)
        self._unsaved_done.append(post_id)

    async def _count_changes(self, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
        """Count comments stored by earlier parses that VK now shows edited or deleted;
        returns their keys, whose analysis no longer matches their text.

        Rows this job stored itself (a retried job reads a post again) are not changes.
        """
        keys = [(row["post_id"], row["comment_id"]) for row in rows]
        before = await storage.stored_comments(self.sessions, self.owner_id, keys)
        changed: list[tuple[int, int]] = []
        for row in rows:
            key = (row["post_id"], row["comment_id"])
            old = before.get(key)
            if old is None or old.deleted or old.first_job_id == self.job_id:
                continue
            if row["deleted"]:
                self.totals.comments_deleted += 1
            elif row["text"] != old.text:
                self.totals.comments_updated += 1
            else:
                continue
            changed.append(key)
        return changed

    def _limit_reached(self) -> bool:
        return self.totals.comments_parsed >= self.limit

    # -- checkpoint and progress ----------------------------------------------------------

    async def _save_checkpoint(self) -> None:
        """Add this round's done posts and the new totals, atomically (a resume is exact)."""
        keys = (self._totals_key, self._done_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._totals_key, mapping=dataclasses.asdict(self.totals))
            if self._unsaved_done:
                pipe.sadd(self._done_key, *self._unsaved_done)
            for key in keys:
                pipe.expire(key, CHECKPOINT_TTL)
            await pipe.execute()
        self._unsaved_done.clear()

    async def _load_checkpoint(self) -> None:
        totals = await self.redis.hgetall(self._totals_key)  # type: ignore[misc]
        if totals:
            self.totals = Totals(**{k.decode(): int(v) for k, v in totals.items()})
            members = await self.redis.smembers(self._done_key)  # type: ignore[misc]
            self.done_posts = {int(m) for m in members}

    async def clear_checkpoint(self) -> None:
        await self.redis.delete(self._totals_key, self._done_key)

    async def _report(self) -> None:
        if self.on_progress is not None:
            await self.on_progress(
                {
                    "done": self.totals.posts_scanned + self.totals.posts_unchanged,
                    "total": self.posts_total,
                    # Readable ones, as the closing message counts them.
                    "comments": self.totals.comments_saved,
                }
            )

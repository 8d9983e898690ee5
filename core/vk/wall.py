"""Reading a community wall and its comment threads into the database.

Work is a queue of page requests ("tasks"); each round packs up to `parallel` x 25 of them into
`execute` batches. A post counts as done only when all its pages are stored, and the checkpoint
(in Redis, keyed by job id) lists done posts with their counts, so a retried job skips them and its
totals stay right.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from core import storage
from core.vk.client import MAX_EXECUTE_CALLS, Call, VkClient
from core.vk.errors import SKIPPABLE, VkError

PAGE = 100
THREAD_PREVIEW = 10
CHECKPOINT_TTL = 7 * 24 * 3600

ProgressCallback = Callable[[dict[str, Any]], Awaitable[None]]


class ParseStopped(Exception):
    """Raised inside the parser when VK ends the job (fatal error)."""


@dataclass
class Task:
    """One page of comments: top level of a post, or the replies of one comment."""

    post_id: int
    thread_of: int | None = None
    after: int | None = None

    def call(self, owner_id: int) -> Call:
        params: dict[str, Any] = {
            "owner_id": owner_id,
            "post_id": self.post_id,
            "count": PAGE,
            "sort": "asc",
            "preview_length": 0,
        }
        if self.thread_of is None:
            params["thread_items_count"] = THREAD_PREVIEW
        else:
            params["comment_id"] = self.thread_of
        if self.after is not None:
            params["start_comment_id"] = self.after
            params["offset"] = 1
        return Call("wall.getComments", params)


@dataclass
class PostState:
    open_tasks: int = 0
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    skipped: bool = False


@dataclass
class Totals:
    posts_scanned: int = 0
    posts_skipped: int = 0
    comments_parsed: int = 0
    comments_saved: int = 0


def _comment_row(
    owner_id: int, post_id: int, item: dict[str, Any], parent: int | None
) -> dict[str, Any]:
    deleted = bool(item.get("deleted"))
    return {
        "owner_id": owner_id,
        "post_id": post_id,
        "comment_id": int(item["id"]),
        "parent_id": parent,
        "from_id": int(item.get("from_id") or 0),
        "date": datetime.fromtimestamp(int(item.get("date") or 0), UTC),
        "text": "" if deleted else str(item.get("text") or ""),
        "deleted": deleted,
    }


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
        parallel: int = 3,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.redis = redis
        self.job_id = job_id
        self.owner_id = -group_id
        self.limit = limit
        self.cutoff = time.time() - days * 86400 if days else None
        self.parallel = parallel
        self.on_progress = on_progress
        self.totals = Totals()
        self.done_posts: set[int] = set()
        self.posts_total = 0
        self._checkpoint_key = f"vkc:ckpt:{job_id}"

    async def run(self) -> Totals:
        await self._load_checkpoint()
        offset = 0
        while not self._limit_reached():
            page = await self._wall_page(offset)
            if page is None:
                break
            posts, reached_end = page
            offset += PAGE
            await self._store_posts(posts)
            await self._parse_comments([p for p in posts if p["id"] not in self.done_posts])
            if reached_end:
                break
        return self.totals

    # -- wall -----------------------------------------------------------------------------

    async def _wall_page(self, offset: int) -> tuple[list[dict[str, Any]], bool] | None:
        params = {"owner_id": self.owner_id, "offset": offset, "count": PAGE}
        (result,) = await self.client.run([Call("wall.get", params)])
        if isinstance(result, VkError):
            raise result
        self.posts_total = int(result.get("count", 0))
        items: list[dict[str, Any]] = result.get("items", [])
        if not items:
            return None
        kept, ended = [], offset + PAGE >= self.posts_total
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
        return kept, ended

    async def _store_posts(self, posts: list[dict[str, Any]]) -> None:
        rows = [
            {
                "owner_id": self.owner_id,
                "post_id": int(p["id"]),
                "date": datetime.fromtimestamp(int(p.get("date", 0)), UTC),
                "text": str(p.get("text") or ""),
                "comments_count": int((p.get("comments") or {}).get("count", 0)),
                "is_pinned": bool(p.get("is_pinned")),
            }
            for p in posts
        ]
        await storage.save_posts(self.sessions, rows)

    # -- comments -------------------------------------------------------------------------

    async def _parse_comments(self, posts: list[dict[str, Any]]) -> None:
        states: dict[int, PostState] = {}
        tasks: list[Task] = []
        for post in posts:
            post_id = int(post["id"])
            states[post_id] = PostState()
            if int((post.get("comments") or {}).get("count", 0)) > 0:
                states[post_id].open_tasks = 1
                tasks.append(Task(post_id))
            else:
                await self._finish_post(post_id, states.pop(post_id))
        while tasks and not self._limit_reached():
            batch_size = self.parallel * MAX_EXECUTE_CALLS
            round_tasks, tasks = tasks[:batch_size], tasks[batch_size:]
            results = await self._run_round(round_tasks)
            finished: list[int] = []
            for task, result in zip(round_tasks, results, strict=True):
                state = states[task.post_id]
                state.open_tasks -= 1
                if isinstance(result, VkError) and result.code == 100 and task.after:
                    # The comment we paged from was deleted meanwhile: read this level again
                    # from its start; comments are kept by id, so nothing doubles.
                    state.open_tasks += 1
                    tasks.append(Task(task.post_id, task.thread_of))
                elif isinstance(result, VkError):
                    self._handle_error(result, state)
                else:
                    follow = self._collect(task, result, state)
                    state.open_tasks += len(follow)
                    tasks.extend(follow)
                if state.open_tasks == 0:
                    finished.append(task.post_id)
            for post_id in finished:
                await self._finish_post(post_id, states.pop(post_id))
            await self._save_checkpoint()
            await self._report()

    async def _run_round(self, tasks: list[Task]) -> list[Any | VkError]:
        chunks = [tasks[i : i + MAX_EXECUTE_CALLS] for i in range(0, len(tasks), MAX_EXECUTE_CALLS)]
        outcomes = await asyncio.gather(
            *(self.client.run([t.call(self.owner_id) for t in chunk]) for chunk in chunks)
        )
        return [result for outcome in outcomes for result in outcome]

    def _handle_error(self, error: VkError, state: PostState) -> None:
        # 100 here means the post vanished while we were reading the wall.
        if error.code in SKIPPABLE or error.code == 100:
            state.skipped = True
            return
        raise error

    def _collect(self, task: Task, result: dict[str, Any], state: PostState) -> list[Task]:
        items: list[dict[str, Any]] = result.get("items", [])
        follow: list[Task] = []
        for item in items:
            parent = task.thread_of
            state.comments[int(item["id"])] = _comment_row(
                self.owner_id, task.post_id, item, parent
            )
            thread = item.get("thread") or {}
            replies: list[dict[str, Any]] = thread.get("items", [])
            for reply in replies:
                row = _comment_row(self.owner_id, task.post_id, reply, int(item["id"]))
                state.comments[int(reply["id"])] = row
            if task.thread_of is None and int(thread.get("count", 0)) > len(replies):
                follow.append(Task(task.post_id, thread_of=int(item["id"])))
        if len(items) >= PAGE:
            follow.append(Task(task.post_id, task.thread_of, after=int(items[-1]["id"])))
        return follow

    async def _finish_post(self, post_id: int, state: PostState) -> None:
        room = max(0, self.limit - self.totals.comments_parsed)
        rows = sorted(state.comments.values(), key=lambda r: r["comment_id"])[:room]
        for row in rows:
            row["first_job_id"] = self.job_id
        for start in range(0, len(rows), 2000):
            await storage.save_comments(self.sessions, rows[start : start + 2000])
        self.totals.posts_scanned += 1
        self.totals.posts_skipped += int(state.skipped)
        self.totals.comments_parsed += len(rows)
        self.totals.comments_saved += sum(1 for r in rows if not r["deleted"])
        self.done_posts.add(post_id)

    def _limit_reached(self) -> bool:
        return self.totals.comments_parsed >= self.limit

    # -- checkpoint and progress ----------------------------------------------------------

    async def _save_checkpoint(self) -> None:
        state = {"totals": self.totals.__dict__, "done": sorted(self.done_posts)}
        await self.redis.set(self._checkpoint_key, json.dumps(state), ex=CHECKPOINT_TTL)

    async def _load_checkpoint(self) -> None:
        raw = await self.redis.get(self._checkpoint_key)
        if raw:
            state = json.loads(raw)
            self.totals = Totals(**state["totals"])
            self.done_posts = set(state["done"])

    async def clear_checkpoint(self) -> None:
        await self.redis.delete(self._checkpoint_key)

    async def _report(self) -> None:
        if self.on_progress is not None:
            await self.on_progress(
                {
                    "done": self.totals.posts_scanned,
                    "total": self.posts_total,
                    "comments": self.totals.comments_parsed,
                }
            )

"""parse_vk_comments: a community's posts and comment threads into the database."""

from __future__ import annotations

import time
from typing import Any

from arq import Retry
from arq.jobs import Job

from core import storage
from core.catalog import CATALOG, BatchArgs, ParseArgs
from core.i18n import _, ngettext
from core.jobstate import JobFailed
from core.queue import ACTIVE, JobQueue
from core.settings import Settings
from core.vk.community import resolve_group, vk_client
from core.vk.errors import UNREACHABLE, VkError
from core.vk.wall import WallParser
from worker.jobs.statistics import recount_statistics
from worker.progress import ProgressReporter


class CommunityUnreachable(JobFailed):
    """VK says the community cannot be read: none such, deleted or banned, or private."""

    def __init__(self, error: VkError) -> None:
        super().__init__(error.message)
        self.code = error.code


async def parse_vk_comments(ctx: dict[str, Any], args: ParseArgs) -> dict[str, Any]:
    """Read the wall newest first with every comment thread; upsert, so reruns add nothing twice."""
    settings: Settings = ctx["settings"]
    if not settings.vk_pool:
        raise JobFailed(_("neither VK_TOKEN nor VK_TOKENS is set on the worker"))
    client = vk_client(ctx["redis"], settings)
    started = time.monotonic()
    limit = args.limit or settings.parse_default_limit
    try:
        group = await resolve_group(client, args.group)
        group_id = int(group["id"])
        await claim_group(ctx, group_id)
        await storage.save_group(
            ctx["sessions"], group_id, str(group.get("screen_name", "")), str(group.get("name", ""))
        )
        parser = WallParser(
            client,
            ctx["sessions"],
            ctx["redis"],
            job_id=ctx["job_id"],
            group_id=group_id,
            limit=limit,
            days=args.days,
            lookback_days=settings.parse_lookback_days,
            zone=settings.zone,
            on_progress=ProgressReporter(ctx, "parse_vk_comments"),
        )
        stopped_reason = None
        try:
            totals = await parser.run()
        except VkError as error:
            if error.code != 29:
                raise
            totals, stopped_reason = parser.totals, error.message
    except VkError as error:
        # Only the community's own requests (groups.getById, wall.get) end a job with these.
        if error.code in UNREACHABLE:
            raise CommunityUnreachable(error) from None
        if error.fatal or error.code == 212:
            raise JobFailed(error.message) from None
        if ctx["job_try"] < settings.arq_max_tries:
            raise Retry(defer=5 * ctx["job_try"]) from None  # resumes from the checkpoint
        tries = ctx["job_try"]
        raise JobFailed(
            ngettext(
                "{reason}; gave up after {n} try",
                "{reason}; gave up after {n} tries",
                tries,
                reason=error.message,
            )
        ) from None
    await storage.mark_group_parsed(ctx["sessions"], group_id)
    await parser.clear_checkpoint()
    await release_group(ctx, group_id)
    await recount_statistics(ctx, group_id)
    new = await storage.count_new_comments(ctx["sessions"], -group_id, ctx["job_id"])
    analysis_job = None
    if settings.auto_analyze and (new or totals.comments_updated):
        analysis_job = await analyse_afterwards(ctx, group_id)
    return {
        "group_id": group_id,
        "group_name": group.get("name", ""),
        "days": args.days,
        "comments_parsed": totals.comments_parsed,
        "comments_saved": totals.comments_saved,
        "comments_new": new,
        "comments_updated": totals.comments_updated,
        "comments_deleted": totals.comments_deleted,
        "comments_total": await storage.count_comments(ctx["sessions"], -group_id),
        "posts_scanned": totals.posts_scanned,
        "posts_skipped": totals.posts_skipped,
        "posts_unchanged": totals.posts_unchanged,
        "requests": client.requests_sent,
        "duration_s": round(time.monotonic() - started, 2),
        "stopped_reason": stopped_reason,
        "analysis_job": analysis_job,
    }


async def analyse_afterwards(ctx: dict[str, Any], group_id: int) -> str:
    """Start the analysis of the new comments as a job of the parse's chat and person, so it
    shows in that chat's /jobs, its owner may stop it, and its end is told there."""
    parse = await storage.get_job(ctx["sessions"], ctx["job_id"])
    queue = JobQueue(ctx["redis"], ctx["sessions"], ctx["settings"])
    submitted = await queue.submit(
        CATALOG["process_batch_comments"],
        BatchArgs(group=str(group_id)),
        user_id=parse.user_id if parse else None,
        chat_id=parse.chat_id if parse else None,
        language=parse.language if parse else None,
    )
    return submitted.job_id


def _parsing_key(group_id: int) -> str:
    return f"vkc:parsing:{group_id}"


async def claim_group(ctx: dict[str, Any], group_id: int) -> None:
    """One parse per community at a time, however the chat named it (id, link, screen name)."""
    redis = ctx["redis"]
    key, me = _parsing_key(group_id), ctx["job_id"]
    ttl = CATALOG["parse_vk_comments"].timeout or ctx["settings"].arq_job_timeout
    if await redis.set(key, me, nx=True, ex=ttl):
        return
    other = (await redis.get(key) or b"").decode()
    status = await Job(other, redis, _queue_name=ctx["settings"].arq_queue_name).status()
    if other and other != me and status in ACTIVE:
        raise JobFailed(_("this community is already being parsed by job {job_id}", job_id=other))
    await redis.set(key, me, ex=ttl)


async def release_group(ctx: dict[str, Any], group_id: int) -> None:
    key = _parsing_key(group_id)
    if (await ctx["redis"].get(key) or b"").decode() == ctx["job_id"]:
        await ctx["redis"].delete(key)

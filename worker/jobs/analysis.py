"""Text analysis jobs: one text, a community's stored comments (in parallel parts), keywords."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from core import analysis, storage
from core.catalog import AnalyzeTextArgs, BatchArgs, ChunkArgs, KeywordsArgs
from core.i18n import _
from core.jobstate import JobFailed
from core.models import Group
from core.settings import Settings
from worker.progress import ProgressReporter


async def stored_group(ctx: dict[str, Any], ref: str) -> Group:
    group = await storage.find_group(ctx["sessions"], ref)
    if group is None:
        raise JobFailed(
            _("community {group} has no stored comments yet: /parse {group} first", group=ref)
        )
    return group


async def analyze_text_morphology(ctx: dict[str, Any], args: AnalyzeTextArgs) -> dict[str, Any]:
    """Lemma and part of speech of every token of one text."""
    tokens = await asyncio.to_thread(analysis.analyzer().analyze, args.text)
    return {"tokens": [[t.form, t.lemma, t.pos] for t in tokens]}


async def analyze_comment_chunk(ctx: dict[str, Any], args: ChunkArgs) -> dict[str, Any]:
    """One part of a batch; comments analysed before (by a rerun) are skipped."""
    keys = [(args.owner_id, post_id, comment_id) for post_id, comment_id in args.keys]
    return await analysis.analyse_comments(ctx["sessions"], keys)


async def process_batch_comments(ctx: dict[str, Any], args: BatchArgs) -> dict[str, Any]:
    """Analyse a community's unanalysed comments, split into parts that any worker may run."""
    settings: Settings = ctx["settings"]
    started = time.monotonic()
    group = await stored_group(ctx, args.group)
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    keys = await analysis.unanalysed_keys(ctx["sessions"], -group.id, since)
    if args.comment_ids is not None:
        wanted = set(args.comment_ids)
        keys = [key for key in keys if key[2] in wanted]
    size = settings.analysis_chunk_size
    chunks = [keys[i : i + size] for i in range(0, len(keys), size)]
    report = ProgressReporter(ctx, "process_batch_comments")
    totals = {"comments_analyzed": 0, "tokens": 0}
    if len(chunks) <= 1 or settings.arq_max_jobs < 2:
        for number, chunk in enumerate(chunks, 1):  # too small to share, or no slot to share
            _add(totals, await analysis.analyse_comments(ctx["sessions"], chunk))
            await report({"done": number, "total": len(chunks), "comments": len(chunk)})
    else:
        _add(totals, await run_chunks(ctx, -group.id, chunks, report))
    return {
        **totals,
        "group_id": group.id,
        "chunks": max(1, len(chunks)),
        "duration_s": round(time.monotonic() - started, 2),
    }


async def run_chunks(
    ctx: dict[str, Any], owner_id: int, chunks: list[list[analysis.CommentKey]], report: Any
) -> dict[str, int]:
    """Enqueue every part as its own job and wait for all, reporting one combined progress.

    Part ids derive from this job's id, so a rerun of this job finds its parts instead of
    enqueuing them again.
    """
    redis: ArqRedis = ctx["redis"]
    queue_name = ctx["settings"].arq_queue_name
    ids = [f"{ctx['job_id']}:part:{i}" for i in range(len(chunks))]
    for job_id, chunk in zip(ids, chunks, strict=True):
        await redis.enqueue_job(
            "analyze_comment_chunk",
            _job_id=job_id,
            owner_id=owner_id,
            keys=[[post, comment] for _, post, comment in chunk],
        )
    totals = {"comments_analyzed": 0, "tokens": 0}
    pending = set(ids)
    while pending:
        for job_id in sorted(pending):
            job = Job(job_id, redis, _queue_name=queue_name)
            if await job.status() is not JobStatus.complete:
                continue
            info = await job.result_info()
            pending.discard(job_id)
            if info is None or not info.success:
                raise JobFailed(f"a part of the batch failed: {info.result if info else 'lost'}")
            _add(totals, info.result)
        done = len(ids) - len(pending)
        await report({"done": done, "total": len(ids), "comments": totals["comments_analyzed"]})
        if pending:
            await asyncio.sleep(0.5)
    return totals


def _add(totals: dict[str, int], part: dict[str, Any]) -> None:
    for key in totals:
        totals[key] += int(part.get(key, 0))


async def extract_keywords(ctx: dict[str, Any], args: KeywordsArgs) -> dict[str, Any]:
    """The community's top keywords; comments not analysed yet are analysed first."""
    group = await stored_group(ctx, args.group)
    sessions: storage.Sessions = ctx["sessions"]
    missing = await analysis.unanalysed_keys(sessions, -group.id)
    if missing:
        await analysis.analyse_comments(sessions, missing)
    ranked, comments = await analysis.keywords(sessions, -group.id, args.n, args.days)
    return {
        "group_id": group.id,
        "group_name": group.name,
        "comments": comments,
        "analyzed_now": len(missing),
        "keywords": [[k.term, round(k.score, 6), k.count] for k in ranked],
    }

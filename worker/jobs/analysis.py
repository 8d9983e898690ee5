"""Text analysis jobs: one text, a community's stored comments (in parallel parts), keywords."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq import Retry
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from core import analysis, storage
from core.catalog import AnalyzeTextArgs, BatchArgs, ChunkArgs, KeywordsArgs
from core.i18n import _
from core.jobstate import JobFailed, failure_of
from core.models import Group
from core.settings import Settings
from worker.jobs.statistics import recount_statistics
from worker.progress import ProgressReporter

# A batch's plan outlives any batch: the parts' results are kept as long.
PLAN_TTL_S = 7 * 24 * 3600
# A waiting batch looks at its parts again after this many seconds, more rarely as it ages.
RECHECK_MIN_S, RECHECK_MAX_S = 0.5, 10.0


async def stored_group(ctx: dict[str, Any], ref: str) -> Group:
    group = await storage.find_group(ctx["sessions"], ref)
    if group is None:
        raise JobFailed(
            _("community {ref} has no stored comments yet: /parse {ref} first", ref=ref)
        )
    return group


async def analyze_text_morphology(ctx: dict[str, Any], args: AnalyzeTextArgs) -> dict[str, Any]:
    """Lemma and part of speech of every token of one text."""
    tokens = await asyncio.to_thread(analysis.analyzer().analyze, args.text)
    return {"tokens": [[t.form, t.lemma, t.pos] for t in tokens]}


async def analyze_comment_chunk(ctx: dict[str, Any], args: ChunkArgs) -> dict[str, Any]:
    """One part of a batch: a key range; comments analysed before (by a rerun) are skipped."""
    scope = analysis.Scope(args.owner_id, args.since, args.start, args.end)
    return await analysis.analyse_scope(ctx["sessions"], scope)


@dataclass(frozen=True)
class Plan:
    """What a batch decided on its first try, so that every later try agrees with it."""

    started: datetime
    scope: analysis.Scope
    starts: list[analysis.Key]

    def part_scope(self, index: int) -> analysis.Scope:
        end = self.starts[index + 1] if index + 1 < len(self.starts) else None
        return analysis.Scope(self.scope.owner_id, self.scope.since, self.starts[index], end)

    def dumps(self) -> str:
        since = self.scope.since.isoformat() if self.scope.since else None
        return json.dumps(
            {"started": self.started.isoformat(), "owner_id": self.scope.owner_id,
             "since": since, "starts": self.starts}
        )  # fmt: skip

    @classmethod
    def loads(cls, raw: str | bytes) -> Plan:
        data = json.loads(raw)
        since = datetime.fromisoformat(data["since"]) if data["since"] else None
        starts = [(int(post), int(comment)) for post, comment in data["starts"]]
        scope = analysis.Scope(int(data["owner_id"]), since)
        return cls(datetime.fromisoformat(data["started"]), scope, starts)


def _batch_key(job_id: str) -> str:
    return f"vkc:batch:{job_id}"


async def _load_plan(ctx: dict[str, Any], group: Group, args: BatchArgs) -> Plan:
    """The batch's plan: made and stored on the first try, read back on every later one."""
    redis: ArqRedis = ctx["redis"]
    key = _batch_key(ctx["job_id"])
    raw = await redis.hget(key, "plan")  # type: ignore[misc]
    if raw is not None:
        return Plan.loads(raw)
    settings: Settings = ctx["settings"]
    scope = analysis.Scope(-group.id, analysis.since_days(args.days))
    starts = await analysis.plan_parts(ctx["sessions"], scope, settings.analysis_chunk_size)
    plan = Plan(storage.utcnow(), scope, starts)
    # Two tries never plan at once (arq runs one try at a time), but a stored plan wins.
    await redis.hsetnx(key, "plan", plan.dumps())  # type: ignore[misc]
    await redis.expire(key, PLAN_TTL_S)
    return Plan.loads(await redis.hget(key, "plan"))  # type: ignore[misc]


async def _count_start(ctx: dict[str, Any]) -> None:
    """Fail a batch whose tries keep dying; waiting (a `Retry`) is not dying.

    The batch spends one arq try per look at its parts, and the sweeper gives back the try of
    a lost worker, so arq's try number cannot tell a crash loop from a long wait. Counting
    starts and waits can: every start but the current one should have ended in a wait.
    """
    redis: ArqRedis = ctx["redis"]
    key = _batch_key(ctx["job_id"])
    starts = int(await redis.hincrby(key, "starts", 1))  # type: ignore[misc]
    await redis.expire(key, PLAN_TTL_S)
    waits = int(await redis.hget(key, "waits") or 0)  # type: ignore[misc]
    if starts - 1 - waits >= ctx["settings"].arq_max_tries:
        raise JobFailed(_("the analysis was interrupted too often; run /analyze again"))


async def process_batch_comments(ctx: dict[str, Any], args: BatchArgs) -> dict[str, Any]:
    """Analyse a community's unanalysed comments, split into parts that any worker may run.

    The batch never waits inside a worker slot: it queues its parts and looks at them again
    later with `Retry`, so batches waiting on parts cannot fill every slot and starve them.
    """
    group = await stored_group(ctx, args.group)
    await _count_start(ctx)
    if args.comment_ids is not None:
        return await _analyse_named(ctx, group, args.comment_ids)
    plan = await _load_plan(ctx, group, args)
    report = ProgressReporter(ctx, "process_batch_comments")
    parts = len(plan.starts)
    if parts <= 1:
        # Too small to share: analyse right here.
        async def on_page(done: int) -> None:
            await report({"done": done, "total": total})

        total = await analysis.count_unanalysed(ctx["sessions"], plan.scope)
        await analysis.analyse_scope(ctx["sessions"], plan.scope, on_page)
    else:
        done = await _parts_done(ctx, plan)
        so_far = await analysis.count_analysed_since(ctx["sessions"], plan.scope, plan.started)
        await report({"done": done, "total": parts, "comments": so_far})
        if done < parts:
            await _wait(ctx, plan)
    analysed = await analysis.count_analysed_since(ctx["sessions"], plan.scope, plan.started)
    if analysed:
        await recount_statistics(ctx, group.id)
    result: dict[str, Any] = {
        "group_id": group.id,
        "group_name": group.name,
        "comments_analyzed": analysed,
        "chunks": max(1, parts),
        "duration_s": round((storage.utcnow() - plan.started).total_seconds(), 2),
    }
    if not analysed:
        result["analysed_before"] = await analysis.count_analysed(ctx["sessions"], plan.scope)
    return result


async def _analyse_named(ctx: dict[str, Any], group: Group, ids: list[int]) -> dict[str, Any]:
    """Comments named by their VK ids (an API client's list, at most MAX_COMMENT_IDS): few
    enough to analyse right here, in one part."""
    started = storage.utcnow()
    named = await analysis.analyse_named(ctx["sessions"], -group.id, ids)
    if named.analysed:
        await recount_statistics(ctx, group.id)
    return {
        "group_id": group.id,
        "group_name": group.name,
        "comments_analyzed": named.analysed,
        "analysed_before": named.before,
        "missing_ids": named.missing,
        "lemmas": {str(comment_id): lemmas for comment_id, lemmas in named.lemmas.items()},
        "chunks": 1,
        "duration_s": round((storage.utcnow() - started).total_seconds(), 2),
    }


async def _parts_done(ctx: dict[str, Any], plan: Plan) -> int:
    """How many parts have finished; queues the parts that are not queued (first try, or lost).

    Part ids derive from the batch's id, so queuing a part that exists is a no-op in arq.
    """
    redis: ArqRedis = ctx["redis"]
    queue_name = ctx["settings"].arq_queue_name
    done = 0
    for index in range(len(plan.starts)):
        part_id = f"{ctx['job_id']}:part:{index}"
        job = Job(part_id, redis, _queue_name=queue_name)
        status = await job.status()
        if status is JobStatus.complete:
            info = await job.result_info()
            if info is not None and not info.success:
                reason = failure_of(info.result)[1]
                raise JobFailed(_("part {n} of the analysis failed: {reason}", n=index + 1,
                                  reason=reason))  # fmt: skip
            done += 1
        elif status is JobStatus.not_found:
            scope = plan.part_scope(index)
            await redis.enqueue_job(
                "analyze_comment_chunk",
                _job_id=part_id,
                owner_id=scope.owner_id,
                since=scope.since,
                start=scope.start,
                end=scope.end,
            )
    return done


async def _wait(ctx: dict[str, Any], plan: Plan) -> None:
    """Give the slot back and come back later (arq re-queues the batch with a delay)."""
    await ctx["redis"].hincrby(_batch_key(ctx["job_id"]), "waits", 1)
    waited = (storage.utcnow() - plan.started).total_seconds()
    raise Retry(defer=min(RECHECK_MAX_S, max(RECHECK_MIN_S, waited / 10)))


async def extract_keywords(ctx: dict[str, Any], args: KeywordsArgs) -> dict[str, Any]:
    """The community's top keywords; comments not analysed yet are analysed first."""
    group = await stored_group(ctx, args.group)
    sessions: storage.Sessions = ctx["sessions"]
    missing = await analysis.analyse_scope(sessions, analysis.Scope(-group.id))
    ranked, comments = await analysis.keywords(sessions, -group.id, args.n, args.days)
    text = analysis.analyzer().phrase_text
    return {
        "group_id": group.id,
        "group_name": group.name,
        "comments": comments,
        "analyzed_now": missing["comments_analyzed"],
        "keywords": [[text(k.term), round(k.score, 6), k.count] for k in ranked],
    }

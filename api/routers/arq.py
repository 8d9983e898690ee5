"""/api/v1/arq: enqueue any catalog job, follow it, abort it; the queue and its health."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import jobs
from api.deps import Caller, JobId, Queue
from api.errors import ErrorResponse
from api.schemas import (
    AbortOut,
    Accepted,
    EnqueueRequest,
    HealthDetails,
    HealthOut,
    JobResultOut,
    JobStatusOut,
    QueueInfo,
)
from core.catalog import CATALOG

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}


# An enqueue answers 202 with a new job, or 200 with the same job already running (dedupe).
ALREADY_RUNNING: dict[int | str, dict[str, object]] = {
    200: {"model": Accepted, "description": "the same job was running already: that job"}
}


def create_router() -> APIRouter:
    router = APIRouter(prefix=jobs.PREFIX, tags=["queue"], responses=ERRORS)

    @router.post("/enqueue", response_model=Accepted, status_code=202, responses=ALREADY_RUNNING)
    async def enqueue(
        request: EnqueueRequest,
        caller: Caller,
        queue: Queue,
    ) -> JSONResponse:
        """Put a catalog job on the queue (202); the same job already running answers 200."""
        spec = CATALOG[request.function_name]
        data = request.kwargs.model_dump(exclude_unset=True)
        code, body = await jobs.enqueue(
            queue, caller, spec, data, request.notify_chat_id, field_prefix="kwargs."
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=code)

    @router.get("/status/{job_id}", response_model=JobStatusOut)
    async def status(
        job_id: JobId,
        _caller: Caller,
        queue: Queue,
    ) -> JobStatusOut:
        """Where a job stands, with its progress, result or reason of failure."""
        return await jobs.status(queue, job_id)

    @router.get("/result/{job_id}", response_model=JobResultOut)
    async def result(
        job_id: JobId,
        _caller: Caller,
        queue: Queue,
    ) -> JobResultOut:
        """An ended job's result, as data and in words (409 while it runs)."""
        return await jobs.result(queue, job_id)

    @router.delete("/abort/{job_id}", response_model=AbortOut)
    async def abort(
        job_id: JobId,
        caller: Caller,
        queue: Queue,
    ) -> AbortOut:
        """Stop a queued or running job: admin tokens any, user tokens their own."""
        return AbortOut(message=await jobs.abort(queue, caller, job_id), job_id=job_id)

    @router.get("/queue/info", response_model=QueueInfo)
    async def queue_info(
        _caller: Caller,
        queue: Queue,
    ) -> QueueInfo:
        """Queued, running and deferred jobs, and live workers."""
        info = await queue.queue_info()
        return QueueInfo(
            queue_name=queue.queue_name,
            queued_jobs_count=info["queued"],
            in_progress_jobs_count=info["running"],
            deferred_jobs_count=info["deferred"],
            workers_alive=info["workers"],
        )

    @router.get(
        "/health",
        response_model=HealthOut,
        responses={503: {"model": HealthOut, "description": "Redis or the database is down"}},
    )
    async def health(queue: Queue) -> JSONResponse:
        """Redis and the database reachable? No token needed: it reveals nothing secret."""
        report = await queue.health()
        healthy = bool(report["redis"] and report["database"])
        body = HealthOut(
            healthy=healthy,
            timestamp=datetime.now(UTC),
            details=HealthDetails(
                redis_connected=report["redis"],
                database_connected=report["database"],
                workers_alive=report["workers"],
                queue_info={"queue_name": queue.queue_name, "queued_jobs_count": report["queue"]},
            ),
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)

    return router

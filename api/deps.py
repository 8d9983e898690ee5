"""What the routes receive: the caller, the queue and the settings the app was built with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from api.security import Principal, admin, principal
from api.settings import ApiSettings
from core.queue import JobQueue


# `async def` though they await nothing: FastAPI runs a plain `def` dependency in a worker
# thread, a hop that costs more than the attribute it reads.
async def job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


async def api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
Queue = Annotated[JobQueue, Depends(job_queue)]
Config = Annotated[ApiSettings, Depends(api_settings)]
JobId = Annotated[str, Path(pattern=r"^[A-Za-z0-9:_-]{1,64}$", description="the job id")]

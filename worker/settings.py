"""arq `WorkerSettings`, built from the job catalog and the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from arq.worker import Function, func

from core.catalog import CATALOG, JobSpec
from core.queue import KEEP_RESULT_S, redis_settings, validation_context
from core.settings import Settings, load_settings
from worker import context, jobs


def _bind(spec: JobSpec) -> Function:
    """Wrap a job function so it receives its validated argument model."""
    function: Callable[[dict[str, Any], Any], Awaitable[Any]] = getattr(jobs, spec.name)

    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        args = spec.args.model_validate(kwargs, context=validation_context(ctx["settings"]))
        return await context.run_job(ctx, spec, function, args)

    run.__qualname__ = spec.name
    return func(
        run,
        name=spec.name,
        timeout=spec.timeout,
        max_tries=spec.max_tries,
        keep_result=KEEP_RESULT_S,
    )


def functions() -> list[Function]:
    missing = [name for name in CATALOG if not hasattr(jobs, name)]
    if missing:
        raise RuntimeError(f"catalog jobs without a function in worker.jobs: {missing}")
    return [_bind(spec) for spec in CATALOG.values()]


def worker_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.Worker`; console mode uses them too."""
    return {
        "redis_settings": redis_settings(settings),
        "ctx": {"settings": settings},
        "functions": functions(),
        "on_startup": context.startup,
        "on_shutdown": context.shutdown,
        "on_job_start": context.on_job_start,
        "after_job_end": context.after_job_end,
        "queue_name": settings.arq_queue_name,
        "max_jobs": settings.arq_max_jobs,
        "job_timeout": settings.arq_job_timeout,
        "max_tries": settings.arq_max_tries,
        "poll_delay": settings.arq_poll_delay,
        "burst": settings.arq_burst_mode,
        "keep_result": KEEP_RESULT_S,
        "allow_abort_jobs": True,
    }


# arq takes a dict as well as a class: `arq worker.settings.WorkerSettings` and `python -m worker`
# both read this one, built from the environment when the module is imported.
WorkerSettings: dict[str, Any] = worker_options(load_settings())

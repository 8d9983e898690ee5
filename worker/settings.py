"""arq `WorkerSettings`, built from the job catalog and the settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import arq.worker
from arq.worker import Function, Retry, RetryJob, func

from core.catalog import CATALOG, JobSpec
from core.i18n import _
from core.jobstate import JobFailed
from core.logs import guard_secrets, safe_reason
from core.queue import KEEP_RESULT_S, ORIGIN, Origin, validation_context
from core.redis_client import redis_settings
from core.settings import Settings, load_settings
from core.startup import require_services
from core.vk.errors import VkError
from worker import context, jobs
from worker.resilient import ResilientWorker

# What arq itself acts on (retry, abort, timeout): passed through untouched.
_ARQ_SIGNALS = (Retry, RetryJob, asyncio.CancelledError, TimeoutError)

log = logging.getLogger(__name__)


def _bind(spec: JobSpec) -> Function:
    """Wrap a job function so it receives its validated argument model and fails safely.

    arq stores a failed job's exception as its result, and the chat and the audit table show
    its text; an exception's text may be huge or hold a secret (a URL with the token, an SQL
    statement with its data). So a failure leaves as a JobFailed with a short, masked reason,
    and the full story goes to the (masked) worker log.
    """
    function: Callable[[dict[str, Any], Any], Awaitable[Any]] = getattr(jobs, spec.name)

    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        await context.begin_job(ctx, spec.name, Origin.of(kwargs.pop(ORIGIN, None)), kwargs)
        try:
            args = spec.args.model_validate(kwargs, context=validation_context(ctx["settings"]))
            return await context.run_job(ctx, spec, function, args)
        except _ARQ_SIGNALS:
            raise
        except (JobFailed, VkError) as error:
            raise JobFailed(safe_reason(str(error))) from None
        except Exception as error:
            log.exception("job %s (%s) failed", ctx.get("job_id"), spec.name)
            kind = type(error).__name__
            reason = _("internal error ({kind}); the worker log has the details", kind=kind)
            raise JobFailed(reason) from None

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


def __getattr__(name: str) -> dict[str, Any]:
    """`WorkerSettings`, built when arq's CLI (`arq worker.settings.WorkerSettings`) asks for it.

    Built on demand rather than at import, so that importing this module (console mode, tests)
    neither reads the environment nor waits for services. Like `python -m worker`, the CLI
    gives Redis and the database STARTUP_TIMEOUT to answer, then one line and exit code 2,
    and runs `ResilientWorker`. arq's CLI sets up its own logging after this, so the secrets
    are guarded here first.
    """
    if name != "WorkerSettings":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    settings = load_settings()
    guard_secrets(settings.secrets())
    asyncio.run(require_services(settings))
    _arq_builds_resilient_workers()
    return worker_options(settings)


def _arq_builds_resilient_workers() -> None:
    """Make arq's CLI run `ResilientWorker`, which rides out Redis outages, not plain `Worker`.

    arq 0.28 offers no setting for the class: its CLI (`run_worker`, `--watch`) calls
    `create_worker`, which builds `Worker(**settings)` by the module's global name, so that name
    is pointed at our subclass (same arguments, see its `__signature__`). Only here, on the CLI's
    path: importing this module changes nothing.
    """
    arq.worker.Worker = ResilientWorker  # type: ignore[misc,assignment]

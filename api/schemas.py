"""Request and response shapes; the enqueue body is one model per catalog job, so OpenAPI
shows every job's arguments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from core.catalog import CATALOG, JobArgs, JobSpec
from core.i18n import _

ChatId = Annotated[
    int | None,
    Field(description="close the job in this chat (an admin chat or one of the allowed chats)"),
]


class EnqueueBase(BaseModel):
    """`args` map onto the job's argument fields in their declared order, as a chat command's do."""

    model_config = ConfigDict(extra="forbid")
    if TYPE_CHECKING:  # declared per job by `enqueue_model`
        function_name: str
        kwargs: JobArgs

    notify_chat_id: ChatId = None

    @model_validator(mode="before")
    @classmethod
    def _positional(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("args", []), list):
            return data
        names = list(cls.model_fields["kwargs"].annotation.model_fields)  # type: ignore[union-attr]
        positional = data.get("args", [])
        kwargs = data.get("kwargs", {})
        if len(positional) > len(names) or not isinstance(kwargs, dict):
            return data  # the fields' own checks name what is wrong
        clash = sorted(set(names[: len(positional)]) & set(kwargs))
        if clash:
            raise ValueError(_("{field} is given both in args and in kwargs", field=clash[0]))
        return {**data, "kwargs": {**dict(zip(names, positional, strict=False)), **kwargs}}


def enqueue_model(spec: JobSpec) -> type[EnqueueBase]:
    """The enqueue body for one job: its name as the tag, its catalog model as `kwargs`."""
    return create_model(
        f"Enqueue_{spec.name}",
        __base__=EnqueueBase,
        __doc__=spec.title,
        function_name=(Literal[spec.name], ...),
        args=(
            list[Any],
            Field(
                default_factory=list,
                max_length=len(spec.args.model_fields),
                description="positional arguments, in the order of the kwargs' fields",
            ),
        ),
        kwargs=(spec.args, Field(default_factory=dict, description="the job's arguments")),
    )


ENQUEUE_MODELS = tuple(enqueue_model(spec) for spec in CATALOG.values())
if TYPE_CHECKING:
    EnqueueRequest = EnqueueBase
else:
    EnqueueRequest = Annotated[Union[ENQUEUE_MODELS], Field(discriminator="function_name")]  # noqa: UP007


class JobLinks(BaseModel):
    """The job and where to follow it; the validated arguments follow as fields of their own."""

    model_config = ConfigDict(extra="allow")

    job_id: str
    function: str
    title: str
    already_running: bool = Field(description="true: a job with these arguments was running")
    status_url: str
    result_url: str
    arguments: dict[str, Any] = Field(description="the job's validated arguments")


class Accepted(BaseModel):
    success: bool = True
    message: str
    data: JobLinks


class Progress(BaseModel):
    done: int
    total: int
    percent: int | None


class JobStatusOut(BaseModel):
    job_id: str
    function: str | None
    title: str | None
    status: str = Field(
        description="queued, deferred, in_progress, complete, failed, aborted or lost"
    )
    status_text: str = Field(description="the status in words, as the bot says it")
    progress: Progress | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobResultOut(BaseModel):
    job_id: str
    function: str | None
    status: str
    result: dict[str, Any] | None
    summary: str = Field(description="the result in words")
    error: str | None = None


class AbortOut(BaseModel):
    success: bool = True
    message: str
    job_id: str


class QueueInfo(BaseModel):
    queue_name: str
    queued_jobs_count: int
    in_progress_jobs_count: int
    deferred_jobs_count: int
    workers_alive: int


class HealthDetails(BaseModel):
    redis_connected: bool
    database_connected: bool
    workers_alive: int
    queue_info: dict[str, Any]


class HealthOut(BaseModel):
    service: str = "ARQ"
    healthy: bool
    timestamp: datetime
    details: HealthDetails


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

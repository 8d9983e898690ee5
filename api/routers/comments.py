"""/api/v1/comments: the module's shortcuts onto catalog jobs, with query-string arguments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from api import jobs
from api.deps import Caller, Queue
from api.errors import ApiError, ErrorResponse
from api.routers.arq import ALREADY_RUNNING, ERRORS
from api.schemas import Accepted
from core.catalog import CATALOG, MAX_COMMENT_IDS
from core.i18n import _
from core.maintenance.args import MAX_RETENTION_DAYS
from core.queue import JobQueue

GroupId = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        description="the community: 12345, -12345, club12345, a screen name or a vk.com link",
    ),
]
NotifyChat = Annotated[
    int | None,
    Query(description="close the job in this chat (an admin chat or one of the allowed chats)"),
]
# Shortcuts whose job is looked up in the catalog when the app is built.
CATALOG_SHORTCUTS = {"report": "generate_report"}


def comment_ids(raw: str | None) -> list[int] | None:
    """`1,2,3` → [1, 2, 3]; 422 naming the field otherwise."""
    if raw is None:
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ApiError(
            422, _("comment_ids: expected whole numbers separated by commas"), field="comment_ids"
        ) from None


async def run(
    queue: JobQueue, caller: Caller, name: str, data: dict[str, Any], chat: int | None
) -> JSONResponse:
    """Enqueue catalog job `name` with `data` (None values left to the job's defaults)."""
    given = {key: value for key, value in data.items() if value is not None}
    code, body = await jobs.enqueue(queue, caller, CATALOG[name], given, chat)
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


def create_router() -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/comments", tags=["comments"], responses={**ERRORS, **ALREADY_RUNNING}
    )

    @router.post("/parse/vk/async", response_model=Accepted, status_code=202)
    async def parse_vk(
        caller: Caller,
        queue: Queue,
        group_id: GroupId,
        limit: Annotated[int | None, Query(ge=1, description="comments at most")] = None,
        days: Annotated[
            int | None, Query(ge=1, le=3650, description="only posts of the last N days")
        ] = None,
        notify_chat_id: NotifyChat = None,
    ) -> JSONResponse:
        """Parse a community's wall and comments (the chat's /parse)."""
        data = {"group": group_id, "limit": limit, "days": days}
        return await run(queue, caller, "parse_vk_comments", data, notify_chat_id)

    @router.post("/analyze/async", response_model=Accepted, status_code=202)
    async def analyze(
        caller: Caller,
        queue: Queue,
        group_id: GroupId,
        comment_ids_: Annotated[
            str | None,
            Query(
                alias="comment_ids",
                description=f"morphology of only these VK comments of the community, by their "
                f"ids: 1,2,3 (at most {MAX_COMMENT_IDS})",
            ),
        ] = None,
        analysis_type: Annotated[
            Literal["morphology", "keywords"], Query(description="lemmas or top keywords")
        ] = "morphology",
        notify_chat_id: NotifyChat = None,
    ) -> JSONResponse:
        """Analyse a parsed community's comments (morphology) or rank its keywords."""
        name = "extract_keywords" if analysis_type == "keywords" else "process_batch_comments"
        data = {"group": group_id, "comment_ids": comment_ids(comment_ids_)}
        return await run(queue, caller, name, data, notify_chat_id)

    @router.post("/cleanup/async", response_model=Accepted, status_code=202)
    async def cleanup(
        caller: Caller,
        queue: Queue,
        days: Annotated[
            int | None,
            Query(
                ge=1,
                le=MAX_RETENTION_DAYS,
                description="delete comments older than N days; default RETENTION_DAYS",
            ),
        ] = None,
        notify_chat_id: NotifyChat = None,
    ) -> JSONResponse:
        """Delete old comments (with their analysis) and old posts left without comments, then
        recount the statistics (the chat's /cleanup; an admin token is its confirmation)."""
        return await run(queue, caller, "cleanup_old_data", {"days": days}, notify_chat_id)

    for path, name in CATALOG_SHORTCUTS.items():
        add_catalog_shortcut(router, path, name)
    return router


def add_catalog_shortcut(router: APIRouter, path: str, name: str) -> None:
    """POST /{path}/async runs catalog job `name` with its argument model as the JSON body.

    A job this version's catalog lacks still gets the route, answering 404 in JSON (a 4xx: the
    client asked for something this version does not have; nothing is broken).
    """
    spec = CATALOG.get(name)
    summary = _(spec.title) if spec else name
    if spec is None:

        @router.post(
            f"/{path}/async",
            response_model=Accepted,
            status_code=202,
            summary=summary,
            responses={404: {"model": ErrorResponse}},
        )
        async def missing(caller: Caller) -> JSONResponse:
            """This job is not in the catalog of this version."""
            raise ApiError(404, _("Job {name} is not available in this version.", name=name))

        return

    async def shortcut(
        caller: Caller,
        queue: Queue,
        arguments: Any = None,
        notify_chat_id: NotifyChat = None,
    ) -> JSONResponse:
        """Enqueue the job with the arguments of its catalog model."""
        data = arguments.model_dump(exclude_unset=True) if arguments else {}
        return await run(queue, caller, name, data, notify_chat_id)

    # The body model is the job's own, known only here: a real object, since this module's
    # annotations are strings that FastAPI would resolve against the module, not this scope.
    shortcut.__annotations__["arguments"] = Annotated[spec.args | None, Body()]
    router.post(f"/{path}/async", response_model=Accepted, status_code=202, summary=summary)(
        shortcut
    )

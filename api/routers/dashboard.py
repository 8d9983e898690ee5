"""/dashboard: a login form, the page, and the JSON it polls; same tokens as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api import board
from api.deps import Caller, Config, Queue
from api.security import COOKIE, count_failed_attempt, find_token, identify

HERE = Path(__file__).resolve().parents[1]
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
COOKIE_AGE_S = 7 * 24 * 3600


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, name, {"t": board.labels(), **context}, status_code=status
    )


def static_files() -> StaticFiles:
    """The page's script and style, mounted at /dashboard/static by the app."""
    return StaticFiles(directory=HERE / "static")


def create_router() -> APIRouter:
    router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def dashboard(request: Request, settings: Config) -> HTMLResponse:
        """The page for a known token (cookie), else the login form."""
        if identify(request, settings) is None:
            return page(request, "login.html")
        return page(request, "dashboard.html", open_local=not settings.api_tokens)

    @router.post("/login")
    async def login(
        request: Request, settings: Config, token: Annotated[str, Form(max_length=512)]
    ) -> Response:
        """A known token becomes an HttpOnly cookie for this site only."""
        if find_token(settings.api_tokens, token.strip()) is None:
            await count_failed_attempt(request)
            return page(request, "login.html", status=401, failed=True)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(
            COOKIE,
            token.strip(),
            max_age=COOKIE_AGE_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    async def logout() -> Response:
        """Forget the cookie."""
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @router.get("/data")
    async def data(caller: Caller, queue: Queue) -> dict[str, Any]:
        """What the page draws; it asks again every two seconds."""
        return await board.snapshot(queue, caller.is_admin)

    return router

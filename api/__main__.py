"""`python -m api` serves the REST API and the dashboard with uvicorn."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from api.app import create_app
from api.settings import ApiSettings
from core.logs import setup_logging
from core.settings import describe_error


def load() -> ApiSettings:
    """Settings, or one line naming the bad variable and exit code 2 (as bot and worker do)."""
    try:
        settings = ApiSettings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SystemExit(2) from None
    problem = settings.startup_problem()
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    return settings


def main() -> int:
    settings = load()
    setup_logging(settings.log_level, settings.secrets())
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # keep the product's logging (and its secret filter)
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

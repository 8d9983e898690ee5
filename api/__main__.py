"""`python -m api` serves the REST API and the dashboard with uvicorn; `python -m api --check`
asks a running one for its health (Docker's HEALTHCHECK: the slim image has no curl)."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

from pydantic import ValidationError

from api.settings import ApiSettings
from core.logs import setup_logging
from core.settings import describe_error
from core.shutdown import skip_final_collection


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


HEALTH_PATH = "/api/v1/arq/health"
CHECK_TIMEOUT_S = 10.0


def health_url(settings: ApiSettings) -> str:
    """Where this host's API answers: on the loopback when it listens on every address."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
        settings.api_host, settings.api_host
    )
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}{HEALTH_PATH}"


def check() -> int:
    """0 when the API answers its health endpoint with healthy true, else 1 with the reason."""
    try:
        url = health_url(ApiSettings())
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT_S) as answer:
            healthy = json.load(answer).get("healthy") is True
    except urllib.error.HTTPError as error:  # 503: Redis or the database is out of reach
        print(f"{url}: HTTP {error.code}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"{url}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if not healthy:
        print(f"{url}: not healthy", file=sys.stderr)
    return 0 if healthy else 1


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options; a wrong one exits 2 with the usage line."""
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if the API on API_HOST:API_PORT reports itself healthy, else 1",
    )
    return parser.parse_args(argv)


def main() -> int:
    if parse_options().check:
        return check()
    import uvicorn  # here, not above: `--check`, Docker's health check, stays a light process

    from api.app import create_app

    settings = load()
    setup_logging(settings.log_level, settings.secrets())
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # keep the product's logging (and its secret filter)
        proxy_headers=False,
        loop="uvloop",  # named, not "auto": a missing one fails the start, not the speed
        http="httptools",
    )
    skip_final_collection()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

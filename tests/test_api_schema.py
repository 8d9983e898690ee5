"""A property-based run against the API's own OpenAPI schema (schemathesis over hypothesis):
with a user token, no generated request gets a 5xx or an answer that breaks the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.apitools import USER_TOKEN, api_env, api_running, bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 80


def explore(base_url: str) -> int:
    """Every operation of the schema, EXAMPLES_PER_OPERATION valid and as many invalid requests."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=bearer(USER_TOKEN))
            case.validate_response(response, checks=CHECKS)

        call()
    return len(operations)


async def test_no_server_errors_and_answers_match_the_schema(
    app_env: dict[str, str], tmp_path: Path
) -> None:
    """Requests of every shape the schema allows (and some it does not) against a real API."""
    env = api_env(app_env)
    async with api_running(env, tmp_path, worker=False) as client:
        base = str(client.base_url).rstrip("/")
        operations = await asyncio.to_thread(explore, base)
    assert operations >= 10

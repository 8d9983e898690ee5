"""The API's OpenAPI schema: it shows every catalog job's arguments; and a property-based run
against it (schemathesis over hypothesis): with a user token, no generated request gets a 5xx or
an answer that breaks the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.routers.comments import CATALOG_SHORTCUTS
from core.catalog import CATALOG
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


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its `$ref` (direct, or the single one of an `allOf`) followed."""
    refs = [node, *node.get("allOf", [])]
    for candidate in refs:
        if "$ref" in candidate:
            name = candidate["$ref"].removeprefix("#/components/schemas/")
            return resolve(schema, schema["components"]["schemas"][name])
    return node


def argument_fields(model: type[BaseModel]) -> dict[str, Any]:
    """What OpenAPI should say of a job's arguments: names, descriptions, which are required."""
    own = model.model_json_schema()
    return {
        "fields": {name: field.get("description") for name, field in own["properties"].items()},
        "required": sorted(own.get("required", [])),
    }


def shown_fields(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    found = resolve(schema, node)
    return {
        "fields": {name: field.get("description") for name, field in found["properties"].items()},
        "required": sorted(found.get("required", [])),
    }


async def test_openapi_shows_every_jobs_arguments(app_env: dict[str, str], tmp_path: Path) -> None:
    """/openapi.json: the enqueue body offers every catalog job, each with its own argument
    model's fields; the shortcut endpoints with a JSON body take their job's model."""
    async with api_running(api_env(app_env), tmp_path, worker=False) as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    schema = answer.json()
    enqueue = schema["paths"]["/api/v1/arq/enqueue"]["post"]["requestBody"]["content"]
    body = resolve(schema, enqueue["application/json"]["schema"])
    choices = {}
    for option in body["oneOf"]:
        model = resolve(schema, option)
        choices[model["properties"]["function_name"]["const"]] = model
    assert sorted(choices) == sorted(CATALOG), "every catalog job can be enqueued"
    for name, spec in CATALOG.items():
        kwargs = choices[name]["properties"]["kwargs"]
        assert shown_fields(schema, kwargs) == argument_fields(spec.args), name
    for path, name in CATALOG_SHORTCUTS.items():
        operation = schema["paths"][f"/api/v1/comments/{path}/async"]["post"]
        content = operation["requestBody"]["content"]["application/json"]["schema"]
        options = [resolve(schema, option) for option in content.get("anyOf", [content])]
        models = [option for option in options if option.get("type") != "null"]
        assert [shown_fields(schema, m) for m in models] == [argument_fields(CATALOG[name].args)]

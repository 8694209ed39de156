"""Property test of the whole API from its own OpenAPI document (schemathesis): no 5xx, and every
response matches the schema it declares. Bounded: a fixed number of generated requests per operation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from vigil.api import create_app, parse_tokens

TOKEN = "north-token-0123456789"
EXAMPLES_PER_OPERATION = 30


def test_api_conforms_to_its_openapi_document(source) -> None:
    tokens = parse_tokens({"tokens": [{"partner": "north", "token": TOKEN}]})
    app = create_app(source, tokens, stream_max_s=0.0)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/v1/events",
        "/api/v1/events/{event_id}",
        "/api/v1/warnings",
        "/api/v1/stream",
        "/api/v1/audit",
        "/healthz",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

        check()

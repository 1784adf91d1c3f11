"""The OpenAPI document against the running API server, fuzzed by schemathesis (bounded
examples per operation): no server errors, and every answer's status, content type and
body are the documented ones. The one 5xx the API answers on purpose - 501 for a language
whose compiler is not installed here - is allowed, and only that one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from wasmbed.processes import ManagedProcess, wasmbed_argv

EXAMPLES = int(os.environ.get("WASMBED_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One API server (no gateway: board starts answer 409) for the whole module."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    ready = root / "api.ready"
    proc = ManagedProcess("api", wasmbed_argv("api", "--data-dir", str(root / "api"),
                                              "--port", "0", "--ready-file", str(ready)),
                          root / "api.log", ready)
    info = proc.start()
    try:
        yield info["url"], (root / "api" / "token").read_text().strip()
    finally:
        proc.stop()
        tail = proc.log_tail(200)
        assert "Traceback" not in tail, f"the API server logged an exception:\n{tail}"


def no_server_error_but_a_declared_501(ctx: object, response: object, case: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    if status < 500:
        return
    body = response.json() if status == 501 else {}  # type: ignore[attr-defined]
    if status == 501 and body.get("code") == "CompilerUnavailable":
        return
    raise AssertionError(f"server error {status}: {response.text[:500]}")  # type: ignore[attr-defined]


CHECKS = [schemathesis.check(no_server_error_but_a_declared_501), status_code_conformance,
          content_type_conformance, response_schema_conformance]


@pytest.mark.long(6)
def test_api_conforms_to_its_openapi(api_server: tuple[str, str]) -> None:
    url, token = api_server
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", headers=auth)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS,
                                   excluded_checks=[not_a_server_error])

        try:
            exercise()
        except Exception as exc:  # collect every operation's failure, then report all
            failures[operation.label] = str(exc)[:1500]
    assert operations >= 30, f"only {operations} operations in the OpenAPI document"
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())

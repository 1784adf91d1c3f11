"""`wasmbed up` shows the admin token once, at its first start, as the README says."""

from __future__ import annotations

import allure

from scenarios.steps import up_process

pytestmark = [allure.feature("Security")]


def start_up(tmp_path, evidence, n: int) -> str:
    proc = up_process(tmp_path / "home", evidence, f"up-{n}")
    try:
        proc.start()
    finally:
        proc.stop()
    return proc.log_path.read_text()


@allure.story("The token is printed at the first start only")
def test_token_is_printed_once(tmp_path, evidence):
    token_file = tmp_path / "home" / "api" / "token"
    first = start_up(tmp_path, evidence, 1)
    token = token_file.read_text().strip()
    assert token in first and "shown once" in first
    second = start_up(tmp_path, evidence, 2)
    assert token not in second and str(token_file) in second

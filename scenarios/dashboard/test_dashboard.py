"""The dashboard in a real browser (Debian's headless Chromium, Playwright) against a running
stack with virtual devices: log in with the API token, watch devices appear live, compile C
in the source editor (and see a compiler error), deploy, see Running and the output, stop.
Screenshots of each stage are in the evidence and in Allure."""

from __future__ import annotations

import allure
import pytest

from harness.browser import screenshot

pytestmark = [allure.feature("Dashboard")]

COUNTER_C = """#include "wasmbed_app.h"
WB_EXPORT("run") int run(void) {
    WB_LOG("counting from the dashboard");
    for (int i = 0;; i++) { wb_report(i); wb_sleep_ms(200); }
}
"""


def wait_phase(container, phase: str) -> None:
    """Wait until the phase badge inside `container` (a row, a heading) shows `phase`."""
    container.get_by_test_id("phase").filter(has_text=phase).wait_for()


@pytest.fixture
def page(browser_page, platform):
    browser_page.set_default_timeout(20_000)
    browser_page.goto(platform.url + "/")
    return browser_page


def test_login_refuses_a_wrong_token(page, evidence):
    page.get_by_test_id("token").fill("not-the-token")
    page.get_by_test_id("login").click()
    error = page.get_by_test_id("login-error")
    error.wait_for()
    assert "refused" in error.inner_text()
    screenshot(page, evidence, "login-refused")


@allure.story("Log in, see devices live, compile C, deploy, see Running and output, stop")
def test_compile_deploy_and_watch_it_run(page, platform, gateway, virtual_devices, evidence):
    with allure.step("log in with the API token; empty pages say what to do"):
        page.get_by_test_id("token").fill(platform.token)
        page.get_by_test_id("login").click()
        page.get_by_test_id("live").filter(has_text="live").wait_for()
        page.goto(platform.url + "/#/applications")
        assert "wasmbed app deploy" in page.get_by_test_id("no-apps").inner_text()
        page.goto(platform.url + "/#/devices")
    with allure.step("devices appear live as they connect"):
        names = virtual_devices(2, labels={"tier": "edge"}).names
        for name in names:
            wait_phase(page.get_by_test_id(f"device-{name}"), "Connected")
        beat = page.get_by_test_id(f"device-{names[0]}").locator("time")
        beat.filter(has_text="ago").wait_for()  # relative, the absolute time on hover
        assert beat.get_attribute("title") and "T" not in beat.inner_text()
        screenshot(page, evidence, "devices-connected")
    with allure.step("a compiler error is shown with its line"):
        page.goto(platform.url + "/#/applications/new")
        page.get_by_test_id("source").fill("int run(void) { return missing; }")
        page.get_by_test_id("compile").click()
        result = page.get_by_test_id("compile-result")
        result.filter(has_text="CompileError").wait_for()
        assert "app.c:1" in result.inner_text()
        screenshot(page, evidence, "compile-error")
    with allure.step("compile the counter and deploy it to both devices"):
        page.get_by_test_id("app-name").fill("counter-ui")
        page.get_by_test_id("source").fill(COUNTER_C)
        page.get_by_test_id("compile").click()
        page.get_by_test_id("compile-result").filter(has_text="compiled").wait_for()
        for name in names:
            page.get_by_test_id(f"target-{name}").check()
        page.get_by_test_id("deploy").click()
        page.wait_for_url("**/#/applications/counter-ui")
    with allure.step("it runs on both and its output streams in"):
        for name in names:
            wait_phase(page.get_by_test_id(f"entry-{name}"), "Running")
            page.get_by_test_id(f"outputs-{name}").filter(
                has_text="counting from the dashboard").wait_for()
        screenshot(page, evidence, "application-running")
        api_view = platform.api.application("counter-ui")["status"]["deviceStatuses"]
        assert all(api_view[n]["phase"] == "Running" for n in names)
    with allure.step("stop it from the dashboard: then Stop is disabled"):
        page.get_by_test_id("stop").click()
        for name in names:
            wait_phase(page.get_by_test_id(f"entry-{name}"), "Stopped")
        assert page.get_by_test_id("stop").is_disabled()
        screenshot(page, evidence, "application-stopped")
    with allure.step("the overview counts them"):
        page.goto(platform.url + "/#/")
        card = page.get_by_test_id("devices-card")
        card.filter(has_text="Connected").wait_for()
        assert "2" in card.inner_text()


@allure.story("Register a device by its key, see it Pending, revoke it, delete it")
def test_register_revoke_and_delete_a_device(page, platform, evidence):
    from cryptography.hazmat.primitives import serialization

    from wasmbed.pki.ca import new_key

    pem = new_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    page.get_by_test_id("token").fill(platform.token)
    page.get_by_test_id("login").click()
    page.goto(platform.url + "/#/devices")
    with allure.step("the form is behind a button; a bad name is refused in plain words"):
        page.get_by_test_id("register-open").click()
        page.get_by_test_id("register-name").fill("Bad_Name")
        page.get_by_test_id("register").click()
        error = page.get_by_test_id("register-error")
        error.filter(has_text="lowercase letters").wait_for()
        assert "pattern" not in error.inner_text()
    with allure.step("a key that is not a key is refused with the reason"):
        page.get_by_test_id("register-name").fill("ui-dev")
        page.get_by_test_id("register-key").fill("not a key")
        page.get_by_test_id("register").click()
        page.get_by_test_id("register-error").filter(has_text="InvalidPublicKey").wait_for()
    with allure.step("register with a P-256 key and labels: it appears Pending"):
        page.get_by_test_id("register-key").fill(pem)
        page.get_by_test_id("register-labels").fill("tier=edge, zone=eu")
        page.get_by_test_id("register").click()
        row = page.get_by_test_id("device-ui-dev")
        wait_phase(row, "Pending")
        assert "tier=edge" in row.inner_text() and "zone=eu" in row.inner_text()
        assert platform.api.device("ui-dev")["metadata"]["labels"]["zone"] == "eu"
        screenshot(page, evidence, "device-registered")
    with allure.step("its page shows its labels; revoke asks first (no: nothing happens)"):
        row.get_by_role("link", name="ui-dev").click()
        assert "zone=eu" in page.get_by_test_id("device-labels").inner_text()
        questions: list[str] = []
        page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
        page.get_by_test_id("revoke").click()
        assert questions and "Revoke ui-dev?" in questions[0]
        assert platform.api.device("ui-dev")["status"]["phase"] == "Pending"
        page.once("dialog", lambda d: d.accept())
        page.get_by_test_id("revoke").click()
        wait_phase(page.locator("h1"), "Revoked")
    with allure.step("delete it (confirmed): back on the list, it is gone"):
        page.once("dialog", lambda d: d.accept())
        page.get_by_test_id("delete-device").click()
        page.wait_for_url("**/#/devices")
        page.get_by_test_id("device-ui-dev").wait_for(state="detached")
        assert [d["metadata"]["name"] for d in platform.api.devices()] == []

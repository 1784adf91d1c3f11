"""Source to wasm through the API: C compiles and is checked against the host functions;
compiler errors come back as diagnostics; a module devices could not run is refused; a
language without a toolchain here is a 501 that says what to install."""

from __future__ import annotations

import base64
import shutil

import pytest
import wasmtime

from wasmbed.compile import languages

pytestmark = pytest.mark.skipif(shutil.which("clang") is None or shutil.which("wasm-ld") is None,
                                reason="needs clang and lld: apt-get install -y clang lld")

HELLO = """#include "wasmbed_app.h"
WB_EXPORT("run") int run(void) { WB_LOG("hi from source"); wb_report(7); return 3; }
"""


def test_c_compiles_to_a_module_devices_can_run(client):
    r = client.post("/api/v1/compile", json={"language": "c", "code": HELLO})
    assert r.status_code == 200, r.text
    wasm = base64.b64decode(r.json()["wasmBytes"])
    module = wasmtime.Module(wasmtime.Engine(), wasm)
    assert {i.name for i in module.imports} == {"log", "report"}
    assert r.json()["size"] == len(wasm)


def test_compiler_errors_come_back_with_the_line(client):
    r = client.post("/api/v1/compile", json={"code": "int run(void) { return nope; }"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "CompileError" and "app.c:1" in body["message"]
    assert "nope" in body["message"]


def test_a_module_devices_cannot_run_is_refused(client):
    r = client.post("/api/v1/compile", json={"code": """
        __attribute__((import_module("env"), import_name("printf"))) void printf(int);
        __attribute__((export_name("run"))) int run(void) { printf(1); return 0; }"""})
    assert r.status_code == 422 and r.json()["code"] == "UnsupportedModule"
    assert "env.printf" in r.json()["message"] and "log" in r.json()["message"]
    r = client.post("/api/v1/compile", json={"code": HELLO, "entry": "main"})
    assert r.status_code == 422 and "exports no function 'main'" in r.json()["message"]


RUST = """#![no_std]
mod wasmbed_app;
#[no_mangle]
pub extern "C" fn run() -> i32 { wasmbed_app::log("hi from rust"); wasmbed_app::report(7); 3 }
"""


def test_rust_compiles_with_the_sdk_and_runs_on_a_virtual_device(client):
    if languages()["rust"] is not None:
        pytest.skip(f"no Rust here: {languages()['rust']}")
    r = client.post("/api/v1/compile", json={"language": "rust", "code": RUST})
    assert r.status_code == 200, r.text
    wasm = base64.b64decode(r.json()["wasmBytes"])
    from wasmbed.device.runtime import WasmRunner
    from wasmbed.modules import linear_memory_bytes

    assert linear_memory_bytes(wasm) == 65536  # one page, as the firmware offers
    outputs: list[tuple[str, object]] = []
    runner = WasmRunner(wasm, entry="run", memory_limit=65536, fuel_limit=1_000_000,
                        output=lambda kind, text, value: outputs.append(
                            (kind.name, text if text is not None else value)),
                        boot_time=0.0)
    assert runner.run().state.name == "COMPLETED"
    assert outputs == [("LOG", "hi from rust"), ("VALUE", 7), ("RESULT", 3)]
    bad = client.post("/api/v1/compile", json={"language": "rust", "code": "fn run( {"})
    assert bad.status_code == 422 and "app.rs:1" in bad.json()["message"]


def test_rust_without_its_wasm_target_says_what_to_install(client):
    r = client.post("/api/v1/compile", json={"language": "rust", "code": "fn main() {}"})
    if languages()["rust"] is None:
        pytest.skip("this machine has Rust's wasm32 target")
    assert r.status_code == 501 and r.json()["code"] == "CompilerUnavailable"
    assert "libstd-rust-dev-wasm32" in r.json()["hint"]
    langs = client.get("/api/v1/compile/languages").json()
    assert langs["c"]["available"] and not langs["rust"]["available"]


def test_bad_requests(client):
    assert client.post("/api/v1/compile", json={"language": "cobol", "code": ""}).status_code \
        == 422
    big = "x" * (256 * 1024 + 1)
    assert client.post("/api/v1/compile", json={"code": big}).status_code == 422


def test_an_application_from_source(client):
    r = client.post("/api/v1/applications", json={
        "name": "from-src", "source": {"language": "c", "code": HELLO},
        "targetDevices": {"deviceNames": []}})
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["wasmSize"] > 0
    both = client.post("/api/v1/applications", json={
        "name": "both", "source": {"code": HELLO}, "wasmBytes": "AGFzbQEAAAA="})
    assert both.status_code == 422 and "exactly one" in both.json()["message"]


# --- the compile service is an attack surface: it must not read the host ---------------

INCBIN = """#include "wasmbed_app.h"
__asm__(".section .data.loot,\\"\\",@\\n.globl loot\\nloot:\\n.incbin \\"PATH\\"\\n"
        ".size loot, 200\\n");
extern const char loot[];
WB_EXPORT("run") int run(void) { wb_log(loot, 200); return 0; }
"""


def test_incbin_cannot_embed_the_ca_key(client):
    key = client.app_state_dir / "pki" / "platform" / "ca.key"
    marker = key.read_bytes()[40:70]
    r = client.post("/api/v1/compile", json={"code": INCBIN.replace("PATH", str(key))})
    assert r.status_code == 422, "the build must fail: the key file does not exist for it"
    assert "could not find incbin file" in r.json()["message"].lower()
    assert marker.decode() not in r.text


@pytest.mark.parametrize("target", ["token", "pki/platform/ca.key", "/etc/passwd"])
def test_include_of_a_host_file_reveals_nothing(client, target):
    path = target if target.startswith("/") else str(client.app_state_dir / target)
    r = client.post("/api/v1/compile", json={"code": f'#include "{path}"\n' + HELLO})
    assert r.status_code == 422
    assert "file not found" in r.json()["message"]
    if not target.startswith("/"):
        lines = (client.app_state_dir / target).read_text().strip().splitlines()
        secret = lines[len(lines) // 2][:20]
        assert secret not in r.text


def test_diagnostics_are_capped(client):
    bomb = "#define A x x x x x x x x x x\n#define B A A A A A A A A A A\n" \
           "#define C B B B B B B B B B B\n#define D C C C C C C C C C C\n" \
           "int run(void) { D D D D D D D D D D }\n"
    r = client.post("/api/v1/compile", json={"code": bomb})
    assert r.status_code == 422
    assert len(r.content) < 64 * 1024

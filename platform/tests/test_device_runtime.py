"""The virtual device's wasm runner: host ABI, traps, budgets, stop, memory cap."""

from __future__ import annotations

import threading
import time

import pytest
import wasmtime

from wasmbed import examples
from wasmbed.device.runtime import ModuleRejected, WasmRunner
from wasmbed.protocol import AppState, OutputKind


def runner(wasm: bytes, *, fuel: int = 10_000_000, memory: int = 65536, out=None):
    return WasmRunner(wasm, entry="run", memory_limit=memory, fuel_limit=fuel,
                      output=out if out is not None else (lambda *a: None),
                      boot_time=time.monotonic())


def test_hello_logs_reports_and_returns():
    outputs = []
    result = runner(examples.wasm("hello"), out=lambda k, t, v: outputs.append((k, t, v))).run()
    assert result.state == AppState.COMPLETED
    assert outputs[0] == (OutputKind.LOG, "hello from wasm", None)
    assert outputs[1][0] == OutputKind.VALUE
    assert outputs[-1] == (OutputKind.RESULT, None, 42)


def test_trap_is_failed_with_reason():
    result = runner(examples.wasm("trap")).run()
    assert result.state == AppState.FAILED and "divide by zero" in result.error


def test_spin_exhausts_fuel():
    result = runner(examples.wasm("spin"), fuel=100_000).run()
    assert result == type(result)(AppState.FAILED, "fuel budget exhausted")


def test_stop_interrupts_a_sleeping_module():
    reported = threading.Event()
    r = runner(examples.wasm("counter"), out=lambda *a: reported.set())
    t = threading.Thread(target=lambda: setattr(r, "result", r.run()))
    t.start()
    assert reported.wait(5), "counter reported no value"
    r.stop()
    t.join(5)
    assert not t.is_alive() and r.result.state == AppState.STOPPED


def test_stop_interrupts_a_spinning_module():
    r = runner(examples.wasm("spin"), fuel=10**15)
    t = threading.Thread(target=lambda: setattr(r, "result", r.run()))
    t.start()
    r.stop()  # whether it is already spinning or not yet started, it ends STOPPED
    t.join(5)
    assert r.result.state == AppState.STOPPED


def test_unknown_import_is_rejected_with_the_name():
    wasm = wasmtime.wat2wasm('(module (import "wasi" "fd_write" (func)) '
                             '(func (export "run")))')
    with pytest.raises(ModuleRejected, match="wasi.fd_write"):
        runner(bytes(wasm))


def test_memory_over_the_limit_is_rejected():
    wasm = wasmtime.wat2wasm('(module (memory 4) (func (export "run")))')
    with pytest.raises(ModuleRejected, match="instantiate"):
        runner(bytes(wasm), memory=65536)


def test_missing_entry_and_invalid_bytes():
    with pytest.raises(ModuleRejected, match="'run'"):
        runner(bytes(wasmtime.wat2wasm("(module)")))
    with pytest.raises(ModuleRejected, match="invalid wasm"):
        runner(b"\x00asm\x01\x00\x00\x00\xff")


def test_a_trap_survives_a_crash_reporter_enabled_after_import():
    """wasmtime takes its trap signals with the first engine; an engine made at import time
    let pytest's faulthandler (enabled after plugins import the platform) turn every trap
    into "Fatal Python error: Illegal instruction"."""
    import subprocess
    import sys

    code = ("import faulthandler, sys, time\n"
            "import wasmbed.api.main, wasmbed.compile, wasmbed.gateway.server, wasmbed.modules\n"
            "faulthandler.enable(file=sys.stderr)\n"
            "from wasmbed import examples\n"
            "from wasmbed.device.runtime import WasmRunner\n"
            "r = WasmRunner(examples.wasm('trap'), entry='run', memory_limit=65536,\n"
            "               fuel_limit=10**7, output=lambda *a: None, boot_time=time.monotonic())\n"
            "print(r.run().state.name)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "FAILED", done.stderr[-2000:]

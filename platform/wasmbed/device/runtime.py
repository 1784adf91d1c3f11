"""Runs one wasm module the way the firmware does: same host ABI, fuel and memory caps.

Host ABI (imports from module "env"; the C firmware implements the same):
    log(ptr: i32, len: i32)          one UTF-8 log line (truncated to 256 bytes)
    report(value: i64)               report a value (AppOutput kind VALUE)
    uptime_ms() -> i64               device uptime
    sleep_ms(ms: i32)                yield for ms milliseconds (checks for a stop request)
The entry export takes no parameters and returns nothing or one i32/i64, reported as the
RESULT output. Fuel is wasmtime's instruction budget (the firmware counts wasm3 ops);
`StopApp` interrupts a running module through epoch interruption.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import wasmtime

from wasmbed.protocol import AppState, OutputKind

HOST_FUNCTIONS = {
    "log": ([wasmtime.ValType.i32(), wasmtime.ValType.i32()], []),
    "report": ([wasmtime.ValType.i64()], []),
    "uptime_ms": ([], [wasmtime.ValType.i64()]),
    "sleep_ms": ([wasmtime.ValType.i32()], []),
}
MAX_SLEEP_MS = 60_000
LOG_MAX = 256

OutputSink = Callable[[OutputKind, str | None, int | None], None]


@dataclass
class RunResult:
    state: AppState
    error: str | None = None


class ModuleRejected(Exception):
    """The module cannot be loaded (invalid, imports unknown functions, over limits)."""


def _engine() -> wasmtime.Engine:
    cfg = wasmtime.Config()
    cfg.consume_fuel = True
    cfg.epoch_interruption = True
    return wasmtime.Engine(cfg)


class WasmRunner:
    """One module instance; `run()` blocks (call it in a thread), `stop()` is thread-safe."""

    def __init__(
        self,
        wasm: bytes,
        *,
        entry: str,
        memory_limit: int,
        fuel_limit: int,
        output: OutputSink,
        boot_time: float,
    ) -> None:
        self.engine = _engine()  # one per module: epochs are per engine
        self.entry = entry
        self.output = output
        self.boot_time = boot_time
        self._stop = threading.Event()
        self.store = wasmtime.Store(self.engine)
        self.store.set_limits(memory_size=memory_limit)
        self.store.set_fuel(fuel_limit)
        self.store.set_epoch_deadline(1)
        try:
            module = wasmtime.Module(self.engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ModuleRejected(f"invalid wasm module: {str(exc).splitlines()[0]}") from exc
        imports = []
        for imp in module.imports:
            if imp.module != "env" or imp.name not in HOST_FUNCTIONS:
                raise ModuleRejected(
                    f"module imports {imp.module}.{imp.name}, which this device does not "
                    f"provide (host functions: {', '.join(sorted(HOST_FUNCTIONS))})"
                )
            imports.append(self._host_function(imp.name or ""))
        try:
            self.instance = wasmtime.Instance(self.store, module, imports)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            raise ModuleRejected(f"module failed to instantiate: {_first_line(exc)}") from exc
        func = self.instance.exports(self.store).get(entry)
        if not isinstance(func, wasmtime.Func):
            raise ModuleRejected(f"module does not export a function named {entry!r}")
        self.func = func

    def _memory(self, caller: wasmtime.Caller) -> wasmtime.Memory:
        mem = caller.get("memory")
        if not isinstance(mem, wasmtime.Memory):
            raise wasmtime.WasmtimeError("log() needs an exported memory named 'memory'")
        return mem

    def _host_function(self, name: str) -> wasmtime.Func:
        params, results = HOST_FUNCTIONS[name]
        ftype = wasmtime.FuncType(params, results)

        def log(caller: wasmtime.Caller, ptr: int, length: int) -> None:
            data = self._memory(caller).read(caller, ptr, ptr + min(length, LOG_MAX))
            self.output(OutputKind.LOG, bytes(data).decode("utf-8", "replace"), None)

        def report(value: int) -> None:
            self.output(OutputKind.VALUE, None, value)

        def uptime_ms() -> int:
            return int((time.monotonic() - self.boot_time) * 1000)

        def sleep_ms(ms: int) -> None:
            if self._stop.wait(max(0, min(ms, MAX_SLEEP_MS)) / 1000):
                raise wasmtime.WasmtimeError("stopped")

        impl = {"log": log, "report": report, "uptime_ms": uptime_ms, "sleep_ms": sleep_ms}[name]
        return wasmtime.Func(self.store, ftype, impl, access_caller=(name == "log"))

    def stop(self) -> None:
        self._stop.set()
        self.engine.increment_epoch()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> RunResult:
        try:
            result = self.func(self.store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            if self._stop.is_set():
                return RunResult(AppState.STOPPED)
            code = getattr(exc, "trap_code", None)
            if code == wasmtime.TrapCode.OUT_OF_FUEL:
                return RunResult(AppState.FAILED, "fuel budget exhausted")
            return RunResult(AppState.FAILED, f"trap: {_first_trap_reason(exc)}")
        if isinstance(result, int):
            self.output(OutputKind.RESULT, None, result)
        return RunResult(AppState.COMPLETED)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _first_trap_reason(exc: BaseException) -> str:
    """wasmtime prints a backtrace first; the reason follows 'Caused by:'."""
    text = str(exc)
    if "Caused by:" in text:
        tail = text.split("Caused by:", 1)[1].strip().splitlines()[0]
        return tail.replace("wasm trap: ", "").strip()
    return _first_line(exc)

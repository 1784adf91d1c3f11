"""Faults as context managers (the fault holds inside the `with`, and is undone after) or
actions (a cut, a kill). Each is an Allure step named after what it does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import httpx

from wasmbed import http_keepalive
from wasmbed.http_trust import default_trust
from wasmbed.processes import ManagedProcess
from wasmbed.rest_client import ApiClient


class HeldFault:
    """A network fault that holds inside a `with` block (the step encloses what happens
    meanwhile), or from `hold()` until the relay's `clear()` (keyword-driven callers such as
    Robot, whose later keywords must not nest inside the fault's step)."""

    def __init__(self, control: NetworkFaultControl, title: str,
                 settings: dict[str, Any]) -> None:
        self.control, self.title, self.settings = control, title, settings
        self._step: Any = None

    def __enter__(self) -> None:
        self._step = allure.step(f"fault on {self.control.name}: {self.title}")
        self._step.__enter__()
        self.control.apply(**self.settings)

    def __exit__(self, *exc: object) -> None:
        try:
            self.control.clear()
        finally:
            self._step.__exit__(*exc)

    def hold(self) -> None:
        with allure.step(f"fault on {self.control.name}: {self.title} (held until cleared)"):
            self.control.apply(**self.settings)


class NetworkFaultControl:
    """One relay's faults (a bridge process, or a proxy in front of a gateway)."""

    def __init__(self, name: str, control_url: str) -> None:
        self.name = name
        self.http = httpx.Client(base_url=control_url, timeout=10, verify=default_trust(),
                                 limits=http_keepalive.limits())

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) \
            -> dict[str, Any]:
        resp = self.http.request(method, path, json=body)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/faults")["stats"]

    def apply(self, **settings: Any) -> None:
        """Hold these faults until `clear()` (the context managers below do both)."""
        self._call("PUT", "/faults", settings)

    def clear(self) -> None:
        self._call("POST", "/faults/clear")

    def _holding(self, title: str, **settings: Any) -> HeldFault:
        return HeldFault(self, title, settings)

    def latency(self, ms: float, jitter_ms: float = 0.0) -> HeldFault:
        return self._holding(f"latency {ms} ms ± {jitter_ms} ms", latency_ms=ms,
                             jitter_ms=jitter_ms)

    def bandwidth(self, bits_per_s: int) -> HeldFault:
        return self._holding(f"bandwidth cap {bits_per_s} bit/s", bandwidth_bps=bits_per_s)

    def drop(self, direction: str) -> HeldFault:
        """Silently drop one direction: 'up' (device to gateway) or 'down'."""
        if direction not in ("up", "down"):
            raise ValueError("direction is 'up' (device to gateway) or 'down'")
        return self._holding(f"drop {direction}", **{f"drop_{direction}": True})

    def blackhole(self) -> HeldFault:
        return self._holding("blackhole (silent, connections kept)", blackhole=True)

    def corrupt(self, chunks: int = 1) -> HeldFault:
        return self._holding(f"corrupt one byte in each of {chunks} chunks", corrupt=chunks)

    def cut(self) -> None:
        with allure.step(f"fault on {self.name}: cut every connection (RST)"):
            self._call("POST", "/faults/cut")

    def partition(self, seconds: float) -> None:
        """Blackhole + refuse new connections for `seconds` (healed by the relay)."""
        with allure.step(f"fault on {self.name}: partition for {seconds} s"):
            self._call("POST", "/faults/partition", {"seconds": seconds})

    def flap(self, period_s: float, cycles: int) -> None:
        with allure.step(f"fault on {self.name}: flap every {period_s} s, {cycles} times"):
            self._call("POST", "/faults/flap", {"period_s": period_s, "cycles": cycles})


class Faults:
    """The `faults` fixture."""

    def network(self, relay: Any) -> NetworkFaultControl:
        """Faults of a bridge or proxy process (its ready info carries the control URL)."""
        proc: ManagedProcess = relay.process if hasattr(relay, "process") else relay
        return NetworkFaultControl(proc.name, proc.info["control"])

    # --- processes --------------------------------------------------------------------

    def kill(self, proc: ManagedProcess) -> None:
        with allure.step(f"fault: kill -9 {proc.name}"):
            proc.kill()

    def restart(self, proc: ManagedProcess) -> None:
        with allure.step(f"restart {proc.name}"):
            proc.start()

    @contextlib.contextmanager
    def hang(self, proc: ManagedProcess) -> Iterator[None]:
        """SIGSTOP: hung, not dead (sockets stay open); SIGCONT after the block."""
        with allure.step(f"fault: hang {proc.name} (SIGSTOP)"):
            proc.pause()
            try:
                yield
            finally:
                proc.resume()

    # --- boards -----------------------------------------------------------------------

    def power_cut(self, board: Any) -> None:
        with allure.step(f"fault: power cut {board.spec.name}"):
            board.power_cut()

    def reset(self, board: Any) -> None:
        with allure.step(f"fault: reset {board.spec.name}"):
            board.reset()

    def console_flood(self, board: Any, nbytes: int) -> None:
        with allure.step(f"fault: flood the console of {board.spec.name} with {nbytes} B"):
            board.console.write(bytes(range(256)) * (nbytes // 256))

    @contextlib.contextmanager
    def cpu_paused(self, board: Any) -> Iterator[None]:
        with allure.step(f"fault: pause the CPU of {board.spec.name}"):
            board.pause()
            try:
                yield
            finally:
                board.resume()

    # --- clock -------------------------------------------------------------------------

    @staticmethod
    def skewed_clock(offset: str) -> list[str]:
        """A command prefix running a process with its clock moved (libfaketime), e.g.
        "+400d" or "-2h"; skips the test with what to install when faketime is missing.

        The library is preloaded directly, not through the `faketime` wrapper: stopped with
        its process group (SIGTERM), the wrapper left its shared memory behind in /dev/shm,
        two files a run, for ever."""
        import glob

        import pytest

        libs = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") +
                      glob.glob("/usr/lib/faketime/libfaketime.so.1"))
        if not libs:
            pytest.skip("clock faults need libfaketime: apt-get install -y faketime")
        return ["env", f"LD_PRELOAD={libs[0]}", f"FAKETIME={offset}"]

    # --- PKI --------------------------------------------------------------------------

    def revoke(self, api: ApiClient, device: str) -> None:
        with allure.step(f"fault: revoke {device}"):
            api.revoke_device(device)

    def rotate_gateway_cert(self, gateway: Any, pki: Any) -> int:
        """Issue the gateway a new certificate in place and make it reload (asked with the
        gateway's own credential, as the control plane does); returns the new serial."""
        with allure.step(f"fault: rotate the certificate of {gateway.name}"):
            ident = pki.platform.issue_identity(gateway.name, server=True,
                                                dns_names=(gateway.name, "localhost"),
                                                ip_addresses=("127.0.0.1",))
            cert = Path(gateway.process.argv[gateway.process.argv.index("--cert") + 1])
            ident.save(cert.parent, cert.stem)
            httpx.post(f"{gateway.http_url}/api/v1/pki/refresh", verify=default_trust(),
                       headers={"Authorization": f"Bearer {gateway.token}"}).raise_for_status()
            return ident.cert.serial_number

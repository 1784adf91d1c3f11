"""Platform keywords for Robot suites: the same stack the pytest fixtures start (harness.services:
real API server, gateway, proxy, bridges and virtual device processes), one per suite, so
pabot can run suites side by side.

Boards are driven with the emulator keywords (Renode's, or ours on QEMU); this library
provisions them, bridges their link UART to the gateway and checks what the platform sees.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robot.api import SkipExecution, logger
from robot.libraries.BuiltIn import BuiltIn
from robotlibcore import DynamicCore, keyword

from harness.evidence import Evidence
from harness.faults import Faults
from harness.faults.library import HeldFault, NetworkFaultControl
from harness.firmware import SHARED_BUILD, build_apps, build_conformance, build_firmware
from harness.services import (
    Cluster,
    Fleet,
    GatewayHandle,
    Platform,
    ProxyHandle,
    provision_board,
    provision_virtual,
    start_bridge,
)
from wasmbed import examples
from wasmbed.emulation import EmulatorUnavailable, board_spec
from wasmbed.pki import PkiLayout
from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.serving import free_port
from wasmbed.waiting import Seen, WaitTimeout, wait_for


class WasmbedKeywords(DynamicCore):
    """Start the Wasmbed platform for a suite, create and enroll devices (virtual, or
    emulated boards with the real firmware), deploy applications, check what the platform
    reports, and inject faults. All waits poll with a timeout and fail saying what was
    awaited and what was last seen."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.group = ProcessGroup()
        self.faults = Faults()
        self.platform: Platform | None = None
        self.gateway: GatewayHandle | None = None
        self.proxy: ProxyHandle | None = None
        self.devices: dict[str, dict[str, Any]] = {}  # name -> {kind, dir/blob, ...}
        self.bridges: dict[str, ManagedProcess] = {}
        self.held_relays: dict[str, NetworkFaultControl] = {}  # until Clear Network Faults
        self._apps: dict[str, bytes] | None = None
        DynamicCore.__init__(self, [])

    # --- the stack ----------------------------------------------------------------------

    @property
    def root(self) -> Path:
        out = BuiltIn().get_variable_value("${OUTPUT DIR}", ".")
        suite = BuiltIn().get_variable_value("${SUITE NAME}", "suite")
        return Path(out) / "wasmbed-run" / re.sub(r"[^\w.-]+", "_", suite)

    @keyword
    def start_wasmbed_platform(self, heartbeat_interval: int = 1) -> str:
        """API server + controllers, one gateway, and a fault proxy in front of it (virtual
        devices connect through the proxy). Process logs go under
        ${OUTPUT DIR}/wasmbed/<suite>. Returns the API URL."""
        root = self.root
        shutil.rmtree(root, ignore_errors=True)  # a fresh stack; an earlier run's is gone
        self.evidence = Evidence(root / "evidence")
        self.evidence.directory.mkdir(parents=True, exist_ok=True)
        pki = PkiLayout(root / "pki").init()
        self.platform = Platform.start(Cluster.embedded(root / "cluster", pki), self.group,
                                       self.evidence)
        self.gateway = GatewayHandle.start(self.platform, self.group, self.evidence,
                                           heartbeat_interval=int(heartbeat_interval))
        self.proxy = ProxyHandle.start(self.gateway, self.group, self.evidence)
        logger.info(f"platform at {self.platform.url}; logs in {self.evidence.directory}")
        return self.platform.url

    @keyword
    def stop_wasmbed_platform(self) -> None:
        """Stop every process this suite started (also the ones a failed test left)."""
        problems = self.group.reap()
        if self.platform:
            self.platform.api.close()
        if problems:
            raise AssertionError(f"could not stop every process: {problems}")

    @keyword
    def log_evidence(self) -> None:
        """Log each process log and protocol trace as a link log.html opens (use in a test
        teardown)."""
        if hasattr(self, "evidence"):
            from html import escape

            links = "".join(f'<li><a href="{escape(path.as_uri())}">{escape(name)}</a> '
                            f'<code>{escape(str(path))}</code></li>'
                            for name, path in sorted(self.evidence.existing().items()))
            logger.info(f"evidence in <code>{escape(str(self.evidence.directory))}</code>:"
                        f"<ul>{links}</ul>", html=True)

    def _platform(self) -> Platform:
        if self.platform is None:
            raise AssertionError("the platform is not running: call Start Wasmbed Platform")
        return self.platform

    # --- devices ------------------------------------------------------------------------

    @keyword
    def create_device(self, name: str, board: str = "virtual", **labels: str) -> str:
        """Give a device its factory identity and register it with the API (phase Pending).
        For an emulated board returns the provisioning blob to load at the board's
        provisioning address; for a virtual device its directory."""
        platform = self._platform()
        assert self.gateway
        if board == "virtual":
            path = provision_virtual(platform, self.root / "devices", name, labels=labels)
            self.devices[name] = {"kind": "virtual", "path": path}
        else:
            board_spec(board)  # a clear error for an unknown board
            (self.root / "devices").mkdir(parents=True, exist_ok=True)
            path = provision_board(platform, self.gateway, self.root / "devices", name, board)
            self.devices[name] = {"kind": "board", "path": path, "board": board}
        return str(path)

    @keyword
    def build_conformance_firmware(self, board: str = "stm32f4_discovery") -> str:
        """The conformance firmware ELF (a line shell printing known lines) for `board`;
        skips the test when the toolchain is missing."""
        try:
            return str(build_conformance(board_spec(board), SHARED_BUILD))
        except EmulatorUnavailable as exc:
            raise SkipExecution(str(exc)) from exc

    @keyword
    def console_uart_of(self, board: str) -> str:
        """The board's console UART as Renode names it (e.g. sysbus.usart1)."""
        return board_spec(board).console_uart

    @keyword
    def provisioning_address(self, board: str) -> str:
        """Where the provisioning blob goes in the board's flash, as 0x...."""
        return f"0x{board_spec(board).provision_addr:08X}"

    @keyword
    def build_firmware(self, board: str = "stm32f4_discovery") -> str:
        """The firmware ELF for `board` (built incrementally); skips the test when the
        toolchain is missing."""
        try:
            return str(build_firmware(board_spec(board), SHARED_BUILD))
        except EmulatorUnavailable as exc:
            raise SkipExecution(str(exc)) from exc

    @keyword
    def free_port(self) -> int:
        """A free TCP port on 127.0.0.1 (for a socket terminal in a .resc)."""
        return free_port()

    @keyword
    def connect_board_to_gateway(self, name: str, link_port: int) -> None:
        """Bridge the board's link UART (a TCP socket terminal of the emulator on
        `link_port`) to the gateway. Call before Start Emulation; the bridge waits for it."""
        assert self.gateway
        self.bridges[name] = start_bridge(f"127.0.0.1:{int(link_port)}", self.gateway,
                                          self.group, self.evidence, f"bridge-{name}",
                                          wait=False)

    @keyword
    def enroll_device(self, name: str, timeout: float = 60) -> None:
        """A virtual device starts and enrolls; a board (already booting) is awaited until
        the API has issued its operational certificate."""
        dev = self._device(name)
        if dev["kind"] == "virtual" and "fleet" not in dev:
            assert self.proxy
            dev["fleet"] = Fleet.run(self.proxy, self.group, self.evidence,
                                     {name: dev["path"]}, f"vdev-{name}")
        self._wait(lambda: self._status(name).get("certificate") or Seen(self._status(name)),
                   timeout, f"{name} to be enrolled (an operational certificate issued)")

    @keyword
    def device_should_be_connected(self, name: str, timeout: float = 30) -> None:
        self.device_should_be_in_phase(name, "Connected", timeout)

    @keyword
    def device_should_be_in_phase(self, name: str, phase: str, timeout: float = 30) -> None:
        def check() -> Any:
            st = self._status(name)
            return st.get("phase") == phase or Seen(st.get("phase"))

        self._wait(check, timeout, f"device {name} in phase {phase}")

    def _device(self, name: str) -> dict[str, Any]:
        try:
            return self.devices[name]
        except KeyError:
            raise AssertionError(f"unknown device {name!r}: Create Device first") from None

    def _status(self, name: str) -> dict[str, Any]:
        return self._platform().api.device(name).get("status") or {}

    @staticmethod
    def _wait(check: Any, timeout: float, what: str) -> Any:
        try:
            return wait_for(check, float(timeout), what)
        except WaitTimeout as exc:
            raise AssertionError(str(exc)) from None

    # --- applications -------------------------------------------------------------------

    @keyword
    def deploy_application(self, name: str, module: str, *devices: str,
                           selector: str | None = None) -> None:
        """Deploy `module` to the devices named (or to a label selector). `module` is a
        .wasm file, `app:<name>` for an example app in C (firmware/apps, built with clang),
        or the name of a bundled example (hello, counter, trap, spin)."""
        wasm = self._module(module)
        api = self._platform().api
        if selector:
            api.create_application(name, wasm, selector=selector)
        else:
            api.create_application(name, wasm, devices=list(devices))

    def _module(self, module: str) -> bytes:
        if module.startswith("app:"):
            if self._apps is None:
                try:
                    self._apps = build_apps(SHARED_BUILD)
                except EmulatorUnavailable as exc:
                    raise SkipExecution(str(exc)) from exc
            try:
                return self._apps[module[4:]]
            except KeyError:
                raise AssertionError(f"no example app {module[4:]!r}; have "
                                     f"{', '.join(sorted(self._apps))}") from None
        path = Path(module)
        if path.suffix == ".wasm":
            return path.read_bytes()
        return examples.wasm(module)

    def _entry(self, app: str, device: str) -> dict[str, Any]:
        status = self._platform().api.application(app).get("status") or {}
        return (status.get("deviceStatuses") or {}).get(device) or {}

    @keyword
    def application_should_be_running_on(self, app: str, device: str,
                                         timeout: float = 30) -> None:
        self.application_phase_on_device_should_be(app, device, "Running", timeout)

    @keyword
    def application_phase_on_device_should_be(self, app: str, device: str, phase: str,
                                              timeout: float = 30) -> None:
        def check() -> Any:
            entry = self._entry(app, device)
            return entry.get("phase") == phase or Seen(
                {k: entry.get(k) for k in ("phase", "error")})

        self._wait(check, timeout, f"{app} {phase} on {device}")

    @keyword
    def application_output_should_contain(self, app: str, device: str, text: str,
                                          timeout: float = 30) -> None:
        """Some output of the module on the device (a log line, or a value) contains
        `text`."""
        def check() -> Any:
            outputs = self._entry(app, device).get("outputs") or []
            seen = [str(o.get("text", o.get("value"))) for o in outputs]
            return any(text in s for s in seen) or Seen(seen[-5:])

        self._wait(check, timeout, f"output of {app} on {device} containing {text!r}")

    @keyword
    def stop_application(self, app: str) -> None:
        self._platform().api.stop_application(app)

    # --- faults -------------------------------------------------------------------------

    def _relay(self, device: str | None) -> NetworkFaultControl:
        """The relay a device's traffic crosses: its bridge (a board) or the proxy."""
        if device and device in self.bridges:
            bridge = self.bridges[device]
            if not bridge.info:
                bridge.wait_ready()
            return self.faults.network(bridge)
        assert self.proxy
        return self.faults.network(self.proxy)

    @keyword
    def inject_network_fault(self, kind: str, device: str | None = None,
                             **params: str) -> None:
        """Network faults between devices and the gateway: held until Clear Network Faults
        (latency ms= jitter_ms=, bandwidth bandwidth_bps=, drop_up, drop_down, blackhole,
        corrupt chunks=) or one-off actions (cut, partition seconds=, flap period_s=
        cycles=). `device` picks a board's bridge; otherwise the virtual devices' proxy.
        The fault library (harness.faults) does the work, as in the pytest scenarios."""
        relay = self._relay(device)
        p = {k: float(v) for k, v in params.items()}
        held: dict[str, Callable[[], HeldFault]] = {
            "latency": lambda: relay.latency(p.get("ms", 100.0), p.get("jitter_ms", 0.0)),
            "bandwidth": lambda: relay.bandwidth(int(p["bandwidth_bps"])),
            "drop_up": lambda: relay.drop("up"),
            "drop_down": lambda: relay.drop("down"),
            "blackhole": relay.blackhole,
            "corrupt": lambda: relay.corrupt(int(p.get("chunks", 1)))}
        actions: dict[str, Callable[[], None]] = {
            "cut": relay.cut,
            "partition": lambda: relay.partition(p["seconds"]),
            "flap": lambda: relay.flap(p["period_s"], int(p["cycles"]))}
        if kind in held:
            held[kind]().hold()
            self.held_relays[relay.name] = relay
        elif kind in actions:
            actions[kind]()
        else:
            raise AssertionError(f"unknown network fault {kind!r}; one of "
                                 f"{', '.join([*held, *actions])}")

    @keyword
    def clear_network_faults(self) -> None:
        """Undo every held network fault (the relays go away with the suite anyway)."""
        while self.held_relays:
            self.held_relays.popitem()[1].clear()

    @keyword
    def inject_process_fault(self, kind: str, process: str = "gateway") -> None:
        """kill (-9), restart, hang (SIGSTOP) or resume a platform process: gateway, api,
        proxy, or bridge-<device>."""
        proc = self._process(process)
        if kind == "kill":
            self.faults.kill(proc)
        elif kind == "restart":
            self.faults.restart(proc)
        elif kind == "hang":
            proc.pause()
        elif kind == "resume":
            proc.resume()
        else:
            raise AssertionError(f"unknown process fault {kind!r}: kill, restart, hang, "
                                 "resume")

    def _process(self, name: str) -> ManagedProcess:
        known = {"api": self.platform and self.platform.process,
                 "gateway": self.gateway and self.gateway.process,
                 "proxy": self.proxy and self.proxy.process,
                 **{p.name: p for p in self.bridges.values()}}
        proc = known.get(name)
        if proc is None:
            raise AssertionError(f"no process {name!r}; have {', '.join(known)}")
        return proc

    @keyword
    def revoke_device(self, name: str) -> None:
        """Revoke the device's certificates (its session is cut at the next CRL refresh)."""
        self.faults.revoke(self._platform().api, name)

"""Handles on the running stack: cluster (a fresh store + PKI), platform (API server and
controllers), gateways and virtual device fleets — each a real process."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from harness.evidence import Evidence
from harness.kube import Kube
from wasmbed.device.provision import provision
from wasmbed.device.virtual import DeviceProfile
from wasmbed.emulation import board_spec
from wasmbed.emulation.provisioning import write_blob
from wasmbed.http_trust import default_trust
from wasmbed.pki import CertificateAuthority, PkiLayout
from wasmbed.pki.ca import write_secret
from wasmbed.processes import ManagedProcess, ProcessGroup, wasmbed_argv
from wasmbed.rest_client import ApiClient


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass
class Cluster:
    """A fresh, isolated store and PKI (a copy of the session CAs) for one test: the
    embedded store in `data_dir`, or a Kubernetes namespace of its own."""

    backend: str
    data_dir: Path
    kube: Kube | None = None
    namespace: str | None = None

    @classmethod
    def embedded(cls, root: Path, session_pki: PkiLayout) -> Cluster:
        data = root / "api"
        shutil.copytree(session_pki.root, data / "pki")
        return cls("embedded", data)

    @classmethod
    def kubernetes(cls, root: Path, session_pki: PkiLayout, kube: Kube,
                   namespace: str) -> Cluster:
        data = root / "api"
        shutil.copytree(session_pki.root, data / "pki")
        return cls("kubernetes", data, kube, namespace)

    @property
    def store_args(self) -> list[str]:
        """What tells a `wasmbed api`/`controller` process to use this cluster's store."""
        if self.kube is None:
            return []
        return ["--store", "kubernetes", "--namespace", str(self.namespace),
                *self.kube.kubeconfig_args]

    def kubectl(self, *args: str) -> str:
        """kubectl in this cluster's namespace, as the admin (what an operator would see)."""
        if self.kube is None:
            raise RuntimeError("kubectl needs --cluster local or kubeconfig")
        return self.kube.kubectl("-n", str(self.namespace), *args)

    @property
    def pki(self) -> PkiLayout:
        return PkiLayout(self.data_dir / "pki")


@dataclass
class Platform:
    """The API server process (with its controllers) and an authenticated client."""

    process: ManagedProcess
    cluster: Cluster
    api: ApiClient

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def token(self) -> str:
        return self.api.token

    @classmethod
    def start(cls, cluster: Cluster, group: ProcessGroup, evidence: Evidence,
              cert_lifetime_s: float | None = None, controllers: bool = True,
              extra: Sequence[str] = ()) -> Platform:
        """`controllers=False`: the API alone; run them with `start_controller`. `extra`:
        more `wasmbed api` options."""
        args = ["api", "--verbose", "--data-dir", str(cluster.data_dir), "--port", "0",
                "--ready-file", str(evidence.directory / "api.ready"), *cluster.store_args]
        if not controllers:
            args.append("--no-controllers")
        args += extra
        if cert_lifetime_s is not None:
            args += ["--cert-lifetime", str(cert_lifetime_s)]
        proc = group.add(ManagedProcess("api", wasmbed_argv(*args), evidence.path("api"),
                                        evidence.directory / "api.ready"))
        info = proc.start()
        proc.set_arg("--port", info["url"].rsplit(":", 1)[1])  # restarts come back here
        token = (cluster.data_dir / "token").read_text().strip()
        return cls(proc, cluster, ApiClient(info["url"], token))


def start_controller(cluster: Cluster, group: ProcessGroup, evidence: Evidence,
                     identity: str, lease_s: float = 15.0) -> ManagedProcess:
    """A `wasmbed controller` replica (as in the Deployment manifest) on this cluster."""
    ready = evidence.directory / f"{identity}.ready"
    args = ["controller", "--verbose", "--data-dir", str(cluster.data_dir),
            "--identity", identity,
            "--lease-seconds", str(lease_s), "--ready-file", str(ready), *cluster.store_args]
    proc = group.add(ManagedProcess(identity, wasmbed_argv(*args), evidence.path(identity),
                                    ready))
    proc.start()
    return proc


@dataclass
class GatewayHandle:
    name: str
    process: ManagedProcess
    token_file: Path

    @property
    def info(self) -> dict[str, Any]:
        return self.process.info

    @property
    def tls_address(self) -> tuple[str, int]:
        host, port = self.info["tls"].rsplit(":", 1)
        return host, int(port)

    @property
    def http_url(self) -> str:
        return self.info["http"]

    @property
    def token(self) -> str:
        """This gateway's own credential (what the control plane calls it with)."""
        return self.token_file.read_text().strip()

    def metric_samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """The samples called `name` on its Prometheus /metrics (labels, value)."""
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{self.http_url}/metrics", timeout=10, verify=default_trust(),
                         headers={"Authorization": f"Bearer {self.token}"}).text
        return [(sample.labels, sample.value)
                for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name == name]

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value (summed over the labels not given; 0 when it has none yet)."""
        return sum(value for have, value in self.metric_samples(name)
                   if all(have.get(k) == v for k, v in labels.items()))

    def kill(self) -> None:
        self.process.kill()

    def restart(self) -> dict[str, Any]:
        """Start again on the same ports and cache (after kill() or stop())."""
        return self.process.start()

    @classmethod
    def start(cls, platform: Platform, group: ProcessGroup, evidence: Evidence, *,
              name: str | None = None, heartbeat_interval: int = 1, missed_heartbeats: int = 3,
              chunk_size: int = 1024, extra: Sequence[str] = (),
              wrapper: Sequence[str] = (), trace: bool = True) -> GatewayHandle:
        """`wrapper` prefixes the command (e.g. faketime for clock-skew faults). `trace`:
        the protocol trace every scenario keeps as evidence; a benchmark of the gateway
        under load turns it off, as a deployment runs (it is off by default)."""
        name = name or unique("gw")
        ident = platform.cluster.pki.gateway_identity(name)
        cert, key = ident.save(evidence.directory / name, "identity")
        token_file = evidence.directory / name / "token"
        write_secret(token_file, platform.api.gateway_token(name).encode())
        ready = evidence.directory / f"{name}.ready"
        args = ["gateway", "--verbose", "--name", name, "--api-url", platform.url,
                "--token-file", str(token_file),
                "--cert", str(cert), "--key", str(key),
                "--data-dir", str(evidence.directory / name),
                "--port", "0", "--http-port", "0",
                "--heartbeat-interval", str(heartbeat_interval),
                "--missed-heartbeats", str(missed_heartbeats),
                "--chunk-size", str(chunk_size), "--trust-refresh", "2",
                "--ready-file", str(ready), *extra]
        if trace:
            args += ["--trace-file", str(evidence.path(f"{name}-trace", ".jsonl"))]
        proc = group.add(ManagedProcess(name, [*wrapper, *wasmbed_argv(*args)],
                                        evidence.path(name), ready))
        info = proc.start()
        proc.set_arg("--port", str(info["tlsPort"]))  # restarts come back where devices are
        proc.set_arg("--http-port", info["http"].rsplit(":", 1)[1])
        return cls(name, proc, token_file)


@dataclass
class Fleet:
    """Virtual devices in one `wasmbed device simulate` process."""

    names: list[str]
    dirs: dict[str, Path]
    process: ManagedProcess

    def status(self, name: str) -> dict[str, Any]:
        path = self.dirs[name] / "status.json"
        return json.loads(path.read_text()) if path.exists() else {"state": "not started"}

    def statuses(self) -> dict[str, dict[str, Any]]:
        return {n: self.status(n) for n in self.names}

    @classmethod
    def start(cls, platform: Platform, gateway: GatewayHandle, group: ProcessGroup,
              evidence: Evidence, n: int, *, prefix: str | None = None,
              labels: dict[str, str] | None = None, register: bool = True,
              factory: CertificateAuthority | None = None,
              profile: DeviceProfile | None = None) -> Fleet:
        """Provision (and register) n devices `<prefix>-<i>`, then run them."""
        prefix = prefix or unique("vdev")
        dirs = {name: provision_virtual(platform, evidence.directory / prefix, name,
                                        labels=labels, register=register, factory=factory)
                for name in (f"{prefix}-{i}" for i in range(n))}
        return cls.run(gateway, group, evidence, dirs, prefix, profile)

    @classmethod
    def run(cls, gateway: Any, group: ProcessGroup, evidence: Evidence,
            dirs: dict[str, Path], name: str, profile: DeviceProfile | None = None) -> Fleet:
        """Run already provisioned devices (`provision_virtual`) in one process, connecting
        to `gateway` (a GatewayHandle or a ProxyHandle in front of one)."""
        host, port = gateway.tls_address
        ready = evidence.directory / f"{name}.ready"
        args = ["device", "simulate", "--verbose", *map(str, dirs.values()),
                "--gateway", f"{host}:{port}",
                "--ready-file", str(ready),
                "--trace-file", str(evidence.path(f"{name}-trace", ".jsonl"))]
        if profile is not None:
            args += ["--profile", json.dumps(asdict(profile))]
        proc = group.add(ManagedProcess(name, wasmbed_argv(*args), evidence.path(name), ready))
        proc.start()
        return cls(list(dirs), dirs, proc)


def provision_virtual(platform: Platform, directory: Path, name: str, *,
                      labels: dict[str, str] | None = None, register: bool = True,
                      factory: CertificateAuthority | None = None) -> Path:
    """A virtual device's factory identity in `directory/name`, registered with the API
    unless `register` is False; returns its directory."""
    pki = platform.cluster.pki
    key = provision(directory / name, name, factory or pki.factory, pki.platform.cert_pem)
    if register:
        platform.api.create_device(name, key, labels=labels or {})
    return directory / name


@dataclass
class ProxyHandle:
    """A `wasmbed proxy` in front of a gateway: devices connect here, faults apply here."""

    name: str
    process: ManagedProcess
    gateway: GatewayHandle

    @property
    def tls_address(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.process.info["port"])

    @classmethod
    def start(cls, gateway: GatewayHandle, group: ProcessGroup, evidence: Evidence,
              name: str | None = None) -> ProxyHandle:
        name = name or unique("proxy")
        host, port = gateway.tls_address
        ready = evidence.directory / f"{name}.ready"
        argv = wasmbed_argv("proxy", "--target", f"{host}:{port}", "--ready-file", str(ready))
        proc = group.add(ManagedProcess(name, argv, evidence.path(name), ready))
        proc.start()
        proc.set_arg("--port", str(proc.info["port"]))  # restarts come back here
        return cls(name, proc, gateway)


def start_bridge(board_link: str, gateway: GatewayHandle, group: ProcessGroup,
                 evidence: Evidence, name: str, *, wait: bool = True) -> ManagedProcess:
    """A `wasmbed bridge` relaying a board's link UART (`board.link_endpoint`: an emulator's
    HOST:PORT, which the bridge retries until the emulator listens, or a lab board's serial
    port) to the gateway's TLS port. It is ready once attached to the board: `wait=False`
    returns before (the board is not started yet); call `wait_ready()` before using its
    fault control."""
    gh, gp = gateway.tls_address
    ready = evidence.directory / f"{name}.ready"
    argv = wasmbed_argv("bridge", "--verbose", "--link", f"{name}={board_link}->{gh}:{gp}",
                        "--ready-file", str(ready))
    proc = group.add(ManagedProcess(name, argv, evidence.path(name), ready))
    proc.start(wait=wait)
    return proc


def provision_board(platform: Platform, gateway: GatewayHandle, directory: Path, name: str,
                    board: str = "stm32f4_discovery",
                    factory: CertificateAuthority | None = None,
                    register: bool = True) -> Path:
    """A device identity burnt into a provisioning blob (what a factory flashes), registered
    with the API unless `register` is False; returns the blob's path."""
    pki = platform.cluster.pki
    spec = board_spec(board)
    blob, key = write_blob(directory / f"{name}.blob", name, factory or pki.factory,
                           pki.platform, gateway.name, wasm_ram=spec.wasm_ram,
                           max_module_size=spec.max_module_size)
    if register:
        platform.api.create_device(name, key, board=board, device_type="emulated")
    return blob

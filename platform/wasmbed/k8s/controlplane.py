"""A real, minimal Kubernetes control plane on loopback: etcd + kube-apiserver, for tests and
for trying the Kubernetes backend on one machine without Docker.

No scheduler, no controller-manager, no nodes: the platform only needs the API (CRDs,
namespaces, Leases, RBAC). Auth is real: serving and client certificates from our own CA,
bearer tokens from a token file, RBAC on. Two users: `admin` (system:masters, for setting
up) and `wasmbed` (only what k8s/manifests/rbac.yaml grants), so the tests prove the RBAC
manifest is enough for the platform.
"""

from __future__ import annotations

import os
import secrets
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization

from wasmbed.http_trust import default_trust
from wasmbed.paths import REPO
from wasmbed.pki import CertificateAuthority
from wasmbed.pki.ca import key_pem, new_key, write_secret
from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.serving import free_port
from wasmbed.waiting import Seen, wait_for

BUILD_SCRIPT = REPO / "tools" / "k8s" / "build.sh"
START_TIMEOUT = 120.0
PLATFORM_USER = "wasmbed"


class ControlPlaneError(RuntimeError):
    pass


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path

    @classmethod
    def find(cls) -> Binaries:
        """$WASMBED_ETCD / $WASMBED_KUBE_APISERVER, else the build cache of tools/k8s."""
        env_etcd, env_api = os.environ.get("WASMBED_ETCD"), os.environ.get(
            "WASMBED_KUBE_APISERVER")
        if env_etcd and env_api:
            found = cls(Path(env_etcd), Path(env_api))
        else:
            out = subprocess.run([str(BUILD_SCRIPT), "--print"], capture_output=True,
                                 text=True, check=True).stdout.split()
            found = cls(Path(out[0]), Path(out[1]))
        missing = [str(p) for p in (found.etcd, found.kube_apiserver) if not p.is_file()]
        if missing:
            raise ControlPlaneError(
                f"not built: {', '.join(missing)}; run tools/k8s/build.sh (a cold build takes "
                "about 10 minutes on 2 cores, then it is cached), or use --cluster kubeconfig "
                "with an existing cluster")
        return found


def kubeconfig_yaml(server: str, ca_file: Path, user: str, token: str,
                    namespace: str = "default") -> str:
    """The CA by its path, not as `certificate-authority-data`: the Python client copies
    that to a temporary file it deletes only at a normal exit, so every process killed
    (a failover test's controller) left one behind in /tmp."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: wasmbed-local
  cluster:
    server: {server}
    certificate-authority: {ca_file.resolve()}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: {user}@wasmbed-local
  context:
    cluster: wasmbed-local
    user: {user}
    namespace: {namespace}
current-context: {user}@wasmbed-local
"""


@dataclass
class LocalControlPlane:
    """etcd + kube-apiserver under `root`, logs in `log_dir`, processes in `group`."""

    root: Path
    group: ProcessGroup
    log_dir: Path
    binaries: Binaries = field(default_factory=Binaries.find)
    url: str = ""
    started: list[ManagedProcess] = field(default_factory=list, init=False, repr=False)

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def platform_kubeconfig(self) -> Path:
        """The `wasmbed` user: only what k8s/manifests/rbac.yaml grants it."""
        return self.root / "wasmbed.kubeconfig"

    def start(self) -> LocalControlPlane:
        self.root.mkdir(parents=True, exist_ok=True)
        etcd_url = self._start_etcd()
        self._start_apiserver(etcd_url)
        return self

    def stop(self) -> None:
        """In reverse start order: kube-apiserver, then etcd. Stopped together, the API
        server's shutdown keeps retrying the etcd that is gone (its endpoint lease) and is
        killed after the stop timeout: 10 s more at every session end."""
        for proc in reversed(self.started):
            proc.stop()

    def _start_etcd(self) -> str:
        client, peer = free_port(), free_port()
        url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        argv = [str(self.binaries.etcd), "--name", "wasmbed",
                "--data-dir", str(self.root / "etcd"),
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                "--initial-cluster", f"wasmbed={peer_url}",
                "--unsafe-no-fsync",  # throw-away data: fsync would only cost time
                "--log-level", "warn"]
        proc = self.group.add(ManagedProcess("etcd", argv, self.log_dir / "etcd.log"))
        self.started.append(proc)
        proc.start()

        def healthy() -> object:
            self._check_alive(proc)
            try:
                r = httpx.get(f"{url}/health", timeout=2, verify=default_trust())
                return r.status_code == 200 and r.json().get("health") == "true" or Seen(r.text)
            except httpx.HTTPError as exc:
                return Seen(repr(exc))

        wait_for(healthy, START_TIMEOUT, f"etcd on {url} to report healthy")
        return url

    def _start_apiserver(self, etcd_url: str) -> None:
        pki = self.root / "pki"
        ca = CertificateAuthority.create(pki / "ca", "wasmbed local cluster CA")
        ca_file = ca.directory / "ca.pem"
        serving = ca.issue_identity("kube-apiserver", server=True,
                                    dns_names=("localhost", "kubernetes.default.svc"),
                                    ip_addresses=("127.0.0.1",))
        cert, key = serving.save(pki, "apiserver")
        sa_key, sa_pub = pki / "service-account.key", pki / "service-account.pub"
        signing = new_key()
        write_secret(sa_key, key_pem(signing))
        sa_pub.write_bytes(signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        self.admin_token, self.platform_token = secrets.token_hex(16), secrets.token_hex(16)
        tokens = pki / "tokens.csv"
        write_secret(tokens, (f'{self.admin_token},admin,admin-uid,"system:masters"\n'
                              f"{self.platform_token},{PLATFORM_USER},wasmbed-uid\n").encode())
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        argv = [str(self.binaries.kube_apiserver),
                "--etcd-servers", etcd_url,
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                "--secure-port", str(port),
                "--tls-cert-file", str(cert), "--tls-private-key-file", str(key),
                "--client-ca-file", str(ca_file),
                "--token-auth-file", str(tokens),
                "--authorization-mode", "RBAC",
                "--service-account-issuer", "https://kubernetes.default.svc",
                "--service-account-key-file", str(sa_pub),
                "--service-account-signing-key-file", str(sa_key),
                "--service-cluster-ip-range", "10.96.0.0/24",
                "--cert-dir", str(pki / "generated"),
                "--enable-priority-and-fairness=false",  # one tenant; saves CPU on 2 cores
                "--profiling=false"]
        proc = self.group.add(ManagedProcess("kube-apiserver", argv,
                                             self.log_dir / "kube-apiserver.log"))
        self.started.append(proc)
        proc.start()
        self.admin_kubeconfig.write_text(kubeconfig_yaml(self.url, ca_file, "admin",
                                                         self.admin_token))
        self.platform_kubeconfig.write_text(kubeconfig_yaml(self.url, ca_file, PLATFORM_USER,
                                                            self.platform_token))
        trust = ssl.create_default_context(cafile=str(ca_file))

        def ready() -> object:
            self._check_alive(proc)
            try:
                r = httpx.get(f"{self.url}/readyz", verify=trust, timeout=5,
                              headers={"Authorization": f"Bearer {self.admin_token}"})
                return r.status_code == 200 or Seen(f"{r.status_code} {r.text[-300:]}")
            except httpx.HTTPError as exc:
                return Seen(repr(exc))

        wait_for(ready, START_TIMEOUT, f"kube-apiserver on {self.url} to be ready (/readyz)",
                 interval=0.25)

    @staticmethod
    def _check_alive(proc: ManagedProcess) -> None:
        if not proc.alive:
            raise ControlPlaneError(f"{proc.name} exited while starting; its log "
                                    f"{proc.log_path}:\n{proc.log_tail()}")

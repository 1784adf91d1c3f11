"""A Kubernetes API for the session (`--cluster local`: our own etcd + kube-apiserver;
`--cluster kubeconfig`: the user's current cluster), with the CRDs installed, and one fresh
namespace per test."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wasmbed.k8s.controlplane import PLATFORM_USER, Binaries, LocalControlPlane
from wasmbed.k8s.kubectl import MANIFESTS, Kubectl
from wasmbed.processes import ProcessGroup


@dataclass
class Kube:
    mode: str
    kubectl: Kubectl  # as the cluster admin (set-up, namespaces, what a user would look at)
    platform_kubeconfig: Path | None  # what the platform runs as (None: the default one)
    control_plane: LocalControlPlane | None = None
    owned: bool = True  # False: another worker's control plane (SharedControlPlane)

    @classmethod
    def start(cls, mode: str, root: Path, group: ProcessGroup) -> Kube:
        if mode == "local":
            cp = LocalControlPlane(root, group, root).start()
            kube = cls(mode, Kubectl(cp.admin_kubeconfig), cp.platform_kubeconfig, cp)
            kube.kubectl.install_crds()
            kube.kubectl("apply", "-f", str(MANIFESTS / "namespace.yaml"),
                         "-f", str(MANIFESTS / "rbac.yaml"))
            kube.kubectl("create", "clusterrolebinding", f"{PLATFORM_USER}-user",
                         "--clusterrole", "wasmbed-platform", "--user", PLATFORM_USER)
            return kube
        kube = cls(mode, Kubectl(), None)
        kube.kubectl.install_crds()
        return kube

    def stop(self) -> None:
        """Our own control plane, in order (a user's cluster is left alone)."""
        if self.control_plane and self.owned:
            self.control_plane.stop()

    def describe(self) -> dict[str, str]:
        """What another process needs to use this local control plane (`attach`)."""
        cp = self.control_plane
        assert cp is not None
        return {"root": str(cp.root), "url": cp.url, "adminToken": cp.admin_token,
                "platformToken": cp.platform_token, "etcd": str(cp.binaries.etcd),
                "kubeApiserver": str(cp.binaries.kube_apiserver), "pid": str(os.getpid())}

    @classmethod
    def attach(cls, described: dict[str, str]) -> Kube:
        """A local control plane another process started and stops."""
        cp = LocalControlPlane(Path(described["root"]), ProcessGroup(), Path(described["root"]),
                               Binaries(Path(described["etcd"]),
                                        Path(described["kubeApiserver"])),
                               described["url"])
        cp.admin_token, cp.platform_token = described["adminToken"], described["platformToken"]
        return cls("local", Kubectl(cp.admin_kubeconfig), cp.platform_kubeconfig, cp,
                   owned=False)

    @property
    def kubeconfig_args(self) -> list[str]:
        """CLI options that point a `wasmbed` process at this cluster."""
        return ["--kubeconfig", str(self.platform_kubeconfig)] if self.platform_kubeconfig \
            else []

    def new_namespace(self, prefix: str = "wb") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.kubectl.create_namespace(name)
        return name

    def delete_namespace(self, name: str) -> None:
        self.kubectl.delete_namespace(name)


class SharedControlPlane:
    """One local control plane for every xdist worker of a run, where each started its own:
    ~3.8 s of CPU to start one and install the CRDs, then ~2.5% of a core while it idles,
    for each of the 4 workers on 2 cores, though only a few tests use it. Tests share it
    safely: each has a namespace of its own.

    The first worker that needs it starts it (under `.lock`) and says how to reach it in
    `state.json`. Every user holds `.users` shared for its whole session; at its end the
    starter takes `.users` exclusively, so it stops the control plane only when no other
    worker uses it any more. `.users` is always taken before `.lock`: a worker that arrives
    while the control plane is being stopped waits, then starts a new one. A worker killed
    loses its locks with it; a starter that died is found by its pid."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def use(self, group: ProcessGroup) -> Iterator[Kube]:
        state = self.directory / "state.json"
        with open(self.directory / ".users", "a") as users:
            fcntl.flock(users, fcntl.LOCK_SH)
            with self._locked():
                kube = self._reachable(state)
                if kube is None:
                    kube = Kube.start("local", self.directory / uuid.uuid4().hex[:8], group)
                    state.write_text(json.dumps(kube.describe()))
            try:
                yield kube
            finally:
                if kube.owned:
                    fcntl.flock(users, fcntl.LOCK_UN)
                    fcntl.flock(users, fcntl.LOCK_EX)  # every other user has ended
                    with self._locked():
                        state.unlink(missing_ok=True)
                        kube.stop()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @staticmethod
    def _reachable(state: Path) -> Kube | None:
        if not state.exists():
            return None
        described = json.loads(state.read_text())
        try:
            os.kill(int(described["pid"]), 0)
        except ProcessLookupError:  # its starter died (and its process group with it)
            state.unlink()
            return None
        return Kube.attach(described)

"""A Kubernetes API for the session (`--cluster local`: our own etcd + kube-apiserver;
`--cluster kubeconfig`: the user's current cluster), with the CRDs installed, and one fresh
namespace per test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from wasmbed.k8s.controlplane import PLATFORM_USER, LocalControlPlane
from wasmbed.k8s.kubectl import MANIFESTS, Kubectl
from wasmbed.processes import ProcessGroup


@dataclass
class Kube:
    mode: str
    kubectl: Kubectl  # as the cluster admin (set-up, namespaces, what a user would look at)
    platform_kubeconfig: Path | None  # what the platform runs as (None: the default one)
    control_plane: LocalControlPlane | None = None

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
        if self.control_plane:
            self.control_plane.stop()

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

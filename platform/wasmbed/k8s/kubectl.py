"""kubectl, the ordinary tool: what users run against the cluster is what sets it up here
(CRDs, RBAC, namespaces), so the manifests are proven by the same path users take."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from wasmbed.k8s.controlplane import ControlPlaneError
from wasmbed.waiting import Seen, wait_for

MANIFESTS = Path(__file__).parent / "manifests"  # shipped in the package: `wasmbed manifests`
CRDS = MANIFESTS / "crds"
CRD_NAMES = [f"{plural}.wasmbed.github.io" for plural in ("devices", "applications", "gateways")]


class Kubectl:
    def __init__(self, kubeconfig: Path | None = None, context: str | None = None) -> None:
        exe = shutil.which("kubectl")
        if exe is None:
            raise ControlPlaneError("kubectl not found; install it (Debian: apt-get install "
                                    "kubernetes-client)")
        self.base = [exe]
        if kubeconfig:
            self.base += ["--kubeconfig", str(kubeconfig)]
        if context:
            self.base += ["--context", context]

    def __call__(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)} failed "
                                    f"({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def install_crds(self, timeout_s: int = 60) -> None:
        """Apply the CRDs and wait until the API serves them (condition Established).

        Polled here rather than with `kubectl wait --for condition=Established`: a CRD read
        before the API server wrote its first status has no conditions, and kubectl 1.32's
        wait then fails at once ("<nil> is of the type <nil>") instead of waiting."""
        self("apply", "-f", str(CRDS))
        wait_for(self._crds_established, timeout_s,
                 f"the API server to mark the CRDs {', '.join(CRD_NAMES)} Established",
                 interval=0.2)

    def _crds_established(self) -> bool | Seen:
        out = self("get", "crd", *CRD_NAMES, "-o", "jsonpath={range .items[*]}"
                   "{.metadata.name}={.status.conditions[?(@.type==\"Established\")].status}"
                   "{\"\\n\"}{end}")
        states = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return all(states.get(n) == "True" for n in CRD_NAMES) or Seen(states)

    def create_namespace(self, name: str) -> None:
        self("create", "namespace", name)

    def delete_namespace(self, name: str) -> None:
        self("delete", "namespace", name, "--wait=false", "--ignore-not-found")

"""The manifests (wasmbed/k8s/manifests) against a real kube-apiserver: they apply (server-side dry
run runs the API's own validation and admission), the CRDs' schemas refuse bad objects with
a clear error, and their printer columns make `kubectl get` useful."""

from __future__ import annotations

import pytest

from wasmbed.k8s.controlplane import ControlPlaneError, LocalControlPlane
from wasmbed.k8s.kubectl import MANIFESTS
from wasmbed.processes import ProcessGroup
from wasmbed.store import Invalid, StoreError, new_resource
from wasmbed.store.kubernetes import KubernetesStore


def test_every_manifest_passes_server_side_validation(kube):
    out = kube.kubectl("apply", "--dry-run=server", "-f", str(MANIFESTS), "-f",
                       str(MANIFESTS / "crds"))
    for kind in ("deployment.apps/wasmbed-api", "deployment.apps/wasmbed-controllers",
                 "statefulset.apps/wasmbed-gateway", "service/wasmbed-api",
                 "clusterrole.rbac.authorization.k8s.io/wasmbed-platform",
                 "customresourcedefinition.apiextensions.k8s.io/devices.wasmbed.github.io"):
        assert kind in out, out


def test_a_broken_manifest_is_refused_with_the_reason(kube, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((MANIFESTS / "controllers.yaml").read_text().replace(
        "replicas: 2", "replicas: two"))
    with pytest.raises(ControlPlaneError, match="replicas"):
        kube.kubectl("apply", "--dry-run=server", "-f", str(bad))


async def test_schema_refuses_bad_specs_and_unknown_fields(kube, kube_namespace):
    store = await KubernetesStore.connect(kube_namespace, kube.platform_kubeconfig)
    try:
        with pytest.raises(Invalid, match="mcuType"):
            await store.create(new_resource("Device", "no-board", {"deviceType": "x"}))
        with pytest.raises(Invalid, match="publicKey"):
            await store.create(new_resource("Device", "bad-key", {"mcuType": "virtual",
                                                                 "publicKey": "%%%"}))
        with pytest.raises(Invalid, match="unknown field"):
            await store.create(new_resource("Device", "extra", {"mcuType": "virtual",
                                                               "colour": "blue"}))
        with pytest.raises(Invalid, match="sha256"):
            await store.create(new_resource("Application", "app", {
                "wasmBytes": "AGFzbQEAAAA=", "sha256": "not-hex"}))
        ok = await store.create(new_resource("Device", "ok", {"mcuType": "virtual"}))
        assert ok["metadata"]["generation"] == 1
    finally:
        await store.close()


async def test_kubectl_shows_phase_board_and_gateway_columns(kube, kube_namespace):
    store = await KubernetesStore.connect(kube_namespace, kube.platform_kubeconfig)
    try:
        await store.create(new_resource("Device", "d1", {"mcuType": "stm32f4_discovery"}))
        await store.patch_status("Device", "d1", {"phase": "Connected",
                                                  "gateway": {"name": "gw-1"}})
    finally:
        await store.close()
    out = kube.kubectl("get", "devices", "-n", kube_namespace)
    header, row = out.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "PHASE", "BOARD", "GATEWAY"]
    assert row.split()[:4] == ["d1", "Connected", "stm32f4_discovery", "gw-1"]


async def test_a_user_without_rights_gets_a_clear_error(kube, kube_namespace, tmp_path):
    if kube.control_plane is None:
        pytest.skip("needs the local control plane (it knows a user without rights)")
    cp = kube.control_plane
    nobody = tmp_path / "nobody.kubeconfig"
    nobody.write_text(cp.platform_kubeconfig.read_text().replace(cp.platform_token, "bogus"))
    store = await KubernetesStore.connect(kube_namespace, nobody)
    try:
        with pytest.raises(StoreError, match="401") as err:
            await store.list("Device")
        assert err.value.status == 401
    finally:
        await store.close()


def test_the_local_control_plane_stops_cleanly_in_order(tmp_path):
    """The API server exits on its SIGTERM (not killed at the stop timeout because its etcd
    went first), and nothing is left running."""
    group = ProcessGroup()
    try:
        cp = LocalControlPlane(tmp_path, group, tmp_path).start()
        cp.stop()
        codes = {p.name: p.proc.returncode for p in group.processes if p.proc}
        # etcd re-raises the SIGTERM it handled (-15); SIGKILL (-9) would be the timeout
        assert codes["kube-apiserver"] == 0 and codes["etcd"] in (0, -15), codes
        assert not [p.name for p in group.processes if p.alive]
    finally:
        group.reap()

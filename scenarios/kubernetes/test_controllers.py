"""Controllers as separate replicas on Kubernetes (as k8s/manifests/controllers.yaml runs
them): a Lease elects one leader, only it reconciles, and a standby takes over when the
leader dies without a word. Runs on the session's Kubernetes API under any --cluster."""

from __future__ import annotations

import allure
import pytest

from harness.services import Cluster, Platform, start_controller
from scenarios.steps import app_device_phase, device_phase
from wasmbed import examples
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Kubernetes")]
LEASE_S = 3.0


@pytest.fixture
def cluster(tmp_path, pki, kube, kube_namespace) -> Cluster:
    """Kubernetes whatever --cluster says: leader election needs Leases."""
    return Cluster.kubernetes(tmp_path, pki, kube, kube_namespace)


@pytest.fixture
def platform(cluster, processes, evidence):
    """The API server alone: the controllers run as replicas in the test."""
    p = Platform.start(cluster, processes, evidence, controllers=False)
    yield p
    p.api.close()


def lease_holder(cluster: Cluster) -> str:
    return cluster.kubectl("get", "lease", "wasmbed-controllers", "--ignore-not-found",
                           "-o", "jsonpath={.spec.holderIdentity}").strip()


@allure.story("Two controller replicas: one leads; a standby takes over from a killed leader")
@pytest.mark.long(5)
def test_leader_election_and_failover(cluster, platform, processes, evidence, gateway,
                                      virtual_devices, wait_for):
    replicas = {name: start_controller(cluster, processes, evidence, name, LEASE_S)
                for name in ("ctl-a", "ctl-b")}

    def holder() -> object:
        return lease_holder(cluster) or Seen("no holder yet")

    with allure.step("exactly one replica holds the Lease"):
        leader = wait_for(holder, 20, "a replica to hold the wasmbed-controllers Lease")
        standby = next(n for n in replicas if n != leader)
        assert "leads" in replicas[leader].log_path.read_text()
        assert "leads" not in replicas[standby].log_path.read_text()
    with allure.step("the leader reconciles: a device's phase is derived"):
        fleet = virtual_devices(1)
        dev = fleet.names[0]
        wait_for(lambda: device_phase(platform.api, dev, "Connected"), 30, f"{dev} Connected")
    with allure.step("kill -9 the leader: the standby takes the Lease after it expires"):
        replicas[leader].kill()
        wait_for(lambda: lease_holder(cluster) == standby or Seen(lease_holder(
            cluster)), LEASE_S * 5, f"{standby} to take the Lease over")
    with allure.step("the new leader reconciles: an application is deployed and completes"):
        platform.api.create_application("hello", examples.wasm("hello"), devices=[dev])
        wait_for(lambda: app_device_phase(platform.api, "hello", dev, "Completed"), 30,
                 f"hello Completed on {dev}")


"""The three controllers over one store, run as a unit. On Kubernetes they run only while
this process holds the controllers' Lease, so replicas (or an API server with in-process
controllers next to a `wasmbed controller` pod) never reconcile twice."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from wasmbed.controllers.application import ApplicationController
from wasmbed.controllers.base import Controller
from wasmbed.controllers.device import DeviceController
from wasmbed.controllers.gateway import GatewayController
from wasmbed.credentials import GatewayKey
from wasmbed.gateway_client import GatewayClient
from wasmbed.serving import wait_for_shutdown_signal, write_ready
from wasmbed.store import Store
from wasmbed.store.opening import StoreConfig, open_store


class ControllerSet:
    def __init__(self, store: Store, gateways: GatewayClient, identity: str | None = None,
                 lease_s: float = 15.0) -> None:
        self.store = store
        self.controllers: list[Controller] = [
            DeviceController(store), GatewayController(store),
            ApplicationController(store, gateways)]
        self.elector = None
        kube = sys.modules.get("wasmbed.store.kubernetes")  # only imported for that backend
        if kube is not None and isinstance(store, kube.KubernetesStore):
            from wasmbed.k8s.leader import LeaderElector

            self.elector = LeaderElector(store.api_client, store.namespace,
                                         identity=identity, lease_s=lease_s,
                                         renew_deadline_s=lease_s * 2 / 3,
                                         retry_s=lease_s / 7.5)
        self._election: asyncio.Task[None] | None = None
        self.running = False

    @property
    def identity(self) -> str | None:
        return self.elector.identity if self.elector else None

    async def _start(self) -> None:
        for c in self.controllers:
            c.start()
        self.running = True

    async def _stop(self) -> None:
        self.running = False
        for c in self.controllers:
            await c.stop()

    def start(self) -> None:
        if self.elector is None:
            for c in self.controllers:
                c.start()
            self.running = True
        else:
            self._election = asyncio.create_task(self.elector.run(self._start, self._stop))

    async def stop(self) -> None:
        if self._election is not None:
            self._election.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._election
            assert self.elector is not None
            await self.elector.release()
        elif self.running:
            await self._stop()


async def run_controllers(config: StoreConfig, data_dir: Path, gateway_key: GatewayKey,
                          identity: str | None, lease_s: float,
                          ready_file: Path | None) -> None:
    """`wasmbed controller`: the controllers as their own process, until SIGTERM. They call
    each gateway with that gateway's credential, derived from the gateway key."""
    store = await open_store(config, data_dir)
    gateways = GatewayClient(gateway_key)
    controllers = ControllerSet(store, gateways, identity, lease_s)
    controllers.start()
    write_ready(ready_file, {"identity": controllers.identity, "store": config.backend,
                             "namespace": getattr(store, "namespace", None)})
    try:
        await wait_for_shutdown_signal()
    finally:
        await controllers.stop()
        await gateways.close()
        await store.close()

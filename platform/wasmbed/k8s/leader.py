"""Leader election on a coordination.k8s.io Lease, so two controller replicas never both
reconcile: the same protocol as client-go's leaderelection (holderIdentity, renewTime,
leaseDurationSeconds, leaseTransitions), with the API server's optimistic concurrency
deciding every race.

A leader that cannot renew within the lease duration stops its controllers *before* the
lease can expire for others (renew deadline < lease duration), so there is no overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

log = logging.getLogger("wasmbed.leader")


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LeaderElector:
    def __init__(self, api_client: client.ApiClient, namespace: str,
                 name: str = "wasmbed-controllers", identity: str | None = None,
                 lease_s: float = 15.0, renew_deadline_s: float = 10.0,
                 retry_s: float = 2.0) -> None:
        if not retry_s < renew_deadline_s < lease_s:
            raise ValueError("need retry < renew deadline < lease duration")
        self.api = client.CoordinationV1Api(api_client)
        self.namespace, self.name = namespace, name
        self.identity = identity or default_identity()
        self.lease_s, self.renew_deadline_s, self.retry_s = lease_s, renew_deadline_s, retry_s
        self.is_leader = False

    async def _try_acquire_or_renew(self) -> bool:
        now = _now()
        spec = {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_s),
                "renewTime": now.isoformat(timespec="microseconds").replace("+00:00", "Z")}
        try:
            lease = await self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = {"metadata": {"name": self.name},
                    "spec": {**spec, "acquireTime": spec["renewTime"], "leaseTransitions": 0}}
            try:
                await self.api.create_namespaced_lease(self.namespace, body)
                return True
            except ApiException as exc2:
                if exc2.status == 409:  # someone else created it first
                    return False
                raise
        held_by = lease.spec.holder_identity
        renewed = lease.spec.renew_time or lease.spec.acquire_time
        duration = lease.spec.lease_duration_seconds or int(self.lease_s)
        expired = renewed is None or renewed + dt.timedelta(seconds=duration) < now
        if held_by and held_by != self.identity and not expired:
            return False
        transitions = lease.spec.lease_transitions or 0
        body = {"metadata": {"name": self.name,
                             "resourceVersion": lease.metadata.resource_version},
                "spec": {**spec,
                         "acquireTime": (spec["renewTime"] if held_by != self.identity else
                                         lease.spec.acquire_time.isoformat().replace(
                                             "+00:00", "Z")),
                         "leaseTransitions": transitions + (held_by != self.identity)}}
        try:
            await self.api.replace_namespaced_lease(self.name, self.namespace, body)
            return True
        except ApiException as exc:
            if exc.status == 409:  # lost the race this round
                return False
            raise

    async def run(self, on_started: Callable[[], Awaitable[None]],
                  on_stopped: Callable[[], Awaitable[None]]) -> None:
        """Forever: campaign; while leading, renew and keep `on_started`'s work running;
        on losing the lease, call `on_stopped` and campaign again."""
        while True:
            await self._campaign()
            self.is_leader = True
            log.info("%s leads %s/%s", self.identity, self.namespace, self.name)
            await on_started()
            try:
                await self._keep()
            finally:
                self.is_leader = False
                await on_stopped()
            log.warning("%s lost the lease %s; controllers stopped", self.identity, self.name)

    async def _campaign(self) -> None:
        while True:
            with contextlib.suppress(ApiException, OSError, TimeoutError):
                if await self._try_acquire_or_renew():
                    return
            await asyncio.sleep(self.retry_s)

    async def _keep(self) -> None:
        """Renew every retry_s; return (stop leading) as soon as another holder shows up, or
        before the renew deadline passes without a successful renewal - measured from the
        start of the last good attempt, the time its renewTime claims."""
        loop = asyncio.get_running_loop()
        last_ok = loop.time()
        while True:
            await asyncio.sleep(self.retry_s)
            if loop.time() - last_ok + self.retry_s > self.renew_deadline_s:
                return
            attempt = loop.time()
            try:
                if await asyncio.wait_for(self._try_acquire_or_renew(), self.retry_s):
                    last_ok = attempt
                    continue
            except (TimeoutError, ApiException, OSError) as exc:
                log.warning("lease renewal failed: %s", exc)
                continue
            if await self._held_by_other():
                return

    async def _held_by_other(self) -> bool:
        try:
            lease = await self.api.read_namespaced_lease(self.name, self.namespace)
        except (ApiException, OSError):
            return False
        return lease.spec.holder_identity not in (None, self.identity)

    async def release(self) -> None:
        """Give the lease up at shutdown so a standby takes over at once, not after expiry."""
        with contextlib.suppress(ApiException, OSError):
            lease = await self.api.read_namespaced_lease(self.name, self.namespace)
            if lease.spec.holder_identity == self.identity:
                body = {"metadata": {"name": self.name,
                                     "resourceVersion": lease.metadata.resource_version},
                        "spec": {"holderIdentity": None, "leaseDurationSeconds": 1,
                                 "leaseTransitions": lease.spec.lease_transitions or 0}}
                await self.api.replace_namespaced_lease(self.name, self.namespace, body)

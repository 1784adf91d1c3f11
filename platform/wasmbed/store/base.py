"""The store contract every backend implements, shaped after the Kubernetes API.

Resources are plain dicts `{apiVersion, kind, metadata, spec, status}` so the Kubernetes
backend can pass them through unchanged. `resourceVersion` is an opaque string; callers
only compare it for equality and hand it back to `watch`.
"""

from __future__ import annotations

import abc
import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

API_GROUP = "wasmbed.github.io"
API_VERSION = f"{API_GROUP}/v1alpha1"
KINDS = ("Device", "Application", "Gateway")
UNKNOWN_PHASE = "Unknown"  # what the fleet summary counts an object without a phase as

Resource = dict[str, Any]


def phase_of(obj: Resource) -> str:
    """The object's `status.phase` as the fleet summary counts it (`count_by_phase`)."""
    return (obj.get("status") or {}).get("phase") or UNKNOWN_PHASE


class StoreError(Exception):
    """Base class of store errors; `status` is the matching HTTP status code."""

    status = 500


class NotFound(StoreError):
    status = 404


class AlreadyExists(StoreError):
    status = 409


class Conflict(StoreError):
    """Optimistic concurrency failure: the resourceVersion given is not the current one."""

    status = 409


class Invalid(StoreError):
    """The backend refused the object's content (e.g. a CRD's schema validation)."""

    status = 422


class Gone(StoreError):
    """The watch start is older than the retained history: re-list, then watch again."""

    status = 410


@dataclass(frozen=True)
class WatchEvent:
    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    object: Resource

    @property
    def resource_version(self) -> str:
        return str(self.object["metadata"]["resourceVersion"])


def new_resource(
    kind: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None
) -> Resource:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": copy.deepcopy(spec),
        "status": {},
    }


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch (None deletes a key); returns a new dict, and leaves target
    alone. Values the patch does not touch are shared with target, not copied: a device's
    status holds its certificate, and copying it at every heartbeat was a third of what a
    heartbeat cost the API (callers pass a status they just read)."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Store(abc.ABC):
    """get / list / watch-from-resourceVersion / create / update (optimistic concurrency) /
    update_status / patch_status / delete with finalizers."""

    @abc.abstractmethod
    async def create(self, obj: Resource) -> Resource: ...

    @abc.abstractmethod
    async def get(self, kind: str, name: str) -> Resource: ...

    @abc.abstractmethod
    async def list(
        self, kind: str, selector: str | None = None
    ) -> tuple[list[Resource], str]:
        """Items matching the label selector, and the resourceVersion to watch from."""

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Writes made inside may be committed together, for a burst of small ones (a
        gateway's batch of reports). Each write still succeeds or fails on its own, and
        watchers see them all at the end. Nothing that waits on the network belongs inside:
        on the embedded store, other writers join the open transaction meanwhile."""
        yield

    async def count_by_phase(self, kind: str) -> tuple[dict[str, int], str]:
        """How many objects of a kind are in each `status.phase` ("Unknown": none yet), and
        the resourceVersion: the fleet summary, which dashboards and benchmarks poll. A
        backend that can count where the objects live overrides this; reading and decoding
        every object at each poll was a sixth of the API's CPU in an enrollment storm."""
        items, rv = await self.list(kind)
        phases: dict[str, int] = {}
        for item in items:
            phase = phase_of(item)
            phases[phase] = phases.get(phase, 0) + 1
        return phases, rv

    @abc.abstractmethod
    async def update(self, obj: Resource) -> Resource:
        """Replace metadata (labels, finalizers) and spec; status is left alone. Raises
        Conflict unless obj's resourceVersion is current. A spec change bumps generation."""

    @abc.abstractmethod
    async def update_status(self, obj: Resource) -> Resource:
        """Replace status only, with the same optimistic-concurrency check."""

    @abc.abstractmethod
    async def patch_status(self, kind: str, name: str, patch: dict[str, Any]) -> Resource:
        """Merge-patch status without a version check (for fields with one writer)."""

    @abc.abstractmethod
    async def patch_spec(self, kind: str, name: str, patch: dict[str, Any]) -> Resource:
        """Merge-patch spec without a version check; a change bumps generation. For a
        field whose new value does not depend on the object's other fields (an
        application's `stopped`): a read-modify-`update` of an object whose status is
        written many times a second (a module streaming outputs) loses every race."""

    @abc.abstractmethod
    async def delete(self, kind: str, name: str) -> None:
        """Remove, or mark deleting (deletionTimestamp) while finalizers remain."""

    @abc.abstractmethod
    def watch(self, kind: str, since: str) -> AsyncIterator[WatchEvent]:
        """Events after resourceVersion `since`, in order, forever. Raises Gone."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

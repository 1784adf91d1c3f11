"""The Kubernetes store: our resources as custom resources (k8s/manifests/crds) in one namespace.

The contract maps almost one to one onto the Kubernetes API, which it was shaped after:
status goes through the `/status` subresource (so a spec writer can never clobber it),
optimistic concurrency is the API server's own 409, finalizers and `generation` are the API
server's. Watches run in bounded server-side windows (`timeout_seconds`) and resume from the
last resourceVersion seen, bookmarks included, so a quiet watch never goes stale; a 410 -
whether as an HTTP status or as an ERROR event inside the stream - becomes `Gone`, and the
informer re-lists (kubernetes_asyncio's own retry would silently resume from the same,
expired version once and then raise, so we do not rely on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import kube_config

from wasmbed.store.base import (
    API_GROUP,
    KINDS,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    Resource,
    Store,
    StoreError,
    WatchEvent,
)
from wasmbed.store.selectors import LabelSelector

VERSION = "v1alpha1"
PLURALS = {"Device": "devices", "Application": "applications", "Gateway": "gateways"}
MERGE_PATCH = "application/merge-patch+json"
RETRIES = 10
STRICT = "Strict"  # unknown fields are an error (422), never silently pruned
WATCH_WINDOW_S = 240  # server-side watch timeout; we resume from the last version after it


def _message(exc: ApiException) -> str:
    with contextlib.suppress(ValueError, TypeError):
        return str(json.loads(exc.body).get("message") or exc.reason)
    return str(exc.reason or exc)


def _raise(exc: ApiException, kind: str, name: str | None = None) -> NoReturn:
    """Map an API server answer onto the store's errors (same classes as the embedded one)."""
    what = f"{kind} {name!r}" if name else kind
    msg = _message(exc)
    if exc.status == 404:
        if name is None or "the server could not find the requested resource" in msg:
            raise NotFound(f"{what}: {msg} (are the CRDs installed? "
                           "kubectl apply -f \"$(wasmbed manifests)/crds\")") from exc
        raise NotFound(f"{what} not found") from exc
    if exc.status == 409:
        reason = ""
        with contextlib.suppress(ValueError, TypeError):
            reason = json.loads(exc.body).get("reason", "")
        if reason == "AlreadyExists":
            raise AlreadyExists(f"{what} already exists") from exc
        raise Conflict(f"{what} was modified ({msg}); get it again and retry") from exc
    if exc.status == 410:
        raise Gone(f"{msg}; list again") from exc
    if exc.status in (400, 422):  # 400: strict decoding (unknown field); 422: schema
        raise Invalid(f"{what} is invalid: {msg}") from exc
    hint = {401: "; the cluster refused the kubeconfig's credentials",
            403: "; the user lacks rights: apply \"$(wasmbed manifests)/rbac.yaml\" and bind its "
                 "ClusterRole to the user or service account"}.get(exc.status or 0, "")
    err = StoreError(f"{what}: Kubernetes API answered {exc.status}: {msg}{hint}")
    err.status = exc.status if exc.status and exc.status >= 400 else 502
    raise err from exc


def _normalize(obj: dict[str, Any]) -> Resource:
    """Give objects the shape the embedded store guarantees (labels, finalizers, spec and
    status always present) and drop the API server's bookkeeping nobody here reads."""
    meta = obj.setdefault("metadata", {})
    meta.pop("managedFields", None)
    meta["labels"] = meta.get("labels") or {}
    meta["finalizers"] = meta.get("finalizers") or []
    obj["spec"] = obj.get("spec") or {}
    obj["status"] = obj.get("status") or {}
    return obj


@contextlib.contextmanager
def _credential_copies() -> Iterator[str]:
    """A private directory for the files kubernetes_asyncio writes a kubeconfig's inline
    credentials to (`client-key-data` and the like: ssl reads them from files), removed
    once the client's TLS context has read them. The library deletes its copies only at a
    normal interpreter exit, so a controller killed -9 left the user's client key in /tmp."""
    directory = tempfile.mkdtemp(prefix="wasmbed-kubeconfig-")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        # the library reuses a copy of the same content by name: forget the removed ones
        reused: dict[str, str] = getattr(kube_config, "_temp_files", {})
        for content, name in list(reused.items()):
            if name.startswith(directory + os.sep):
                del reused[content]


class KubernetesStore(Store):
    """One namespace of a cluster. Build with `await KubernetesStore.connect(...)`."""

    def __init__(self, api_client: client.ApiClient, namespace: str) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.custom = client.CustomObjectsApi(api_client)

    @classmethod
    async def connect(cls, namespace: str | None = None, kubeconfig: Path | str | None = None,
                      context: str | None = None) -> KubernetesStore:
        """In a pod (no kubeconfig given, service account mounted) use the in-cluster
        config; otherwise the kubeconfig file (`$KUBECONFIG` or ~/.kube/config)."""
        cfg = client.Configuration()
        if kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ:
            config.load_incluster_config(client_configuration=cfg)
            ns_file = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            default_ns = ns_file.read_text().strip() if ns_file.exists() else "wasmbed"
            api_client = client.ApiClient(cfg)
        else:
            path = str(kubeconfig) if kubeconfig else None
            if path and not Path(path).is_file():
                raise StoreError(f"kubeconfig {path} does not exist; pass --kubeconfig with "
                                 "the file kubectl uses (or set KUBECONFIG)")
            with _credential_copies() as copies:
                try:
                    await config.load_kube_config(config_file=path, context=context,
                                                  client_configuration=cfg,
                                                  temp_file_path=copies)
                except config.ConfigException as exc:
                    raise StoreError(
                        f"cannot load kubeconfig {path or '(default)'}: {exc}; pass "
                        "--kubeconfig or set KUBECONFIG") from exc
                api_client = client.ApiClient(cfg)  # its TLS context reads the copies now
            _, active = config.list_kube_config_contexts(config_file=path)
            default_ns = (active or {}).get("context", {}).get("namespace") or "wasmbed"
        return cls(api_client, namespace or default_ns)

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _plural(kind: str) -> str:
        if kind not in KINDS:
            raise NotFound(f"unknown kind {kind!r}")
        return PLURALS[kind]

    def _where(self, kind: str) -> tuple[str, str, str, str]:
        return API_GROUP, VERSION, self.namespace, self._plural(kind)

    @staticmethod
    def _body(obj: Resource) -> Resource:
        body = copy.deepcopy(obj)
        body.setdefault("apiVersion", f"{API_GROUP}/{VERSION}")
        body["metadata"].pop("namespace", None)
        body["metadata"].pop("managedFields", None)
        return body

    async def _call(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Retry what the API server asks us to retry later (429 while a CRD's watch cache
        initializes, or throttling; 503), honouring Retry-After, as client-go does."""
        for attempt in range(RETRIES):
            try:
                return await fn(*args, **kwargs)
            except ApiException as exc:
                if exc.status not in (429, 503) or attempt == RETRIES - 1:
                    raise
                after = (exc.headers or {}).get("Retry-After", "1")
                await asyncio.sleep(min(5.0, float(after) if after.isdigit() else 1.0))
        raise AssertionError("unreachable")

    @staticmethod
    def _require_version(obj: Resource) -> None:
        if not obj.get("metadata", {}).get("resourceVersion"):
            raise Conflict("metadata.resourceVersion is required for an update")

    # --- contract -----------------------------------------------------------------------

    async def create(self, obj: Resource) -> Resource:
        kind = obj.get("kind", "")
        where = self._where(kind)
        name = obj.get("metadata", {}).get("name")
        if not name:
            raise ValueError("metadata.name is required")
        body = self._body(obj)
        for key in ("resourceVersion", "uid", "generation", "creationTimestamp",
                    "deletionTimestamp"):
            body["metadata"].pop(key, None)
        try:
            created = await self._call(self.custom.create_namespaced_custom_object, *where,
                                       body, field_validation=STRICT)
        except ApiException as exc:
            _raise(exc, kind, name)
        if obj.get("status"):  # the API server drops status on create; write it after, as a
            # merge: a controller may have written status meanwhile (a versioned replace
            # failed with a Conflict then)
            return await self.patch_status(kind, name, obj["status"])
        return _normalize(created)

    async def get(self, kind: str, name: str) -> Resource:
        where = self._where(kind)
        try:
            return _normalize(await self._call(self.custom.get_namespaced_custom_object,
                                               *where, name))
        except ApiException as exc:
            _raise(exc, kind, name)

    async def list(self, kind: str, selector: str | None = None) -> tuple[list[Resource], str]:
        where = self._where(kind)
        sel = str(LabelSelector.parse(selector)) if selector else None  # same syntax errors
        try:
            out = await self._call(self.custom.list_namespaced_custom_object, *where,
                                   **({"label_selector": sel} if sel else {}))
        except ApiException as exc:
            _raise(exc, kind)
        items = sorted((_normalize(i) for i in out.get("items", [])),
                       key=lambda i: i["metadata"]["name"])
        return items, str(out["metadata"]["resourceVersion"])

    async def update(self, obj: Resource) -> Resource:
        kind, name = obj["kind"], obj["metadata"]["name"]
        where = self._where(kind)
        self._require_version(obj)
        try:
            return _normalize(await self._call(self.custom.replace_namespaced_custom_object,
                                               *where, name, self._body(obj),
                                               field_validation=STRICT))
        except ApiException as exc:
            _raise(exc, kind, name)

    async def update_status(self, obj: Resource) -> Resource:
        kind, name = obj["kind"], obj["metadata"]["name"]
        where = self._where(kind)
        self._require_version(obj)
        body = self._body(obj)
        body["status"] = body.get("status") or {}
        try:
            return _normalize(await self._call(
                self.custom.replace_namespaced_custom_object_status, *where, name, body,
                field_validation=STRICT))
        except ApiException as exc:
            _raise(exc, kind, name)

    async def patch_status(self, kind: str, name: str, patch: dict[str, Any]) -> Resource:
        return await self._merge_patch(self.custom.patch_namespaced_custom_object_status,
                                       kind, name, {"status": patch})

    async def patch_spec(self, kind: str, name: str, patch: dict[str, Any]) -> Resource:
        return await self._merge_patch(self.custom.patch_namespaced_custom_object,
                                       kind, name, {"spec": patch})

    async def _merge_patch(self, fn: Callable[..., Awaitable[Any]], kind: str, name: str,
                           body: dict[str, Any]) -> Resource:
        where = self._where(kind)
        try:
            return _normalize(await self._call(fn, *where, name, body,
                                               _content_type=MERGE_PATCH))
        except ApiException as exc:
            _raise(exc, kind, name)

    async def delete(self, kind: str, name: str) -> None:
        where = self._where(kind)
        try:
            await self._call(self.custom.delete_namespaced_custom_object, *where, name)
        except ApiException as exc:
            _raise(exc, kind, name)

    async def watch(self, kind: str, since: str) -> AsyncIterator[WatchEvent]:  # type: ignore[override]
        where = self._where(kind)
        last = since
        while True:  # one server-side window per pass, resumed from the last version seen
            w = watch.Watch()
            try:
                stream = w.stream(self.custom.list_namespaced_custom_object, *where,
                                  resource_version=last, allow_watch_bookmarks=True,
                                  timeout_seconds=WATCH_WINDOW_S,
                                  _request_timeout=WATCH_WINDOW_S + 30)
                async for event in stream:
                    obj = event["raw_object"]
                    last = str(obj["metadata"]["resourceVersion"])
                    if event["type"] == "BOOKMARK":
                        yield WatchEvent("BOOKMARK", obj)
                    else:
                        yield WatchEvent(event["type"], _normalize(obj))
            except ApiException as exc:
                _raise(exc, kind)
            finally:
                await w.close()

    async def close(self) -> None:
        await self.api_client.close()

"""A small synchronous client of the REST API (for the CLI, the harness and scripts)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx

from wasmbed import http_keepalive
from wasmbed.http_trust import default_trust


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, hint: str = "") -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (hint: {hint})" if hint else ""))
        self.status, self.code, self.message, self.hint = status, code, message, hint


class ApiClient:
    def __init__(self, url: str, token: str, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.Client(base_url=self.url, timeout=timeout, verify=default_trust(),
                                 headers={"Authorization": f"Bearer {token}"},
                                 limits=http_keepalive.limits())
        # a context each request runs in (method, path): the test harness records steps
        self.around: Callable[[str, str], AbstractContextManager[Any]] | None = None

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.around is None:
            return self._request(method, path, **kwargs)
        with self.around(method, path):
            return self._request(method, path, **kwargs)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "Unreachable", f"{self.url}: {exc}",
                           "is `wasmbed up` (or `wasmbed api`) running?") from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"message": resp.text}
            raise ApiError(resp.status_code, str(body.get("code", "Error")),
                           str(body.get("message", body)), str(body.get("hint", "")))
        return resp.json()

    # --- devices ------------------------------------------------------------------------

    def devices(self, selector: str | None = None) -> list[dict[str, Any]]:
        params = {"labelSelector": selector} if selector else None
        return self.request("GET", "/api/v1/devices", params=params)["items"]

    def device(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/devices/{name}")

    def create_device(self, name: str, public_key: str | None = None, *, board: str = "virtual",
                      labels: dict[str, str] | None = None, device_type: str = "virtual") \
            -> dict[str, Any]:
        body = {"name": name, "publicKey": public_key, "board": board,
                "deviceType": device_type, "labels": labels or {}}
        return self.request("POST", "/api/v1/devices", json=body)

    def delete_device(self, name: str) -> dict[str, Any]:
        return self.request("DELETE", f"/api/v1/devices/{name}")

    def label_device(self, name: str, set_: dict[str, str] | None = None,
                     remove: list[str] | None = None) -> dict[str, Any]:
        return self.request("PATCH", f"/api/v1/devices/{name}/labels",
                            json={"set": set_ or {}, "remove": remove or []})

    def revoke_device(self, name: str) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/devices/{name}/revoke")

    # --- applications -------------------------------------------------------------------

    def applications(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v1/applications")["items"]

    def application(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/applications/{name}")

    def create_application(self, name: str, wasm: bytes, *, devices: list[str] | None = None,
                           selector: str | None = None, all_devices: bool = False,
                           sha256: str | None = None, entry: str = "run",
                           memory_limit: int | None = None, fuel_limit: int | None = None) \
            -> dict[str, Any]:
        config: dict[str, int] = {}
        if memory_limit is not None:
            config["memoryLimit"] = memory_limit
        if fuel_limit is not None:
            config["fuelLimit"] = fuel_limit
        body = {"name": name, "wasmBytes": base64.b64encode(wasm).decode(), "sha256": sha256,
                "entry": entry, "config": config,
                "targetDevices": {"deviceNames": devices or [], "selector": selector,
                                  "allDevices": all_devices}}
        return self.request("POST", "/api/v1/applications", json=body)

    def stop_application(self, name: str) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/applications/{name}/stop")

    def delete_application(self, name: str) -> dict[str, Any]:
        return self.request("DELETE", f"/api/v1/applications/{name}")

    # --- gateways, admin ----------------------------------------------------------------

    def gateways(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v1/gateways")["items"]

    def gateway(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/gateways/{name}")

    def gateway_token(self, name: str) -> str:
        """The credential gateway `name` presents to the API."""
        return str(self.request("POST", f"/api/v1/gateways/{name}/credentials")["token"])

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/api/v1/status")

    def set_pairing(self, enabled: bool, timeout_s: float = 300) -> dict[str, Any]:
        return self.request("PUT", "/api/v1/admin/pairing-mode",
                            json={"enabled": enabled, "timeoutSeconds": timeout_s})

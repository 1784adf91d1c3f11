"""Prometheus metrics of one gateway (own registry: several gateways may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions = Gauge("wasmbed_gateway_sessions", "Operational device sessions", registry=r)
        self.handshakes = Counter("wasmbed_gateway_handshakes", "TLS handshakes by result",
                                  ["result"], registry=r)
        self.enrollments = Counter("wasmbed_gateway_enrollments", "Enrollments by result",
                                   ["result"], registry=r)
        self.heartbeats = Counter("wasmbed_gateway_heartbeats", "Heartbeats received", registry=r)
        self.chunks = Counter("wasmbed_gateway_deploy_chunks", "Deploy chunks acked", registry=r)
        self.deployments = Counter("wasmbed_gateway_deployments", "Deployments by result",
                                   ["result"], registry=r)
        self.protocol_errors = Counter("wasmbed_gateway_protocol_errors",
                                       "Sessions closed on a protocol error", registry=r)

"""Which store a process runs on, from its command line: one place that knows both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wasmbed.store.base import Store
from wasmbed.store.embedded import EmbeddedStore

Backend = Literal["embedded", "kubernetes"]


@dataclass
class StoreConfig:
    backend: Backend = "embedded"
    kubeconfig: Path | None = None  # None: $KUBECONFIG, ~/.kube/config, or in-cluster
    namespace: str | None = None  # None: the kubeconfig context's, else "wasmbed"
    context: str | None = None


async def open_store(config: StoreConfig, data_dir: Path) -> Store:
    if config.backend == "embedded":
        return EmbeddedStore(data_dir / "store.sqlite")
    from wasmbed.store.kubernetes import KubernetesStore  # pulls in the Kubernetes client

    store = await KubernetesStore.connect(config.namespace, config.kubeconfig, config.context)
    try:
        await store.list("Device")  # fail now, with the hint, if the CRDs or rights are missing
    except BaseException:
        await store.close()
        raise
    return store

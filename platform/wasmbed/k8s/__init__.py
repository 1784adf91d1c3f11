"""Kubernetes around the platform: a local control plane for tests (etcd + kube-apiserver),
kubectl for manifests, and Lease-based leader election for controller replicas. The store
backend itself is `wasmbed.store.kubernetes`."""

"""The local control plane's kubeconfig, as the Kubernetes client reads it."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys

import yaml
from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config import load_kube_config

from wasmbed.k8s.controlplane import kubeconfig_yaml
from wasmbed.pki import CertificateAuthority


async def test_the_client_reads_the_ca_where_it_is_not_from_a_temporary_copy(tmp_path):
    """kubernetes_asyncio copies `certificate-authority-data` to a temporary file that it
    deletes only at a normal interpreter exit: each controller killed in a failover test
    left one in /tmp (4 a run, 72 found). A path is used where it is."""
    ca = CertificateAuthority.create(tmp_path / "ca", "test cluster CA")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(kubeconfig_yaml("https://127.0.0.1:6443", ca.directory / "ca.pem",
                                          "someone", "token"))
    conf = Configuration()
    await load_kube_config(config_file=str(kubeconfig), client_configuration=conf)
    assert conf.ssl_ca_cert == str(ca.directory / "ca.pem")
    assert conf.host == "https://127.0.0.1:6443"


def test_a_killed_process_leaves_no_copy_of_a_users_client_key(tmp_path):
    """A user's kubeconfig usually carries its client key inline (`client-key-data`), which
    kubernetes_asyncio writes to a temporary file (ssl reads keys from files) and deletes
    only at a normal interpreter exit: a controller killed -9 left the key in /tmp. The
    store reads the copies into its TLS context and removes them at once."""
    ca = CertificateAuthority.create(tmp_path / "ca", "test cluster CA")
    user = ca.issue_identity("someone")
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443",
                                                "certificate-authority-data": b64(ca.cert_pem)}}],
        "users": [{"name": "u", "user": {"client-certificate-data": b64(user.cert_pem),
                                          "client-key-data": b64(user.key_pem)}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u",
                                               "namespace": "team"}}]}))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    connect_then_die = (
        "import asyncio, os, signal\n"
        "from wasmbed.store.kubernetes import KubernetesStore\n"
        "for _ in range(2):  # a second client in the same process finds its files too\n"
        f"    store = asyncio.run(KubernetesStore.connect(kubeconfig={str(kubeconfig)!r}))\n"
        "    print(store.namespace, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", connect_then_die], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == -signal.SIGKILL and done.stdout.split() == ["team"] * 2, done.stderr
    assert not list(scratch.rglob("*")), "left behind: " + ", ".join(
        p.name for p in scratch.rglob("*"))

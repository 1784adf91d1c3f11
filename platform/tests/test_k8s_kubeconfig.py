"""The local control plane's kubeconfig, as the Kubernetes client reads it."""

from __future__ import annotations

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

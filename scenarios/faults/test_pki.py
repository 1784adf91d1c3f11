"""PKI faults: expired and revoked devices are cut off and shown as such."""

from __future__ import annotations

import allure
import pytest

from scenarios.steps import device_phase, fleet_state

pytestmark = [allure.feature("Faults"), pytest.mark.fault("pki")]


@allure.story("An expired certificate is cut within a heartbeat and refused after")
@pytest.mark.cert_lifetime(8)
@pytest.mark.long(8)
def test_expired_certificate_cut_off(api, connected_device, wait_for):
    name, fleet = connected_device(reconnect_max_s=1.0)
    dev = wait_for(lambda: device_phase(api, name, "Expired"), 20, f"{name} Expired")
    assert dev["status"]["certificate"]["notAfter"]
    st = wait_for(lambda: fleet_state(fleet, name, "refused"), 20,
                  f"{name} refused at TLS with its expired certificate")
    assert "expired" in st["last_error"].lower()


@allure.story("A revoked device's live session is cut at the next CRL refresh")
def test_revoked_session_cut(api, connected_device, faults, wait_for):
    name, fleet = connected_device(reconnect_max_s=1.0)
    faults.revoke(api, name)
    wait_for(lambda: fleet_state(fleet, name, "refused"), 20, f"{name} cut and refused")
    assert api.device(name)["status"]["phase"] == "Revoked"
    assert api.device(name)["status"]["connection"]["connected"] is False


@allure.story("Rotating the gateway certificate: new sessions get the new one")
def test_gateway_cert_rotation(api, platform, gateway, proxy, connected_device, faults,
                               wait_for):
    import asyncio
    import ssl

    from cryptography import x509

    name, fleet = connected_device(gateway=proxy, reconnect_max_s=1.0)
    serial = faults.rotate_gateway_cert(gateway, platform.cluster.pki)

    def presented_serial() -> int:
        async def probe() -> int:
            ident = platform.cluster.pki.platform.issue_identity("probe")
            files = ident.save(platform.cluster.data_dir / "probe", "id")
            from wasmbed.pki.layout import client_context
            ctx = client_context(files, platform.cluster.pki.platform.cert_pem)
            _, writer = await asyncio.open_connection(*gateway.tls_address, ssl=ctx,
                                                      server_hostname="localhost")
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            writer.close()
            return x509.load_der_x509_certificate(der).serial_number
        return asyncio.run(probe())

    wait_for(lambda: presented_serial() == serial, 20, "the gateway presenting its new cert",
             ignore=(ssl.SSLError, OSError))
    faults.network(proxy).cut()
    wait_for(lambda: fleet_state(fleet, name, "connected"), 20, f"{name} reconnected")
    wait_for(lambda: device_phase(api, name, "Connected"), 20, f"{name} Connected")

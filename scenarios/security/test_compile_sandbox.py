"""The compile service against a running API server: a request cannot read the host.

The attack that got through before: `.incbin` of the platform CA's private key in inline
assembly, the key recovered from the returned wasm, a certificate for another device signed
with it, and the gateway accepting that certificate. Each step of it must fail here."""

from __future__ import annotations

import allure
import pytest

from wasmbed import sandbox
from wasmbed.rest_client import ApiError

pytestmark = [allure.feature("Security"),
              pytest.mark.skipif(sandbox.missing() is not None,
                                 reason=f"no sandbox here: {sandbox.missing()}")]

INCBIN = """#include "wasmbed_app.h"
__asm__(".section .data.loot,\\"\\",@\\n.globl loot\\nloot:\\n.incbin \\"PATH\\"\\n"
        ".size loot, 227\\n");
extern const char loot[];
WB_EXPORT("run") int run(void) { wb_log(loot, 227); return 0; }
"""


@allure.story("A compile request cannot embed the CA's private key")
def test_incbin_of_the_ca_key_fails(api, platform):
    key = platform.cluster.data_dir / "pki" / "platform" / "ca.key"
    secret = key.read_text().splitlines()[1][:24]
    with pytest.raises(ApiError) as info:
        api.request("POST", "/api/v1/compile",
                    json={"code": INCBIN.replace("PATH", str(key))})
    assert info.value.code == "CompileError"
    assert "could not find incbin file" in info.value.message.lower()
    assert secret not in info.value.message


@allure.story("A compile request cannot print host files in its diagnostics")
@pytest.mark.parametrize("target", ["token", "gateway-key", "store.sqlite"])
def test_include_of_api_files_fails(api, platform, target):
    path = platform.cluster.data_dir / target
    with pytest.raises(ApiError) as info:
        api.request("POST", "/api/v1/compile", json={"code": f'#include "{path}"\nint x;'})
    assert "file not found" in info.value.message
    if target != "store.sqlite":
        assert path.read_text().strip() not in info.value.message


@allure.story("An application built from source goes through the same sandbox")
def test_application_from_source_is_sandboxed(api, platform):
    key = platform.cluster.data_dir / "pki" / "platform" / "ca.key"
    with pytest.raises(ApiError) as info:
        api.request("POST", "/api/v1/applications", json={
            "name": "loot", "source": {"language": "c",
                                       "code": INCBIN.replace("PATH", str(key))}})
    assert info.value.code == "CompileError"
    assert api.applications() == []

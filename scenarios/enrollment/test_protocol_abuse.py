"""A misbehaving peer gets a typed Error and a closed session; the gateway keeps serving."""

from __future__ import annotations

import asyncio

import allure
import pytest

from scenarios.intruder import open_session, reply_then_close
from scenarios.steps import device_phase
from wasmbed.protocol import Error, ErrorCode, frame

pytestmark = [allure.feature("Protocol robustness")]


@pytest.mark.parametrize("payload", [b"\xff\xfe\xfd", b"\xa4\x00\x09\x01\x05\x02\x01\x03\xa0",
                                     b"\xa4\x00\x01\x01\x63\x02\x01\x03\xa0"],
                         ids=["not-cbor", "bad-version", "unknown-type"])
async def test_malformed_frame_gets_an_error_and_a_close(platform, gateway, tmp_path, payload):
    link = await open_session(platform, gateway, tmp_path)
    link.writer.write(frame(payload))
    error = await reply_then_close(link)
    assert error is not None and error.code in (ErrorCode.BAD_FRAME,
                                                ErrorCode.UNSUPPORTED_VERSION)


async def test_oversized_frame_is_refused_without_reading_it(platform, gateway, tmp_path):
    link = await open_session(platform, gateway, tmp_path)
    link.writer.write((10_000_000).to_bytes(4, "big"))
    error = await reply_then_close(link)
    assert error is not None and "max" in error.message


async def test_first_frame_must_be_hello(platform, gateway, tmp_path):
    link = await open_session(platform, gateway, tmp_path, hello=False)
    await link.send(Error(ErrorCode.INTERNAL, "hi"))
    error = await reply_then_close(link)
    assert error is not None and "must be Hello" in error.message


async def test_gateway_still_serves_devices_after_abuse(platform, gateway, tmp_path,
                                                        virtual_devices, api, wait_for):
    link = await open_session(platform, gateway, tmp_path)
    link.writer.write(frame(b"\x00garbage"))
    await reply_then_close(link)
    fleet = virtual_devices(1)
    await asyncio.to_thread(wait_for, lambda: device_phase(api, fleet.names[0], "Connected"),
                            20, "a good device Connected after the abuse")

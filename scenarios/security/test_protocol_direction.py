"""A device that sends a gateway-to-device message gets an Error frame and a closed
session, as docs/PROTOCOL.md says; the gateway keeps serving everyone else."""

from __future__ import annotations

import allure
import pytest

from scenarios.intruder import open_session, reply_then_close
from wasmbed.protocol import DeployBegin, ErrorCode, HeartbeatAck, Hello, HelloAck, StopApp

pytestmark = [allure.feature("Security")]

WRONG_WAY = {
    "HelloAck": HelloAck(1, "gw", 0, 1),
    "DeployBegin": DeployBegin("m@1", 10, b"\0" * 32, "run", 0, 0, 1024),
    "HeartbeatAck": HeartbeatAck(1, 0),
    "StopApp": StopApp("m@1"),
    "second Hello": Hello([1], "fw", "virtual"),
}


@allure.story("Gateway-to-device messages from a device: Error, then close")
@pytest.mark.parametrize("name", list(WRONG_WAY))
async def test_wrong_direction_message_closes_the_session(platform, gateway, tmp_path, name):
    link = await open_session(platform, gateway, tmp_path)
    await link.send(WRONG_WAY[name])
    error = await reply_then_close(link)
    assert error is not None and error.code == ErrorCode.BAD_FRAME
    assert "may send" in error.message

"""Wasm modules deployed to the real firmware (wasm3 on the emulated Cortex-M3/M4)."""

from __future__ import annotations

import allure
import pytest
import wasmtime

from harness.evidence import read_json_lines
from scenarios.steps import app_device_phase, deliver_again, device_phase, ran_times
from wasmbed import examples
from wasmbed.emulation.catalog import board_spec
from wasmbed.protocol import DEFAULT_MAX_FRAME
from wasmbed.protocol.framing import DEVICE_MAX_FRAME, max_chunk_data
from wasmbed.waiting import Seen

pytestmark = [allure.feature("Firmware"), pytest.mark.board]


@allure.story("A module without linear memory runs on every board, the 32 KiB RA4M1 too")
def test_module_without_memory_runs(api, connected_board, wait_for):
    name, b = connected_board
    api.create_application("fib", examples.wasm("fib"), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "fib", name, "Completed"), 60,
                     "fib Completed on the firmware")
    values = [o.get("value") for o in entry["outputs"]]
    assert values == [5, 55, 610, 6765, 6765]  # reported fib(5..20), then the result
    b.console.wait_for_line(r"wasmbed: app fib@1 completed", 60)


@allure.story("A module delivered again after it ended runs again on the firmware")
def test_module_delivered_again_after_it_ended_runs_again(api, connected_board, gateway,
                                                          wait_for):
    name, b = connected_board
    api.create_application("fib", examples.wasm("fib"), devices=[name])
    wait_for(lambda: app_device_phase(api, "fib", name, "Completed"), 60, "fib Completed")
    deliver_again(api, gateway, name, "fib")
    wait_for(lambda: ran_times(api, "fib", name, 2), 60,
             "fib run a second time on the firmware and reported COMPLETED again")


@pytest.mark.also_board("emcraft_sf2_som")  # its own UART driver and memory map
@pytest.mark.wasm_memory
@allure.story("hello runs on the device and its output reaches the API")
def test_hello_output_reported(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("hello", firmware_apps["hello"], devices=[name])
    b.console.wait_for_line(r"wasmbed: app hello@1 running", 60)
    b.console.wait_for_line(r"wasmbed: app hello@1 completed", 60)
    entry = wait_for(lambda: app_device_phase(api, "hello", name, "Completed"), 30,
                     "hello Completed on the firmware")
    kinds = [(o["kind"], o.get("text", o.get("value"))) for o in entry["outputs"]]
    assert kinds[0] == ("log", "hello from wasm")
    assert kinds[1][0] == "value" and kinds[1][1] > 0  # uptime_ms from the device clock
    assert kinds[-1] == ("result", 42)


@pytest.mark.wasm_memory
@allure.story("A Rust module (Debian's rustc, no_std) runs on the firmware as hello.c does")
def test_rust_hello_runs_on_the_firmware(api, connected_board, firmware_apps, wait_for):
    from wasmbed.compile import rust_missing

    if "hello_rust" not in firmware_apps:
        pytest.skip(f"Rust apps need: {rust_missing()}")
    name, b = connected_board
    api.create_application("hello-rust", firmware_apps["hello_rust"], devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "hello-rust", name, "Completed"), 60,
                     "hello-rust Completed on the firmware")
    kinds = [(o["kind"], o.get("text", o.get("value"))) for o in entry["outputs"]]
    assert kinds[0] == ("log", "hello from rust") and kinds[-1] == ("result", 42)
    b.console.wait_for_line(r"wasmbed: app hello-rust@1 completed", 60)


# Reads the clock twelve times, a busy stretch apart, and reports each reading.
CLOCK_READER = """(module
  (import "env" "report" (func $report (param i64)))
  (import "env" "uptime_ms" (func $uptime_ms (result i64)))
  (func (export "run") (result i32) (local $i i32) (local $j i32)
    (loop $reading
      (call $report (call $uptime_ms))
      (local.set $j (i32.const 0))
      (loop $busy
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $busy (i32.lt_u (local.get $j) (i32.const 20000))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $reading (i32.lt_u (local.get $i) (i32.const 12))))
    (i32.const 0)))"""


@allure.story("The firmware's clock counts milliseconds, though SysTick ticks every 10 ms")
def test_uptime_has_millisecond_resolution(api, connected_board, wait_for):
    name, _ = connected_board
    api.create_application("clock", wasmtime.wat2wasm(CLOCK_READER), devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "clock", name, "Completed"), 60,
                     "the clock reader Completed on the firmware")
    readings = [o["value"] for o in entry["outputs"] if o["kind"] == "value"]
    assert len(readings) == 12, entry["outputs"]
    assert readings == sorted(readings), f"the clock went backwards: {readings}"
    # a 10 ms tick counter alone would read multiples of 10 only
    assert any(r % 10 for r in readings), f"only whole ticks: {readings}"


@pytest.mark.wasm_memory
@allure.story("counter streams values, then stops on request")
def test_counter_streams_then_stops(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("counter", firmware_apps["counter"], devices=[name])

    def values() -> object:
        entry = api.application("counter")["status"]["deviceStatuses"].get(name, {})
        vals = [o["value"] for o in entry.get("outputs", []) if o["kind"] == "value"]
        return vals if len(vals) >= 5 else Seen(entry.get("phase"))

    vals = wait_for(values, 60, "five values from the counter on the firmware")
    assert vals[:5] == [1, 2, 3, 4, 5]
    api.stop_application("counter")
    wait_for(lambda: app_device_phase(api, "counter", name, "Stopped"), 30, "counter Stopped")
    b.console.wait_for_line(r"wasmbed: app counter@1 stopped", 60)
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")


@pytest.mark.wasm_memory
@allure.story("A trapping module fails with the trap reason; the device stays Connected")
def test_trap_reported_device_stays(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("trap", firmware_apps["trap"], devices=[name])
    entry = wait_for(lambda: app_device_phase(api, "trap", name, "Failed"), 60, "trap Failed")
    assert "divide by zero" in entry["error"]
    assert entry["outputs"][0]["text"] == "about to divide by zero"
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")


@pytest.mark.wasm_memory
@allure.story("A module that never returns is stopped by its budget")
def test_spin_stopped_by_budget(api, connected_board, firmware_apps, wait_for):
    name, b = connected_board
    api.create_application("spin", firmware_apps["spin"], devices=[name], fuel_limit=200_000)
    entry = wait_for(lambda: app_device_phase(api, "spin", name, "Failed"), 60, "spin Failed")
    assert entry["error"] == "fuel budget exhausted"
    wait_for(lambda: device_phase(api, name, "Connected"), 10, f"{name} still Connected")


@pytest.mark.wasm_memory
@allure.story("Outputs the firmware wrote into a gateway that was then killed are re-sent")
@pytest.mark.fault("process")
def test_outputs_survive_a_gateway_kill(api, connected_board, firmware_apps, firmware_bridge,
                                        gateway, faults, evidence, wait_for):
    name, b = connected_board
    api.create_application("counter", firmware_apps["counter"], devices=[name])
    trace = evidence.path(f"{gateway.name}-trace", ".jsonl")

    def received() -> list[int]:
        return [r["fields"]["seq"] for r in read_json_lines(trace)
                if r["type"] == "AppOutput" and r["dir"] == "device->gateway"]

    wait_for(lambda: len(received()) >= 3 or Seen(received()), 60, "counter outputs arriving")
    net = faults.network(firmware_bridge)
    with allure.step("hang the gateway while the firmware keeps writing outputs to it"):
        gateway.process.pause()
        before_up, last_seen = net.stats()["bytesUp"], received()[-1]
        wait_for(lambda: net.stats()["bytesUp"] >= before_up + 300 or Seen(
            net.stats()), 20, "outputs written towards the hung gateway")
    with allure.step("kill -9 it and start it again"):
        gateway.kill()
        gateway.restart()
    wait_for(lambda: (r := received()) and r[-1] > last_seen + 3 or Seen(r[-5:]), 90,
             "the firmware re-sends what was never acknowledged")
    seqs = sorted(set(received()))
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), f"a gap in {seqs}"
    with allure.step("the counter, stopped by the lost link, is deployed and runs again"):
        b.console.wait_for_line(r"wasmbed: app counter@1 running", 60)  # the first start
        b.console.wait_for_line(r"wasmbed: app counter@1 running", 60)  # and again
        wait_for(lambda: app_device_phase(api, "counter", name, "Running"), 30,
                 "counter Running again")


class TestChunksFitTheAnnouncedFrame:
    """The gateway is set for the largest chunks a 64 KiB frame carries; the firmware
    announces its own (smaller) frame in Hello, and the gateway's chunks must fit it."""

    @pytest.fixture
    def gateway(self, start_gateway):
        return start_gateway(chunk_size=max_chunk_data(DEFAULT_MAX_FRAME, "x" * 64, 2))

    @allure.story("A module larger than the firmware's frame deploys through a gateway set "
                  "for 64 KiB chunks")
    def test_largest_module_deploys(self, api, connected_board, board_target, wait_for):
        name, b = connected_board
        # two firmware frames' worth (a board that holds less: all it holds)
        size = min(board_spec(board_target[0]).max_module_size, 2 * DEVICE_MAX_FRAME)
        wasm = examples.grown(examples.wasm("fib"), size)
        api.create_application("fib", wasm, devices=[name])
        wait_for(lambda: app_device_phase(api, "fib", name, "Completed"), 90,
                 f"a {len(wasm)}-byte fib Completed on the firmware")
        b.console.wait_for_line(r"wasmbed: app fib@1 completed", 60)


@pytest.mark.board("emcraft_sf2_som")
@allure.story("A module twice the size of a wasm page deploys where the heap has room for it")
def test_a_module_past_one_page_deploys_on_a_board_with_the_memory(api, connected_board,
                                                                   board_target, wait_for):
    """The SmartFusion2 board keeps its heap in DDR: a module of its full max_module_size
    (128 KiB), beyond what the STM32 board's SRAM holds, arrives, is checked and runs."""
    name, b = connected_board
    size = board_spec(board_target[0]).max_module_size
    wasm = examples.grown(examples.wasm("fib"), size)
    api.create_application("fib", wasm, devices=[name])
    b.console.wait_for_line(rf"wasmbed: app fib@1 receiving {size} bytes", 30)
    wait_for(lambda: app_device_phase(api, "fib", name, "Completed"), 90,
             f"a {size}-byte fib Completed on the firmware")

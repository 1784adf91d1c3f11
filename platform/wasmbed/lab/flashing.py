"""Flashing a physical board: one ELF holding the firmware and the provisioning blob (as a
loadable section at the board's provisioning address), written by gdb over the probe's GDB
server and compared section by section, or by the lab file's own command (OpenOCD's
`program {elf} verify`, probe-rs, ...). One image means every tool flashes the blob
exactly as it flashes code, with its own flash algorithm and verification."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from wasmbed.emulation.catalog import BoardSpec
from wasmbed.lab.commands import run_command
from wasmbed.lab.labfile import ProbeConfig

PROVISION_SECTION = ".wasmbed_provision"
ERASED = b"\xff" * 64  # no blob: the magic at the provisioning address is erased


class FlashFailed(RuntimeError):
    pass


class LabToolMissing(RuntimeError):
    """A host tool for physical boards is missing; the message says what to install."""


def _tool(names: list[str], package: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise LabToolMissing(f"{names[0]} is not installed: apt-get install -y "
                         f"--no-install-recommends {package}")


def flash_image(firmware: Path, spec: BoardSpec, blob: Path | None, out: Path) -> Path:
    """`firmware` plus the blob (or an erased header) at spec.provision_addr, as `out`."""
    objcopy = _tool(["arm-none-eabi-objcopy"], "binutils-arm-none-eabi")
    payload = out.with_name(out.stem + ".provision.bin")
    payload.write_bytes(blob.read_bytes() if blob else ERASED)
    result = subprocess.run(
        [objcopy, "--add-section", f"{PROVISION_SECTION}={payload}",
         "--set-section-flags", f"{PROVISION_SECTION}=alloc,load,readonly,data",
         "--change-section-address", f"{PROVISION_SECTION}=0x{spec.provision_addr:08x}",
         str(firmware), str(out)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise FlashFailed(f"could not add the provisioning blob to {firmware}: "
                          f"{result.stderr.strip()}")
    return out


def hex_image(image: Path) -> Path:
    """The image as Intel HEX: tools that load ELF files by program headers (OpenOCD's
    `program`, probe-rs) would skip the added section; a HEX file holds every byte."""
    objcopy = _tool(["arm-none-eabi-objcopy"], "binutils-arm-none-eabi")
    out = image.with_suffix(".hex")
    result = subprocess.run([objcopy, "-O", "ihex", str(image), str(out)],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise FlashFailed(f"could not write {out}: {result.stderr.strip()}")
    return out


def flash_over_gdb(probe: ProbeConfig, image: Path, timeout: float = 300.0) -> str:
    """`load` through the probe and `compare-sections` (every section must match), then
    `disconnect`: not `detach`, which would run the CPU from where it stopped rather than
    from the new reset vector. The caller resets the board."""
    gdb = _tool(["gdb-multiarch", "arm-none-eabi-gdb"], "gdb-multiarch")
    commands = ["set confirm off", "set pagination off", f"target remote {probe.gdb}",
                *probe.halt, "load", "compare-sections", "disconnect"]
    argv = [gdb, "-nx", "-batch", *(a for c in commands for a in ("-ex", c)), str(image)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                start_new_session=True)
    except subprocess.TimeoutExpired:
        raise FlashFailed(f"flashing over {probe.gdb} did not finish in {timeout:g} s") \
            from None
    output = result.stdout + result.stderr
    verify_sections(output, probe.gdb)
    return output


def verify_sections(gdb_output: str, where: str) -> None:
    matched = set(re.findall(r"Section (\S+), range [^\n]*: matched\.", gdb_output))
    if "MIS-MATCHED" in gdb_output or PROVISION_SECTION not in matched or ".text" not in matched:
        raise FlashFailed(f"flashing over {where} did not verify (want .text and "
                          f"{PROVISION_SECTION} matched); gdb said:\n{gdb_output[-3000:]}")


def flash_by_command(template: str, values: dict[str, object]) -> str:
    return run_command("flash", template, values)

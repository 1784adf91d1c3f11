"""Print flash and RAM use of a firmware ELF (from `size -A`, which, unlike the default
Berkeley format, does not count the NOLOAD heap and stack as used RAM)."""

from __future__ import annotations

import json
import subprocess
import sys

FLASH = (".text", ".ARM.exidx", ".data")
RAM_STATIC = (".data", ".bss", ".noinit")


def sections(elf: str) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", elf], capture_output=True, text=True,
                         check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


if __name__ == "__main__":
    s = sections(sys.argv[1])
    flash = sum(s.get(k, 0) for k in FLASH)
    static = sum(s.get(k, 0) for k in RAM_STATIC)
    report = {"flash": flash, "ramStatic": static, "heap": s.get(".heap", 0),
              "stack": s.get(".stack", 0)}
    print(f"firmware {sys.argv[1]}: flash {flash} B ({flash / 1024:.1f} KiB), "
          f"static RAM {static} B, heap {report['heap']} B, stack {report['stack']} B")
    with open(sys.argv[1] + ".size.json", "w") as fp:
        json.dump(report, fp)

"""A small client of GDB's remote serial protocol: enough to hold a board halted, run a
probe's monitor commands (reset) and let the board go. GDB servers (OpenOCD, pyOCD,
J-Link, QEMU's gdbstub) halt the target when a client attaches; detaching resumes it.
Flashing is left to gdb itself (`load` speaks each probe's flash protocol)."""

from __future__ import annotations

import socket

from wasmbed.waiting import WaitTimeout


class GdbRemoteError(ConnectionError):
    pass


def _checksum(payload: bytes) -> bytes:
    return b"%02x" % (sum(payload) & 0xFF)


class GdbRemote:
    def __init__(self, address: tuple[str, int], timeout: float = 10.0) -> None:
        self.address = address
        try:
            self.sock = socket.create_connection(address, timeout=timeout)
        except OSError as exc:
            raise GdbRemoteError(f"no GDB server at {address[0]}:{address[1]}: {exc}; is the "
                                 "probe's GDB server (OpenOCD, pyOCD, ...) running?") from None
        self._buf = b""
        self.stop_reason = self.request("?")  # attached: the target is halted

    def _read(self) -> bytes:
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            raise WaitTimeout(f"the GDB server at {self.address[0]}:{self.address[1]} did "
                              "not answer in time") from None
        if not data:
            raise GdbRemoteError("the GDB server closed the connection")
        return data

    def _send(self, payload: bytes) -> None:
        packet = b"$" + payload + b"#" + _checksum(payload)
        for _ in range(3):
            self.sock.sendall(packet)
            while not self._buf:
                self._buf = self._read()
            ack, self._buf = self._buf[:1], self._buf[1:]
            if ack == b"+":
                return
            if ack != b"-":  # not an ack: keep it for the reply
                self._buf = ack + self._buf
                return
        raise GdbRemoteError(f"the GDB server refused packet {payload[:40]!r}")

    def _packet(self) -> bytes:
        while True:
            start = self._buf.find(b"$")
            end = self._buf.find(b"#", start) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self._buf) >= end + 3:
                payload = self._buf[start + 1:end]
                self._buf = self._buf[end + 3:]
                self.sock.sendall(b"+")
                return payload
            self._buf += self._read()

    def request(self, payload: str) -> str:
        self._send(payload.encode())
        return self._packet().decode("latin-1")

    def monitor(self, command: str) -> str:
        """A probe command (`monitor reset run` in gdb): its output."""
        self._send(b"qRcmd," + command.encode().hex().encode())
        output = []
        while True:
            reply = self._packet().decode("latin-1")
            if reply.startswith("O") and reply != "OK":
                output.append(bytes.fromhex(reply[1:]).decode("utf-8", "replace"))
                continue
            if reply.startswith("E") or reply == "":
                raise GdbRemoteError(f"the probe refused `monitor {command}`: "
                                     f"{reply or 'unsupported'}")
            return "".join(output)

    def run(self, commands: list[str]) -> str:
        """`monitor ...` commands, as a lab file's probe lists them; their output."""
        out = []
        for command in commands:
            if not command.startswith("monitor "):
                raise ValueError(f"probe command {command!r}: only `monitor ...` commands can "
                                 "be sent without gdb")
            out.append(self.monitor(command.removeprefix("monitor ")))
        return "".join(out)

    def core_registers(self) -> dict[str, int]:
        """R0..R15 (`g`: the first sixteen 32-bit little-endian words on Arm)."""
        reply = self.request("g")
        if reply.startswith("E") or len(reply) < 128:
            raise GdbRemoteError(f"cannot read registers: {reply[:40]}")
        raw = bytes.fromhex(reply[:128])
        return {f"R{i}": int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(16)}

    def read_memory(self, address: int, length: int) -> bytes:
        out = bytearray()
        while len(out) < length:
            n = min(1024, length - len(out))
            reply = self.request(f"m{address + len(out):x},{n:x}")
            if reply.startswith("E") or not reply:
                raise GdbRemoteError(f"cannot read memory at 0x{address + len(out):08x}: {reply}")
            out += bytes.fromhex(reply)
        return bytes(out)

    def release(self) -> None:
        """Let go: continue (no stop reply awaited) and disconnect. Not `D`: QEMU's gdbstub
        does not resume a target that a monitor reset left in its pre-launch state, and a
        byte sent to it while running halts it again."""
        try:
            self._send(b"c")
        finally:
            self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def run_gdb_commands(address: tuple[str, int], commands: list[str]) -> str:
    """Attach, run `monitor ...` commands (other gdb commands need gdb itself), let go."""
    remote = GdbRemote(address)
    try:
        return remote.run(commands)
    finally:
        remote.release()

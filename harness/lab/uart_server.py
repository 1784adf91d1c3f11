"""A lab board's serial port served on a TCP port: for a lab board, what Renode's
`emulation CreateServerSocketTerminal` is for an emulated UART, so a Robot suite written in
Renode's vocabulary wires a physical board exactly as it wires an emulated one. One client
at a time; bytes pass unchanged both ways."""

from __future__ import annotations

import contextlib
import socket
import threading

from wasmbed.lab.labfile import SerialPortConfig
from wasmbed.lab.serial_port import SerialChannel


class UartServer:
    def __init__(self, port: int, serial_port: SerialPortConfig) -> None:
        self.serial_port = serial_port
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self.connected = threading.Event()  # a client is attached (the bridge)
        self._channel: SerialChannel | None = None
        self._client: socket.socket | None = None
        threading.Thread(target=self._serve, daemon=True, name=f"uart :{self.port}").start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # bytes as they come
            channel = SerialChannel(self.serial_port.port, self.serial_port.baud)
            self._client, self._channel = client, channel
            self.connected.set()
            up = threading.Thread(target=self._to_serial, args=(client, channel), daemon=True)
            up.start()
            while data := channel.recv(4096):
                try:
                    client.sendall(data)
                except OSError:
                    break
            self.connected.clear()
            channel.close()
            with contextlib.suppress(OSError):
                client.close()
            up.join(2)

    @staticmethod
    def _to_serial(client: socket.socket, channel: SerialChannel) -> None:
        try:
            while data := client.recv(4096):
                channel.send(data)
        except OSError:
            pass
        channel.close()  # the client left: the serial side's loop ends too

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        with contextlib.suppress(OSError):
            self.listener.close()
        if self._client:
            with contextlib.suppress(OSError):
                self._client.close()
        if self._channel:
            self._channel.close()

"""atheris (libFuzzer for Python) on the Python decoder. Properties: decode raises nothing
but a ProtocolError; an accepted payload re-encodes to exactly itself; a FrameDecoder fed
the same bytes in two chunkings delivers the same frames. Run as a program, with
libFuzzer's arguments (harness/fuzz/runner.py does):

    python -m harness.fuzz.python_target -max_total_time=60 CORPUS_DIR

Only wasmbed.protocol is instrumented for coverage (instrumenting every loaded module
costs about 40 s at start)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def make_check() -> Callable[[bytes], None]:
    from wasmbed.protocol import FrameDecoder, ProtocolError, decode, encode

    def frames(dec: FrameDecoder, chunks: list[bytes]) -> tuple[list[bytes], str]:
        out: list[bytes] = []
        for chunk in chunks:
            try:
                out += dec.feed(chunk)
            except ProtocolError as exc:
                return out, type(exc).__name__
        return out, ""

    def check(data: bytes) -> None:
        try:
            env = decode(data)
        except ProtocolError:
            pass
        else:
            again = encode(env.message, env.msg_id, env.version)
            if again != data:
                raise AssertionError(f"accepted {data.hex()} but re-encodes to {again.hex()}")
        if len(data) > 1:
            cut = data[0] % len(data)
            whole = frames(FrameDecoder(256), [data])
            split = frames(FrameDecoder(256), [data[:cut], data[cut:]])
            if whole != split:
                raise AssertionError(f"chunking changed the frames: {whole} vs {split}")

    return check


def main() -> None:
    import atheris

    with atheris.instrument_imports(include=["wasmbed.protocol"]):
        check = make_check()
    atheris.Setup(sys.argv, lambda data: check(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()

"""Inputs for the differential runner: envelopes shaped like the schema's messages, with
values at and past every bound, items the deterministic profile forbids (tags, floats,
simple values, non-shortest heads, unsorted or duplicate keys, deep nesting), and byte-level
mutations of the seed corpus. Random but reproducible from a seed."""

from __future__ import annotations

import random
import struct

from wasmbed.protocol.messages import ALL_MESSAGES
from wasmbed.protocol.schema import Wire, wire_fields

SIZES = {1: 24, 2: 25, 4: 26, 8: 27}


def head(major: int, arg: int, rng: random.Random | None = None) -> bytes:
    """A head for `arg`; with `rng`, now and then a longer one than the shortest."""
    shortest = 0 if arg < 24 else next(n for n in (1, 2, 4, 8) if arg < 1 << (8 * n))
    size = shortest
    if rng is not None and rng.random() < 0.03:
        size = rng.choice([n for n in (1, 2, 4, 8) if n >= shortest] or [8])
    if size == 0:
        return bytes([major << 5 | arg])
    return bytes([major << 5 | SIZES[size]]) + arg.to_bytes(size, "big")


class Generator:
    def __init__(self, seed: int, corpus: list[bytes]) -> None:
        self.rng = random.Random(seed)
        self.corpus = corpus or [b"\xa0"]

    # --- items -----------------------------------------------------------------------------

    def uint(self, lo: int = 0, hi: int = 2**64 - 1) -> int:
        r = self.rng
        edges = [lo, hi, lo + 1, hi - 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32,
                 2**63 - 1, 2**63, 2**64 - 1]
        value = r.choice(edges) if r.random() < 0.4 else r.randint(lo, max(lo, min(hi, 2**20)))
        return max(0, min(value, 2**64 - 1))

    def int_item(self, lo: int = 0, hi: int = 2**64 - 1) -> bytes:
        r = self.rng
        if r.random() < 0.15:  # a negative one
            return head(1, self.uint(0, 2**64 - 1), r)
        return head(0, self.uint(max(lo, 0), hi), r)

    def text(self, max_len: int = 70) -> bytes:
        r = self.rng
        n = r.choice([0, 1, max_len - 1, max_len, max_len + 1, r.randint(0, max_len + 2)])
        n = max(0, n)
        if r.random() < 0.1:  # not UTF-8, or multi-byte near the bound
            raw = bytes(r.randint(0x80, 0xFF) for _ in range(n))
        elif r.random() < 0.2:
            raw = ("é" * n).encode()[:n]
        else:
            raw = bytes(r.randint(0x20, 0x7E) for _ in range(n))
        return head(3, len(raw), r) + raw

    def blob(self, max_len: int = 64) -> bytes:
        r = self.rng
        n = max(0, r.choice([0, 1, max_len, max_len + 1, r.randint(0, max_len + 1)]))
        return head(2, n, r) + r.randbytes(n)

    def forbidden(self) -> bytes:
        """One item outside the deterministic profile."""
        r = self.rng
        kind = r.randrange(8)
        if kind == 0:  # a tag around something
            number = r.choice([0, 1, 2, 3, 24, 25, 28, 29, 30, 256, 55799, r.randint(0, 2**16)])
            return head(6, number) + (self.int_item() if r.random() < 0.7 else self.text())
        if kind == 1:  # floats
            return r.choice([b"\xf9\x3c\x00", b"\xfa" + struct.pack(">f", 1.0),
                             b"\xfb" + struct.pack(">d", r.random() * 1e6)])
        if kind == 2:  # simple values
            return r.choice([b"\xf7", bytes([0xE0 + r.randrange(20)]),
                             b"\xf8" + bytes([r.randrange(256)])])
        if kind == 3:  # indefinite lengths and break
            return r.choice([b"\x9f\x01\xff", b"\xbf\x00\x01\xff", b"\x5f\x41a\xff", b"\xff"])
        if kind == 4:  # reserved additional info
            return bytes([r.randrange(8) << 5 | r.choice([28, 29, 30])])
        if kind == 5:  # a non-shortest integer
            return bytes([0x18, r.randrange(24)])
        if kind == 6:  # deep nesting near the limit
            depth = r.randint(10, 20)
            return b"\x81" * depth + b"\x00"
        return head(2, 2**40)  # a length past the end

    def any_item(self, depth: int = 0) -> bytes:
        r = self.rng
        kind = r.randrange(9 if depth < 4 else 6)
        if kind == 0:
            return self.int_item()
        if kind == 1:
            return self.text()
        if kind == 2:
            return self.blob()
        if kind == 3:
            return r.choice([b"\xf4", b"\xf5", b"\xf6"])
        if kind in (4, 5):
            return self.forbidden()
        if kind == 6:
            n = r.randrange(4)
            return head(4, n, r) + b"".join(self.any_item(depth + 1) for _ in range(n))
        pairs = [(self.key(), self.any_item(depth + 1)) for _ in range(r.randrange(4))]
        return self.map(pairs)

    def key(self) -> bytes:
        r = self.rng
        return r.choice([head(0, r.randrange(10)), head(0, r.randrange(10)), b"\xf5", b"\xf4",
                         b"\xf9\x3c\x00", b"\xc2\x41\x01", b"\xd8\x1e\x01", b"\x61k",
                         head(1, r.randrange(3)), b"\x18\x01"])

    def map(self, pairs: list[tuple[bytes, bytes]]) -> bytes:
        """Keys sorted by their encoding, usually; sometimes unsorted or duplicated."""
        r = self.rng
        pairs = sorted(pairs, key=lambda kv: kv[0])
        roll = r.random()
        if roll < 0.03 and len(pairs) > 1:
            r.shuffle(pairs)
        elif roll < 0.06 and pairs:
            pairs.insert(r.randrange(len(pairs) + 1), r.choice(pairs))
        return head(5, len(pairs), r) + b"".join(k + v for k, v in pairs)

    # --- schema-shaped ---------------------------------------------------------------------

    def field_value(self, meta: Wire) -> bytes:
        r = self.rng
        if r.random() < 0.08:
            return self.any_item(2)
        if meta.kind is int:
            if meta.enum is not None:
                return head(0, r.choice([m.value for m in meta.enum] + [r.randrange(40)]), r)
            lo, hi = meta.range or (0, 2**64 - 1)
            if lo < 0 and r.random() < 0.4:
                return head(1, self.uint(0, -lo - 1 + 2), r)
            return self.int_item(lo, hi)
        if meta.kind is bool:
            return r.choice([b"\xf4", b"\xf5"])
        if meta.kind is str:
            return self.text(meta.max_len or 64)
        if meta.kind is bytes:
            return self.blob(min(meta.max_len or 64, 300))
        n = r.choice([0, 1, 2, meta.max_len or 8, (meta.max_len or 8) + 1])
        items = [self.int_item(0, 2**33) if meta.item is int else self.text(66)
                 for _ in range(n)]
        return head(4, n, r) + b"".join(items)

    def envelope(self) -> bytes:
        r = self.rng
        cls = r.choice(ALL_MESSAGES)
        body = []
        for _, meta in wire_fields(cls):
            if meta.optional and r.random() < 0.5:
                continue
            if not meta.optional and r.random() < 0.03:
                continue  # a missing field
            body.append((head(0, meta.key), self.field_value(meta)))
        if r.random() < 0.05:
            body.append((self.key(), self.any_item(2)))
        version = r.choice([1, 2, 2, 1, 0, 3]) if r.random() < 0.97 else r.randrange(2**16)
        mtype = cls.TYPE if r.random() < 0.95 else r.choice([0, 16, 2**32 + cls.TYPE])
        msg_id = self.uint(0, 2**32 - 1) if r.random() < 0.97 else self.uint(2**32)
        pairs = [(b"\x00", head(0, version, r)), (b"\x01", head(0, mtype, r)),
                 (b"\x02", head(0, msg_id, r)), (b"\x03", self.map(body))]
        if r.random() < 0.03:
            pairs.pop(r.randrange(4))
        if r.random() < 0.03:
            pairs.append((self.key(), self.any_item(1)))
        return self.map(pairs)

    # --- mutations -----------------------------------------------------------------------

    def mutate(self, data: bytes) -> bytes:
        r = self.rng
        buf = bytearray(data or b"\x00")
        for _ in range(r.randint(1, 4)):
            op = r.randrange(6)
            i = r.randrange(len(buf)) if buf else 0
            if op == 0 and buf:
                buf[i] ^= 1 << r.randrange(8)
            elif op == 1 and buf:
                buf[i] = r.choice([0x00, 0x18, 0x19, 0x1A, 0x1B, 0x1F, 0x7F, 0xC2, 0xF4, 0xF5,
                                   0xF6, 0xF7, 0xF8, 0xFF, r.randrange(256)])
            elif op == 2 and len(buf) > 1:
                del buf[i]
            elif op == 3:
                buf.insert(i, r.randrange(256))
            elif op == 4:
                other = r.choice(self.corpus)
                j = r.randrange(len(other) + 1)
                buf[i:] = other[j:]
            else:
                buf = buf[: r.randrange(len(buf) + 1)]
        return bytes(buf)

    def next(self) -> bytes:
        roll = self.rng.random()
        if roll < 0.55:
            return self.envelope()
        if roll < 0.9:
            return self.mutate(self.rng.choice(self.corpus))
        return self.any_item()

"""Image files the upload tests send: ones we refuse, made in memory."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def gif_bytes() -> bytes:
    """A real GIF: a format we do not accept."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (1, 2, 3)).save(buffer, "GIF")
    return buffer.getvalue()


def bomb_png() -> bytes:
    """A tiny PNG whose header declares 50,000 x 50,000 pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )

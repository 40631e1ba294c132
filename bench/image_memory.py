"""Peak memory of the photo upload path with four worst-case images at once (issue #14, 7).

    python -m bench.image_memory [--threads 4] [--target-mb 400] [--web-baseline-mb 149]

A single-colour 7,900 x 7,900 PNG of 177 KB took a web process from 149 MB to 1,118 MB. For
every format the upload accepts (``server.images.ALLOWED_FORMATS``; HEIF only when
pillow-heif is installed) this builds the costliest image the limits admit: the most bytes
per decoded pixel that format can have (RGBA, 16 bits, interlaced PNG; progressive CMYK and
4:4:4 JPEG, whose decoder buffers every DCT coefficient; lossless WebP with alpha), as many
pixels as ``MAX_PIXELS`` and ``MAX_DECODE_BYTES`` let through. The issue's PNG is run too,
and one of each worst case at once.

Each case runs in a fresh process that first builds the Flask app (so the baseline is a web
process's, not a bare interpreter's), then starts ``--threads`` threads that each run
``server.images.derive_copies`` -- the one decode and the display copy and thumbnail that
``add_photo`` and ``set_technician_photo`` ask for -- on the case's bytes, all at once.
Peak RSS is that process's ``VmHWM`` from ``/proc/self/status`` (MB = 1024 x 1024 bytes,
like ps): ``getrusage``'s ``ru_maxrss`` would not do, because Linux carries the parent's
peak over ``fork`` and ``exec`` into it, and the parent has just built 256 MB images.
Elsewhere ``ru_maxrss`` is used, and the figures may be the parent's.

PASS when, for every case, the process stays under ``--target-mb`` and so does the issue's
web process: ``--web-baseline-mb`` plus what the case added to this process's baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One worst case: how to build it at a given square side."""

    name: str
    build: Callable[[int], bytes]
    #: The side to build it at, as it is; None: the largest the limits admit.
    side: int | None = None


def _encode(mode: str, side: int, image_format: str, **options: Any) -> bytes:
    from PIL import Image

    colour = {"RGBA": (200, 30, 30, 128), "CMYK": (10, 200, 30, 5), "I;16": 40000}
    image = Image.new(mode, (side, side), colour.get(mode, (200, 30, 30)))
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def _png_rgba64(side: int) -> bytes:
    """Return an interlaced 16-bit RGBA PNG (Pillow writes neither, so it is built here)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    pixel = struct.pack(">HHHH", 51400, 7710, 7710, 32768)
    compressor = zlib.compressobj(9)
    parts = []
    # Adam7: seven passes of sub-images, each row a filter byte (0) and its pixels.
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4)) + (
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        width, height = max(0, math.ceil((side - x0) / dx)), max(0, math.ceil((side - y0) / dy))
        if width == 0 or height == 0:
            continue
        row = b"\0" + pixel * width
        for _ in range(height):
            parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def _cases() -> list[Case]:
    from server.images import ALLOWED_FORMATS

    cases = {
        "JPEG": [
            Case("JPEG baseline", lambda s: _encode("RGB", s, "JPEG", quality=10)),
            Case(
                "JPEG progressive 4:4:4",
                lambda s: _encode("RGB", s, "JPEG", quality=10, progressive=True, subsampling=0),
            ),
            Case(
                "JPEG progressive CMYK",
                lambda s: _encode("CMYK", s, "JPEG", quality=10, progressive=True),
            ),
        ],
        "PNG": [
            Case("PNG of the issue", lambda s: _encode("RGB", s, "PNG"), side=7900),
            Case("PNG RGBA", lambda s: _encode("RGBA", s, "PNG")),
            Case("PNG RGBA 16-bit interlaced", _png_rgba64),
            Case("PNG 16-bit grey", lambda s: _encode("I;16", s, "PNG")),
        ],
        "WEBP": [
            Case("WebP lossless RGBA", lambda s: _encode("RGBA", s, "WEBP", lossless=True)),
            Case("WebP lossy", lambda s: _encode("RGB", s, "WEBP", quality=10)),
        ],
        "HEIF": [Case("HEIF RGBA", lambda s: _encode("RGBA", s, "HEIF", quality=10))],
    }
    chosen = []
    for name in ALLOWED_FORMATS:
        if name == "HEIF" and not _heif_installed():
            print("HEIF: skipped (pillow-heif is not installed, so uploads refuse HEIF)")
            continue
        chosen += cases[name]
    return chosen


def _heif_installed() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _worst(case: Case) -> tuple[bytes, int]:
    """Return the case's bytes at the largest square side the limits admit, and that side."""
    from server import images

    if case.side is not None:
        return case.build(case.side), case.side
    side = math.isqrt(images.MAX_PIXELS)
    data = case.build(side)
    for _ in range(8):
        cost = images.estimate_decode_bytes(data)
        if cost <= images.MAX_DECODE_BYTES:
            return data, side
        side = int(side * math.sqrt(images.MAX_DECODE_BYTES / cost) * 0.998)
        data = case.build(side)
    raise RuntimeError(f"{case.name}: no side under the budget found")


# --- the measuring process --------------------------------------------------------------------


def _child(paths: list[str]) -> None:
    """Build the app, derive every file in its own thread at once, print what happened."""
    from server import create_app

    with tempfile.TemporaryDirectory() as instance:
        create_app(
            {
                "FIELDWORK_DATABASE_URL": "sqlite://",
                "FIELDWORK_INSTANCE_PATH": instance,
                "FIELDWORK_SECRET_KEY": "bench",
            }
        )
    from server import images

    blobs = [Path(path).read_bytes() for path in paths]
    baseline = _peak_rss()
    outcomes: list[str] = [""] * len(blobs)
    start = threading.Barrier(len(blobs))

    def run(index: int) -> None:
        start.wait()
        try:
            derived = images.derive_copies(blobs[index])
        except images.ImageRejected as error:
            outcomes[index] = f"refused ({error.code})"
        except images.ImageBusy:
            outcomes[index] = "busy"
        else:
            outcomes[index] = "ok" if len(derived.copies) == 2 else "no copies"

    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(blobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        json.dumps(
            {
                "baseline": baseline,
                "peak": _peak_rss(),
                "seconds": time.perf_counter() - began,
                "outcomes": outcomes,
                "budget_peak": images.decode_budget.peak / _MB,
                "refused_message": next(
                    (
                        _refusal(images, blob)
                        for blob, o in zip(blobs, outcomes, strict=True)
                        if "refused" in o
                    ),
                    None,
                ),
            }
        )
    )


def _refusal(images: Any, data: bytes) -> str:
    try:
        images.derive_copies(data)
    except images.ImageRejected as error:
        return str(error.message)
    return ""


def _peak_rss() -> float:
    """Return this process's peak resident memory in MB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(kilobytes) / 1024


def _measure(paths: list[Path]) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.image_memory", "--child", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the report -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Build the worst cases, measure each in a fresh process, print the table and verdict."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=4, help="uploads at once")
    parser.add_argument("--target-mb", type=float, default=400.0)
    parser.add_argument("--web-baseline-mb", type=float, default=149.0)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return

    from server import images

    print(
        f"limits: {images.MAX_PIXELS / 1e6:.0f} MP, {images.MAX_DECODE_BYTES / _MB:.0f} MB "
        f"per upload, {images.decode_budget.limit / _MB:.0f} MB per process, "
        f"{images.DECODE_WAIT_SECONDS:.0f} s wait; {args.threads} uploads at once"
    )
    header = (
        f"{'case':<27} {'pixels':>11} {'file':>8} {'estimate':>8} {'outcome':<22} "
        f"{'budget':>7} {'base':>6} {'peak':>6} {'added':>6} {'web':>6} {'time':>6}"
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as folder:
        worst: list[Path] = []
        for case in _cases():
            data, side = _worst(case)
            path = Path(folder) / f"{len(worst)}.img"
            path.write_bytes(data)
            if case.side is None:
                worst.append(path)
            figures = _measure([path] * args.threads)
            figures |= {
                "pixels": f"{side}x{side}",
                "file": len(data),
                "estimate": images.estimate_decode_bytes(data) / _MB,
            }
            rows.append((case.name, figures))
            _print_row(header, rows, args.web_baseline_mb)
        mixed = worst[:: max(1, len(worst) // args.threads)][: args.threads]
        figures = _measure(mixed) | {"pixels": "", "file": 0, "estimate": 0.0}
        rows.append(("one of each at once", figures))
        _print_row(header, rows, args.web_baseline_mb)

    print()
    for name, figures in rows:
        if figures["refused_message"]:
            print(f"{name}: {figures['refused_message']}")
    worst_peak = max(figures["peak"] for _, figures in rows)
    worst_web = max(_web(figures, args.web_baseline_mb) for _, figures in rows)
    failed = [
        name
        for name, figures in rows
        if figures["peak"] >= args.target_mb
        or _web(figures, args.web_baseline_mb) >= args.target_mb
        or "busy" in figures["outcomes"]
    ]
    verdict = "PASS" if not failed else "FAIL"
    print(
        f"{verdict}: highest peak {worst_peak:.0f} MB in this process, {worst_web:.0f} MB in a "
        f"{args.web_baseline_mb:.0f} MB web process; target < {args.target_mb:.0f} MB"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if failed:
        sys.exit(1)


def _web(figures: dict[str, Any], web_baseline: float) -> float:
    return float(web_baseline + figures["peak"] - figures["baseline"])


def _print_row(header: str, rows: list[tuple[str, dict[str, Any]]], web_baseline: float) -> None:
    if len(rows) == 1:
        print(header)
    name, figures = rows[-1]
    outcomes = sorted(set(figures["outcomes"]))
    outcome = ", ".join(f"{figures['outcomes'].count(o)}x {o}" for o in outcomes)
    file_size = f"{figures['file'] / 1024:.0f} KB" if figures["file"] else ""
    estimate = f"{figures['estimate']:.0f} MB" if figures["estimate"] else ""
    print(
        f"{name:<27} {figures['pixels']:>11} {file_size:>8} {estimate:>8} {outcome:<22} "
        f"{figures['budget_peak']:>5.0f}MB {figures['baseline']:>4.0f}MB {figures['peak']:>4.0f}MB "
        f"{figures['peak'] - figures['baseline']:>4.0f}MB {_web(figures, web_baseline):>4.0f}MB "
        f"{figures['seconds']:>5.1f}s",
        flush=True,
    )


if __name__ == "__main__":
    main()

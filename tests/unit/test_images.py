"""server.images: formats decided from content, hostile files refused, derived copies clean."""

from __future__ import annotations

import functools
import io
import struct
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from server import images
from server.images import (
    MAX_BYTES,
    ImageRejected,
    derive_display,
    derive_thumbnail,
    inspect_image,
    signature_png,
    svg_from_path_data,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112
PAYLOAD = b"<?php system($_GET['c']); ?><script>alert(1)</script>"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,  # keep the fuzzer from writing a .hypothesis folder into the repo
    suppress_health_check=[HealthCheck.too_slow],
)


def encode(image: Image.Image, image_format: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def photo(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """Return a two-colour image: red left half, blue right half."""
    image = Image.new(mode, size, "blue")
    image.paste(Image.new(mode, (size[0] // 2, size[1]), "red"), (0, 0))
    return image


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "FieldPhone"  # Make
    exif[0x927C] = b"maker-notes-serial-123456"  # MakerNote
    exif[GPS_IFD] = {
        1: "S",
        2: (33.0, 51.0, 54.0),
        3: "E",
        4: (151.0, 12.0, 36.0),
    }
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """Return a tiny PNG whose IHDR declares ``width`` x ``height`` but holds no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


@functools.cache
def valid_samples() -> tuple[bytes, ...]:
    return (
        encode(photo(), "JPEG", exif=gps_exif(6).tobytes()),
        encode(photo(mode="RGBA"), "PNG"),
        encode(photo(), "WEBP"),
    )


def parse_svg(svg: str) -> ET.Element:
    # The document is our own output; parsing it with the stdlib is the point of the test.
    return ET.fromstring(svg)  # noqa: S314


# --- accepted formats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_valid_images_are_identified_by_content(image_format: str, content_type: str) -> None:
    inspected = inspect_image(encode(photo((30, 20)), image_format))
    assert inspected.format == image_format
    assert inspected.content_type == content_type
    assert (inspected.width, inspected.height) == (30, 20)
    assert inspected.exif_location is None


def test_only_allowed_decoders_are_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real_open = Image.open

    def spy(fp: Any, mode: str = "r", formats: Any = None) -> Any:
        calls.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", spy)
    inspect_image(encode(photo(), "PNG"))
    derive_thumbnail(encode(photo(), "PNG"))
    with pytest.raises(ImageRejected):
        inspect_image(encode(photo(), "TIFF"))
    assert calls
    assert all(formats == ["JPEG", "PNG", "WEBP"] for formats in calls)


def test_allowed_formats_can_be_narrowed_but_not_widened() -> None:
    with pytest.raises(ImageRejected) as rejected:
        inspect_image(encode(photo(), "JPEG"), allowed=("PNG",))
    assert rejected.value.code == "type_not_allowed"
    with pytest.raises(ValueError, match="not supported"):
        inspect_image(encode(photo(), "GIF"), allowed=("GIF",))


def test_global_pixel_limit_is_left_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    inspect_image(encode(photo(), "PNG"))
    with pytest.raises(ImageRejected):
        inspect_image(png_header_only(50_000, 50_000))
    assert before == Image.MAX_IMAGE_PIXELS


# --- EXIF, orientation and re-encoding ----------------------------------------------------


def test_gps_location_is_read_from_exif() -> None:
    inspected = inspect_image(encode(photo(), "JPEG", exif=gps_exif().tobytes()))
    assert inspected.exif_location is not None
    latitude, longitude = inspected.exif_location
    assert latitude == pytest.approx(-(33 + 51 / 60 + 54 / 3600))
    assert longitude == pytest.approx(151 + 12 / 60 + 36 / 3600)


def test_malformed_gps_is_ignored_not_fatal() -> None:
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (1.0, 2.0), 3: "E"}
    inspected = inspect_image(encode(photo(), "JPEG", exif=exif.tobytes()))
    assert inspected.exif_location is None


def test_display_copy_has_no_exif_at_all() -> None:
    original = encode(photo((4000, 3000)), "JPEG", exif=gps_exif().tobytes())
    display = derive_display(original)
    reopened = Image.open(io.BytesIO(display))
    assert reopened.format == "JPEG"
    assert len(reopened.getexif()) == 0
    assert reopened.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in reopened.info
    assert b"Exif" not in display
    assert b"FieldPhone" not in display
    assert b"maker-notes" not in display


def test_display_copy_is_at_most_1600_and_keeps_aspect() -> None:
    display = Image.open(io.BytesIO(derive_display(encode(photo((4000, 3000)), "JPEG"))))
    assert display.size == (1600, 1200)


def test_orientation_is_applied_before_stripping() -> None:
    # Orientation 6: the stored image must be turned 90 degrees clockwise to be upright,
    # which moves the red left half to the top.
    original = encode(photo((200, 100)), "JPEG", exif=gps_exif(orientation=6).tobytes())
    display = Image.open(io.BytesIO(derive_display(original)))
    assert display.size == (100, 200)
    assert len(display.getexif()) == 0
    red, green, blue = display.getpixel((50, 20))
    assert red > 200
    assert blue < 60
    red, green, blue = display.getpixel((50, 180))
    assert blue > 200
    assert red < 60


def test_alpha_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (20, 40), (0, 0, 255, 255)), (0, 0))
    display = Image.open(io.BytesIO(derive_display(encode(image, "PNG"))))
    assert display.mode == "RGB"
    assert display.getpixel((35, 20)) == pytest.approx((255, 255, 255), abs=3)
    red, green, blue = display.getpixel((5, 20))
    assert blue > 200
    assert red < 60


def test_palette_transparency_and_16_bit_grey_are_rendered_sensibly() -> None:
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.info["transparency"] = 0
    flat = Image.open(io.BytesIO(derive_display(encode(palette, "PNG", transparency=0))))
    assert flat.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)

    grey = Image.new("I;16", (20, 20), 32768)
    rendered = Image.open(io.BytesIO(derive_display(encode(grey, "PNG"))))
    assert 110 < rendered.getpixel((5, 5))[0] < 145


def test_small_images_are_not_upscaled() -> None:
    small = encode(photo((120, 80)), "PNG")
    assert Image.open(io.BytesIO(derive_display(small))).size == (120, 80)
    assert Image.open(io.BytesIO(derive_thumbnail(small))).size == (120, 80)


def test_thumbnail_is_at_most_320() -> None:
    thumbnail = derive_thumbnail(encode(photo((3000, 4000)), "WEBP"))
    assert Image.open(io.BytesIO(thumbnail)).size == (240, 320)


def test_polyglot_png_is_accepted_but_payload_never_reaches_derived_copies() -> None:
    polyglot = encode(photo(), "PNG") + PAYLOAD
    assert inspect_image(polyglot).format == "PNG"
    assert PAYLOAD not in derive_display(polyglot)
    assert b"<?php" not in derive_thumbnail(polyglot)


def test_jpeg_comment_and_png_text_payloads_are_dropped() -> None:
    jpeg = encode(photo(), "JPEG", comment=PAYLOAD)
    assert b"<?php" not in derive_display(jpeg)
    text = PngInfo()
    text.add_text("Comment", PAYLOAD.decode())
    assert b"<?php" not in derive_display(encode(photo(), "PNG", pnginfo=text))


# --- rejections ---------------------------------------------------------------------------


def assert_rejected(
    data: bytes, code: str, action: Callable[[bytes], object] = inspect_image
) -> ImageRejected:
    with pytest.raises(ImageRejected) as rejected:
        action(data)
    assert rejected.value.code == code
    assert rejected.value.message
    return rejected.value


@pytest.mark.parametrize("action", [inspect_image, derive_display, derive_thumbnail])
def test_empty_bytes_are_rejected(action: Callable[[bytes], object]) -> None:
    assert_rejected(b"", "not_an_image", action)


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, saved as photo.jpg",
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<?php system($_GET['c']); ?>",
        b"\x00" * 64,
    ],
    ids=["text", "html", "svg", "php", "nulls"],
)
def test_non_images_renamed_as_images_are_rejected(data: bytes) -> None:
    assert_rejected(data, "not_an_image")


@pytest.mark.parametrize("image_format", ["GIF", "TIFF", "BMP", "ICO"])
def test_valid_images_of_other_types_are_not_allowed(image_format: str) -> None:
    data = encode(photo(), image_format)
    assert_rejected(data, "type_not_allowed")
    assert_rejected(data, "type_not_allowed", derive_display)


def test_truncated_jpeg_is_rejected() -> None:
    data = encode(photo((400, 300)), "JPEG")
    assert_rejected(data[: len(data) // 2], "truncated")
    assert_rejected(data[: len(data) // 2], "truncated", derive_thumbnail)


def test_corrupt_png_crc_is_rejected() -> None:
    data = bytearray(encode(photo(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF
    with pytest.raises(ImageRejected):
        inspect_image(bytes(data))


@pytest.mark.parametrize(
    ("width", "height"),
    [(50_000, 50_000), (10_000, 10_000), (9_000, 9_000)],
    ids=["beyond-pillow-error", "pillow-warning", "beyond-our-limit-only"],
)
def test_png_declaring_huge_dimensions_is_rejected_fast(width: int, height: int) -> None:
    data = png_header_only(width, height)
    assert len(data) < 100
    started = time.perf_counter()
    for action in (inspect_image, derive_display, signature_png):
        assert_rejected(data, "too_many_pixels", action)
    assert time.perf_counter() - started < 1.0


def test_files_over_the_byte_limit_are_rejected_before_decoding() -> None:
    data = encode(photo(), "PNG")
    oversized = data + b"\x00" * (MAX_BYTES + 1 - len(data))
    assert_rejected(oversized, "too_large")
    assert_rejected(oversized, "too_large", derive_display)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_only_ever_raise_image_rejected(data: bytes) -> None:
    for action in (inspect_image, derive_thumbnail):
        try:
            action(data)
        except ImageRejected:
            pass


@FUZZ
@given(
    sample=st.integers(min_value=0, max_value=2),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_mutated_images_only_ever_raise_image_rejected(
    sample: int, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(valid_samples()[sample])
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    for action in (inspect_image, derive_thumbnail):
        try:
            action(bytes(data))
        except ImageRejected:
            pass


# --- signatures ---------------------------------------------------------------------------


def test_signature_png_accepts_png() -> None:
    inspected = signature_png(encode(Image.new("LA", (600, 200)), "PNG"))
    assert (inspected.format, inspected.width, inspected.height) == ("PNG", 600, 200)


def test_signature_png_rejects_jpeg() -> None:
    assert_rejected(encode(photo(), "JPEG"), "type_not_allowed", signature_png)


def test_signature_png_rejects_more_than_4000_wide() -> None:
    assert_rejected(encode(Image.new("1", (4001, 10)), "PNG"), "too_many_pixels", signature_png)


def test_svg_from_path_data_builds_one_safe_path() -> None:
    svg = svg_from_path_data("M10 10 L20 20", 300, 100)
    root = parse_svg(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 300 100"
    assert list(root) == root.findall("{http://www.w3.org/2000/svg}path")
    (path,) = list(root)
    assert path.get("d") == "M10 10 L20 20"
    assert (path.get("stroke"), path.get("fill")) == ("black", "none")


def test_svg_from_path_data_accepts_real_pad_output() -> None:
    data = "M 1.5,2e1 c -0.3-1.2 4,5 6,7\nl+3-4 Q 1 2 3 4 z m 5 5 h 1 v 2 A 1 1 0 0 1 3 3 Z"
    assert len(parse_svg(svg_from_path_data(data, 4000, 1))) == 1


@pytest.mark.parametrize(
    "path_data",
    [
        "<script>alert(1)</script>",
        'M10 10" onload="alert(1)',
        "M10 10' onload='alert(1)",
        "M10 10 &amp;",
        "M10 10 L20 20 />",
        "",
        "   ",
        "L10 10",
        "M" + "1" * 200_000,
    ],
    ids=[
        "script",
        "double-quote",
        "single-quote",
        "entity",
        "tag",
        "empty",
        "blank",
        "no-move",
        "too-long",
    ],
)
def test_svg_from_path_data_rejects_anything_but_path_commands(path_data: str) -> None:
    with pytest.raises(ImageRejected) as rejected:
        svg_from_path_data(path_data, 100, 100)
    assert rejected.value.code == "invalid_path_data"


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (4001, 10), (10, -1), (True, 10)])
def test_svg_from_path_data_rejects_bad_dimensions(width: int, height: int) -> None:
    with pytest.raises(ImageRejected) as rejected:
        svg_from_path_data("M1 1", width, height)
    assert rejected.value.code == "invalid_dimensions"


@FUZZ
@given(path_data=st.text(max_size=300))
def test_svg_from_path_data_output_always_parses(path_data: str) -> None:
    try:
        svg = svg_from_path_data(path_data, 50, 50)
    except ImageRejected:
        return
    root = parse_svg(svg)
    assert len(root) == 1
    assert root[0].tag == "{http://www.w3.org/2000/svg}path"


def test_heif_is_dropped_when_its_plugin_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "_heif_registered", lambda: False)
    assert "HEIF" not in images._decoder_formats(images.ALLOWED_FORMATS)
    assert inspect_image(encode(photo(), "PNG")).format == "PNG"

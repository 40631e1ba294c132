"""Phone-size test photos: 4000 x 3000 JPEGs with gradients, shapes and sensor noise."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

SIZE = (4000, 3000)


def phone_photo(seed: int, size: tuple[int, int] = SIZE) -> bytes:
    """Return a JPEG that compresses like a real photo (not a flat colour, not pure noise)."""
    rng = random.Random(seed)
    width, height = size
    small = (width // 8, height // 8)
    # A sky-to-floor gradient in two random colours.
    top = tuple(rng.randrange(40, 220) for _ in range(3))
    bottom = tuple(rng.randrange(20, 180) for _ in range(3))
    mask = Image.linear_gradient("L").resize(small)
    image = Image.composite(Image.new("RGB", small, bottom), Image.new("RGB", small, top), mask)
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # equipment, pipes, labels
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        w, h = rng.randrange(10, small[0] // 3), rng.randrange(10, small[1] // 3)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2)).resize(size, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(size, 12).convert("RGB")
    image = ImageChops.add(image, noise, scale=1.0, offset=-12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()

"""A 256-bit perceptual image hash in the manner of Meta's PDQ: luminance, downsampled to
64x64, a 16x16 DCT, each coefficient compared with the median. Near-identical images (resized,
re-encoded, lightly edited) differ in few bits; PDQ's usual match threshold is 31 of 256."""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

MATCH_DISTANCE = 31


@cache
def _dct_matrix() -> NDArray[np.float64]:
    """The first 16 rows of the 64-point DCT-II."""
    k = np.arange(16)[:, None]
    n = np.arange(64)[None, :]
    return np.asarray(np.sqrt(2 / 64) * np.cos(np.pi / 64 * (n + 0.5) * k), dtype=np.float64)


def _downsample(lum: NDArray[np.float64]) -> NDArray[np.float64]:
    """Box-filter a luminance image to 64x64 (each output pixel averages its source block)."""
    h, w = lum.shape
    rows = np.linspace(0, h, 65).astype(int)
    cols = np.linspace(0, w, 65).astype(int)
    out = np.empty((64, 64))
    for i in range(64):
        band = lum[rows[i] : max(rows[i + 1], rows[i] + 1)]
        sums = np.add.reduceat(band.mean(axis=0), cols[:-1]) if w >= 64 else None
        if sums is None:
            out[i] = np.interp(np.linspace(0, w - 1, 64), np.arange(w), band.mean(axis=0))
        else:
            widths = np.maximum(np.diff(cols), 1)
            out[i] = sums / widths
    return out


def pdq(pixels: NDArray[np.float64]) -> str:
    """The hash of an image given as an RGB (h, w, 3) or grey (h, w) array, as 64 hex chars."""
    img = np.asarray(pixels, dtype=np.float64)
    lum = img if img.ndim == 2 else img[..., :3] @ np.array([0.299, 0.587, 0.114])
    d = _dct_matrix()
    coeffs = d @ _downsample(lum) @ d.T
    bits = (coeffs > np.median(coeffs)).ravel()
    return np.packbits(bits).tobytes().hex()


def distance(a: str, b: str) -> int:
    x = np.frombuffer(bytes.fromhex(a), dtype=np.uint8) ^ np.frombuffer(
        bytes.fromhex(b), dtype=np.uint8
    )
    return int(np.unpackbits(x).sum())


MAX_PIXELS = 50_000_000  # larger images are refused before they are decoded
WORKING_SIZE = 1024  # hashed at most this wide and high (PDQ looks at 64x64 blocks anyway)


def from_file(data: bytes) -> str:
    """Hash an image file (PNG, JPEG, ...). Raises ValueError for a file that is not an image
    or is too large to decode safely (a decompression bomb)."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ValueError(f"the image is {width}x{height}: at most {MAX_PIXELS:,} pixels")
            im.draft("RGB", (WORKING_SIZE, WORKING_SIZE))  # JPEG: decode at a smaller size
            rgb = im.convert("RGB")
            rgb.thumbnail((WORKING_SIZE, WORKING_SIZE))
            return pdq(np.asarray(rgb, dtype=np.float64))
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError) as err:
        raise ValueError(f"not an image that can be read safely: {err}") from None

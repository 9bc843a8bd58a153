"""Safe decoding of untrusted image bytes.

Every image that enters ProofCheck passes through `decode` exactly once per check:
the web layer calls it to refuse bad uploads before anything is written, the
pipeline calls it again in the worker. Limits are checked on the header, before any
pixel is decompressed, so a decompression bomb costs a few hundred bytes of parsing.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError
from pywuffs import ImageDecoderQuirks, ImageDecoderType, PixelFormat
from pywuffs.aux import ImageDecoder, ImageDecoderConfig

from proofcheck import memo

# Formats a phone or a browser produces for screenshots and photos. Everything else
# (TIFF, BMP, ICO, PSD, EPS...) is refused: more parsers mean more attack surface and
# no proof is ever posted in them.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF", "MPO"})

# Pillow's own bomb check is a warning at 1x and an error at 2x its limit; we enforce
# our limit ourselves on the header, so switch its global check off to keep one rule.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(ValueError):
    """An upload that is not a usable image. `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodedImage:
    """One decoded image: its pixels (RGB, or grey and smaller after a reduced decode)
    plus what the container said about itself."""

    image: Image.Image  # first frame, orientation as stored (no EXIF transpose)
    format: str  # "PNG", "JPEG", "WEBP", "GIF"
    width: int  # of the stored image; `image` is smaller after a reduced decode
    height: int
    mode: str  # the mode before conversion to RGB, e.g. "RGBA", "P", "L"
    frames: int  # 1 for still images
    # The colour of an image kept grey (`pixelcache`): `colourcheck.chroma_plane`.
    chroma: np.ndarray | None = None


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int


def probe(data: bytes, max_pixels: int) -> Header:
    """Check format and size from the header only (about a millisecond, no pixels).

    Batch uploads use this in the web process so thousands of items are accepted
    quickly; the worker's full `decode` still catches a truncated body.
    """
    img = _open(data)
    fmt, width, height = _check_header(img, max_pixels)
    return Header(format="JPEG" if fmt == "MPO" else fmt, width=width, height=height)


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ImageError("empty_file", "The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(
            "not_an_image", "The file is not an image we can read (PNG, JPEG, WebP or GIF)."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError("corrupt_image", f"The image header is damaged: {exc}.") from None


def _check_header(img: Image.Image, max_pixels: int) -> tuple[str, int, int]:
    fmt = (img.format or "").upper()
    if fmt not in ACCEPTED_FORMATS:
        raise ImageError(
            "unsupported_format",
            f"{fmt or 'This'} images are not accepted; send PNG, JPEG, WebP or GIF.",
        )
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageError("corrupt_image", "The image has no pixels.")
    if width * height > max_pixels:
        raise ImageError(
            "image_too_large",
            f"The image is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {max_pixels / 1e6:.1f}.",
        )
    return fmt, width, height


# PNG colour types Wuffs hands over as RGB (grey, RGB), and those it hands over as
# RGBA (palette, grey with alpha, RGBA): its RGB would blend transparent pixels onto
# black where Pillow's `convert("RGB")` keeps their colour. A grey or RGB image with a
# tRNS chunk (one colour transparent) goes to Pillow: Wuffs zeroes that colour.
_OPAQUE_COLOUR_TYPES = frozenset({0, 2})
_ALPHA_COLOUR_TYPES = frozenset({3, 4, 6})


def _wuffs_png_decoder(pixel_format: PixelFormat) -> ImageDecoder:
    # A decoder costs a microsecond to make; one per call keeps threads apart.
    config = ImageDecoderConfig()
    config.enabled_decoders = [ImageDecoderType.PNG]
    config.pixel_format = pixel_format
    # pywuffs ignores checksums unless told otherwise: a bit flipped in the pixel data
    # then decodes to wrong pixels where zlib (and so Pillow) refuses the file. Of
    # 20,000 mutated PNGs, 2,298 decoded that way; with the check, none.
    config.quirks = {ImageDecoderQuirks.IGNORE_CHECKSUM: 0}
    return ImageDecoder(config)


def _png_pixels(data: bytes) -> Image.Image | None:
    """A still PNG of up to 8 bits a sample decoded by Wuffs into the pixels Pillow's
    `convert("RGB")` gives: a phone screenshot's `decode` 3.7x faster than Pillow's
    (bench/duplicates.py's speed table) and 2.5x faster than libspng's; None where Pillow
    should decode it: 16-bit samples, a transparent colour in a grey or RGB image, or
    bytes Wuffs refuses, so that damaged files fail with Pillow's errors as before."""
    # IHDR is the first chunk: its bit depth and colour type sit at bytes 24 and 25.
    if len(data) < 29 or data[12:16] != b"IHDR" or data[24] > 8:
        return None
    colour_type = data[25]
    if colour_type in _ALPHA_COLOUR_TYPES:
        result = _wuffs_png_decoder(PixelFormat.RGBA_NONPREMUL).decode(data)
    # tRNS precedes the pixels; the same four bytes inside another chunk only send
    # the file to Pillow, never wrong pixels.
    elif colour_type in _OPAQUE_COLOUR_TYPES and data.find(b"tRNS", 0, data.find(b"IDAT")) < 0:
        result = _wuffs_png_decoder(PixelFormat.RGB).decode(data)
    else:
        return None
    if result.error_message:
        return None
    pixels = Image.fromarray(result.pixbuf)
    return pixels if pixels.mode == "RGB" else pixels.convert("RGB")


def to_grey(image: Image.Image) -> Image.Image:
    """`image` in grey levels (itself when it is grey already), not remembered: for an
    image converted once and then let go (a candidate entering the pixel cache)."""
    return image if image.mode == "L" else image.convert("L")


# A search's stages (keypoints, blocks, pixel grids) each read an image's grey levels,
# the query's once per candidate: convert it once. The memo keeps its last arguments
# alive, which is why a converted-once image goes through `to_grey` instead.
@memo.by_identity(4)
def grey(image: Image.Image) -> Image.Image:
    """`to_grey`, remembered for the last few images."""
    return to_grey(image)


# Given the stored width and height, the smallest size a caller needs the pixels at.
SizeNeeded = Callable[[int, int], tuple[int, int]]


def decode(data: bytes, max_pixels: int, max_frames: int = 10_000,
           reduced: SizeNeeded | None = None) -> DecodedImage:
    """Decode untrusted bytes into an RGB image or raise `ImageError`.

    `max_pixels` bounds width*height, checked on the header before decompression.
    Only the first frame of an animation is decoded. A PNG that Pillow refuses over
    a bad text chunk (bad CRC, a zTXt bomb) is decoded without its text chunks:
    text carries no pixels, and the forensic signals report the bad chunk.

    With `reduced`, a JPEG is decoded at the smallest of its DCT scales (1/2, 1/4,
    1/8) that still covers the size `reduced` asks for, and grey: its luma plane
    alone, 4-8x faster than a full decode. That serves hashing, which reads grey
    levels only. Other formats cannot be decoded reduced and come back in full RGB.
    """
    try:
        return _decode(data, max_pixels, max_frames, reduced)
    except ImageError as error:
        if not data.startswith(b"\x89PNG") or error.code == "image_too_large":
            raise
        from proofcheck.forensics._container import png_without_text

        stripped = png_without_text(data)
        if stripped == data:
            raise
        try:
            return _decode(stripped, max_pixels, max_frames, reduced)
        except ImageError:
            raise error from None


def _decode(data: bytes, max_pixels: int, max_frames: int,
            reduced: SizeNeeded | None) -> DecodedImage:
    img = _open(data)
    fmt, width, height = _check_header(img, max_pixels)
    frames = int(getattr(img, "n_frames", 1) or 1)
    if frames > max_frames:
        raise ImageError("too_many_frames", f"The animation has {frames} frames.")

    mode = img.mode
    try:
        img.seek(0)
        size_needed = reduced(width, height) if reduced and fmt in ("JPEG", "MPO") else None
        if size_needed:
            img.draft("L", size_needed)
        fast = _png_pixels(data) if fmt == "PNG" and frames == 1 else None
        if fast is not None and fast.size == (width, height):
            pixels = fast
        else:
            img.load()
            pixels = img.convert("L" if size_needed else "RGB")
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError("truncated_image",
                         f"The image data is truncated or damaged: {exc}.") from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - belt and braces
        raise ImageError("image_too_large", str(exc)) from None
    return DecodedImage(image=pixels, format="JPEG" if fmt == "MPO" else fmt, width=width,
                        height=height, mode=mode, frames=frames)

"""Perceptual signatures of one decoded image, for the near-duplicate engine.

One `Signatures` value holds everything the index and the signature-level verifier
need, in about 1.4 KB:

- `global_hash`: a 64-bit DCT hash (pHash) of the whole image, the fast path that
  catches recompression, resizing, grayscale and brightness changes.
- `canon_hash`: the same hash of the *canonical region*: the image with uniform
  borders trimmed and, on phone-shaped images, the status and navigation bars cut.
  Padding, letterboxing and re-screenshots inside another phone's chrome land here.
- `flip_hash`: the canonical hash of the mirrored image (derived from the same DCT).
- `window_hashes`: hashes of fixed sub-windows of the canonical region (81%, 60% and
  25% of its area on grids of positions). A crop of this image hashes close to one of
  them, this image's windows hash close to a stored crop's canonical hash, and a small
  window survives a sticker elsewhere.
- `thumb`: a small grayscale thumbnail of the canonical region (<= 1024 cells), used
  to verify a candidate cell by cell once the matching keys have aligned the pair.
- `straightened_hashes`: for an image with a clear tilt, the keys of its straightened
  view (`views.with_straightened`), indexed with its own, so that a straight copy
  checked later finds it; empty without a tilt, None when nobody looked.

Every hash is computed from one reduced working image (integer `reduce` of the decoded
pixels, then grayscale), so the cost is nearly independent of the upload's size.
`file_signatures` is the one path from a file to its signatures, for the index and for
every query alike: a JPEG is decoded reduced there, and hashes from a full decode of
the same file would differ by a bit or two.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from proofcheck.imaging import DecodedImage, decode

# Bumped whenever any hash changes meaning: stored signatures of another version must
# be recomputed, never compared.
SIGNATURE_VERSION = 1

# Long side of the working image. 384 px keeps a phone screenshot's text rows apart
# while making every later step cost well under a millisecond.
WORK_LONG_SIDE = 384
# Cells of the verification thumbnail; 1024 bytes keeps the whole record under 2 KB.
THUMB_CELLS = 1024

# Sub-windows of the canonical region, as (x, y, w, h) fractions. Three scales: 0.9 of
# each side (81% area) on a 3x3 grid and 0.78 (61% area) on a 5x5 grid, so a crop whose
# offset falls between grid points is still within a few percent of one window, which
# a DCT hash tolerates; and 0.5 (25% area) on a 3x3 grid, so that a sticker or a
# scribble over part of the image leaves some window clean: every larger window holds
# a sticker near the centre, and of 120 stickered copies (bench/duplicates.py) 11 had
# no key within the search radius of their original without these, 1 with them.
# The 0.5 windows come last, so records made before them (34 windows) still compare
# window for window.
def _window_grid() -> tuple[tuple[float, float, float, float], ...]:
    windows: list[tuple[float, float, float, float]] = []
    for side, steps in ((0.9, 3), (0.78, 5), (0.5, 3)):
        slack = 1.0 - side
        for iy in range(steps):
            for ix in range(steps):
                windows.append(
                    (slack * ix / (steps - 1), slack * iy / (steps - 1), side, side)
                )
    return tuple(windows)


WINDOWS: tuple[tuple[float, float, float, float], ...] = _window_grid()

# Phone screenshots: anything at least this tall for its width is treated as one, and
# loses these fractions of its (trimmed) height at the top (status bar) and bottom
# (navigation bar). Fixed fractions rather than detection: both copies of a pair are
# cut the same way, and a DCT hash forgives the few percent a different phone adds.
PHONE_ASPECT = 1.6
STATUS_BAR_FRACTION = 0.05
NAV_BAR_FRACTION = 0.05

# A row or column of the working image whose spread is below this (grey levels) is a
# uniform border.
BORDER_STD = 4.0
# A picture much wider than a phone's screen, re-screenshotted on one, fills a band of
# it under the sliver rule's 20% (`_trim_uniform`): a 741 x 224 GIMP dialog pasted
# into a 720 x 1560 screen is 13% of its height (bench/duplicates.py --seed 2). A band
# across the whole width of a phone-shaped image, this share of its height at least,
# is kept: trimmed as the picture trims itself, so both have one canonical region.
MIN_LETTERBOXED = 0.05


@dataclass(frozen=True)
class Signatures:
    """All perceptual signatures of one image; see the module docstring."""

    width: int
    height: int
    # Canonical region in the original image's pixel coordinates: x, y, w, h.
    canon_box: tuple[int, int, int, int]
    global_hash: int
    canon_hash: int
    flip_hash: int
    window_hashes: tuple[int, ...]
    thumb_width: int
    thumb_height: int
    thumb: bytes  # thumb_height rows of thumb_width uint8 grey levels
    # Global, canonical, flip and window keys of the straightened view, in that order.
    straightened_hashes: tuple[int, ...] | None = None

    _HEADER = struct.Struct("<BHHHHHHBBB")  # version, w, h, box, thumb w/h, n windows
    # After the thumbnail, when someone looked for a tilt: how many straightened keys.
    # Records without it (older ones, or never looked) stay valid as they are.
    _TRAILER = struct.Struct("<H")

    def to_bytes(self) -> bytes:
        head = self._HEADER.pack(
            SIGNATURE_VERSION, self.width, self.height, *self.canon_box,
            self.thumb_width, self.thumb_height, len(self.window_hashes),
        )
        hashes = np.array(
            [self.global_hash, self.canon_hash, self.flip_hash, *self.window_hashes],
            dtype="<u8",
        )
        record = head + hashes.tobytes() + self.thumb
        if self.straightened_hashes is None:
            return record
        turned = np.array(self.straightened_hashes, dtype="<u8")
        return record + self._TRAILER.pack(len(turned)) + turned.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signatures:
        head = cls._HEADER
        if len(data) < head.size:
            raise ValueError("signature record is truncated")
        version, w, h, bx, by, bw, bh, tw, th, nwin = head.unpack_from(data)
        if version != SIGNATURE_VERSION:
            raise ValueError(f"signature version {version}, expected {SIGNATURE_VERSION}")
        nhash = 3 + nwin
        end = head.size + 8 * nhash
        thumb_end = end + tw * th
        straightened: tuple[int, ...] | None = None
        if len(data) >= thumb_end + cls._TRAILER.size:
            (count,) = cls._TRAILER.unpack_from(data, thumb_end)
            if len(data) != thumb_end + cls._TRAILER.size + 8 * count:
                raise ValueError("signature record has the wrong length")
            straightened = tuple(int(v) for v in np.frombuffer(
                data, dtype="<u8", count=count, offset=thumb_end + cls._TRAILER.size))
        elif len(data) != thumb_end:
            raise ValueError("signature record has the wrong length")
        hashes = [int(v) for v in np.frombuffer(data, dtype="<u8", count=nhash, offset=head.size)]
        return cls(
            width=w, height=h, canon_box=(bx, by, bw, bh),
            global_hash=hashes[0], canon_hash=hashes[1], flip_hash=hashes[2],
            window_hashes=tuple(hashes[3:]),
            thumb_width=tw, thumb_height=th, thumb=bytes(data[end:thumb_end]),
            straightened_hashes=straightened,
        )

    def thumb_array(self) -> np.ndarray:
        return np.frombuffer(self.thumb, dtype=np.uint8).reshape(
            self.thumb_height, self.thumb_width
        )


@lru_cache(maxsize=4)
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix, so a 2-D DCT is two small matrix products."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    m[0, :] = math.sqrt(1.0 / n)
    return m.astype(np.float32)


# Mirroring an image left-right negates every DCT coefficient of odd horizontal
# frequency, so the mirrored image's hash comes from the same 8x8 block.
_FLIP_SIGN = np.where(np.arange(8) % 2 == 1, -1.0, 1.0)[None, :].astype(np.float32)


def _region_tiles(img: Image.Image, boxes: list[tuple[float, float, float, float]],
                  scale: float = 1.0) -> np.ndarray:
    """Each box (working-image pixels) of `img`, which is `scale` times as big, resized
    to 32x32: an n x 32 x 32 float32 stack."""
    tiles = []
    for box in boxes:
        x, y, w, h = (v * scale for v in box)
        # `reduce` floors odd sizes, so the scaled box may overrun by a fraction of a pixel.
        x1, y1 = min(x + w, img.width), min(y + h, img.height)
        tiles.append(img.resize((32, 32), Image.Resampling.BILINEAR,
                                box=(x, y, x1, y1)).tobytes())
    stack = np.frombuffer(b"".join(tiles), dtype=np.uint8).reshape(len(boxes), 32, 32)
    return stack.astype(np.float32)


def _dct_lows(tiles: np.ndarray) -> np.ndarray:
    """The 8x8 lowest frequencies of each tile's 2-D DCT: n x 8 x 8."""
    d = _dct_matrix(32)
    return (d @ tiles @ d.T)[:, :8, :8]


def _phashes(lows: np.ndarray) -> list[int]:
    """One 64-bit hash per 8x8 block, first coefficient in the top bit."""
    flat = lows.reshape(len(lows), 64)
    # Median of the block without the DC term, as imagehash's pHash: the DC term
    # carries brightness only.
    above = flat > np.median(flat[:, 1:], axis=1)[:, None]
    return [int(v) for v in np.packbits(above, axis=1).view(">u8").ravel()]


def _work_factor(width: int, height: int) -> int:
    return max(1, max(width, height) // WORK_LONG_SIDE)


def _draft_size(width: int, height: int) -> tuple[int, int]:
    """The reduced decode that the working image's `reduce` can finish exactly.

    A JPEG decodes at 1/2, 1/4 or 1/8 scale by dropping DCT coefficients, which is
    close to averaging 2x2, 4x4 or 8x8 pixels; the largest of these that divides the
    working factor leaves an integer `reduce`, and the working image then differs
    from the full decode's by a fraction of a grey level (a 1080x2340 screenshot
    decodes at 1/2, then `reduce(3)`). Where none divides it, the decode is full.
    """
    factor = _work_factor(width, height)
    scale = next(s for s in (8, 4, 2, 1) if factor % s == 0)
    return -(-width // scale), -(-height // scale)


def _working_image(decoded: DecodedImage) -> tuple[Image.Image, float]:
    """Grey working image and its scale relative to the stored pixels."""
    img = decoded.image
    done = round(decoded.width / img.width)  # a reduced decode did part of it
    factor = _work_factor(decoded.width, decoded.height) // done
    if factor > 1:
        img = img.reduce(factor)
    return img.convert("L"), img.width / decoded.width


def _content_span(flags: np.ndarray, skip_thin: bool = True) -> tuple[int, int]:
    """First and end index of content along one axis, skipping uniform margins.

    With `skip_thin`, a thin band of content at the very edge, cut off from the rest
    by a wide uniform gap, is margin too: another phone's status or navigation bar
    over a letterboxed screenshot. Its own bars sit closer to its content and stay
    (the fixed phone-bar cut deals with those), so text lines are never peeled off.
    """
    n = len(flags)
    idx = np.nonzero(flags)[0]
    if len(idx) == 0:
        return 0, n
    start, end = int(idx[0]), int(idx[-1]) + 1
    if not skip_thin:
        return start, end
    edge, thin, gap = 0.02 * n, 0.06 * n, 0.03 * n
    if start <= edge and not flags[start:end].all():
        run_end = start + int(np.argmin(flags[start:end]))
        nxt = run_end + int(np.argmax(flags[run_end:end]))
        if run_end - start <= thin and nxt - run_end >= gap:
            start = nxt
    if end >= n - edge and not flags[start:end].all():
        rev = flags[start:end][::-1]
        run_len = int(np.argmin(rev))
        after = end - run_len
        prev = after - int(np.argmax(flags[start:after][::-1]))
        if run_len <= thin and after - prev >= gap:
            end = prev
    return start, end


def _trim_uniform(gray: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) left after cutting uniform rows and columns at the edges."""
    h, w = gray.shape
    # Columns are judged on all rows but the top and bottom 6%, where another phone's
    # status and navigation bars would sit; a page's own header band spans the full
    # width below that, so a receipt's background margins are not trimmed (their
    # extent would depend on how long its text lines happen to be).
    # Rows are judged on the central columns: a phone's clock and battery sit in the
    # corners, so a status bar over a letterboxed picture reads as uniform margin.
    bar = round(0.06 * h)
    mid_rows = gray[bar : h - bar] if h >= 20 else gray
    cols = mid_rows.std(axis=0) >= BORDER_STD
    if not cols.any():
        return 0, 0, w, h
    # Phones have no vertical bars; a thin column run is content (a card's edge).
    x0, x1 = _content_span(cols, skip_thin=False)
    inner = gray[:, x0:x1]
    cw = x1 - x0
    mid_cols = inner[:, cw // 5 : cw - cw // 5] if cw >= 10 else inner
    rows = mid_cols.std(axis=1) >= BORDER_STD
    if not rows.any():
        return 0, 0, w, h
    y0, y1 = _content_span(rows)
    # A trim that leaves a sliver is noise in a flat image, not a border; a band across
    # a phone screen is a picture letterboxed there.
    letterboxed = (h >= PHONE_ASPECT * w and (x1 - x0) >= 0.9 * w
                   and (y1 - y0) >= MIN_LETTERBOXED * h)
    if ((x1 - x0) < w * 0.2 or (y1 - y0) < h * 0.2) and not letterboxed:
        return 0, 0, w, h
    return x0, y0, x1 - x0, y1 - y0


def phone_bars(width: float, height: float) -> tuple[int, int]:
    """Heights of the status bar and the navigation bar cut from a region this size:
    none unless it is shaped like a phone screen."""
    if height < PHONE_ASPECT * width:
        return 0, 0
    return round(height * STATUS_BAR_FRACTION), round(height * NAV_BAR_FRACTION)


def canonical_box(gray: np.ndarray) -> tuple[int, int, int, int]:
    """Canonical region of a grey working image: borders trimmed, phone bars cut."""
    x, y, w, h = _trim_uniform(gray)
    top, bottom = phone_bars(w, h)
    return x, y + top, max(w, 1), max(h - top - bottom, 1)


def _thumb_size(w: int, h: int) -> tuple[int, int]:
    tw = max(4, min(64, round(math.sqrt(THUMB_CELLS * w / h))))
    th = max(4, min(64, THUMB_CELLS // tw))
    return tw, th


def compute_signatures(decoded: DecodedImage) -> Signatures:
    """All signatures of one decoded image (bench/duplicates.py prints the rate)."""
    work, scale = _working_image(decoded)
    gray = np.asarray(work, dtype=np.float32)
    ww, wh = work.size

    # The 32x32 hash inputs are read from a half-size copy: the antialiased resize
    # costs in proportion to its source, and 32 px never needs more than ~150.
    half = min(ww, wh) >= 128
    hash_img = work.reduce(2) if half else work
    cx, cy, cw, ch = canonical_box(gray)
    regions = [(0, 0, ww, wh), (cx, cy, cw, ch)] + [
        (cx + fx * cw, cy + fy * ch, fw * cw, fh * ch) for fx, fy, fw, fh in WINDOWS
    ]
    # All regions in one stack: the DCTs and medians of 45 tiles in a few numpy calls.
    lows = _dct_lows(_region_tiles(hash_img, regions, hash_img.width / ww))
    global_hash, canon_hash, *windows = _phashes(lows)
    (flip_hash,) = _phashes(lows[1:2] * _FLIP_SIGN)
    tw, th = _thumb_size(cw, ch)
    thumb = work.resize((tw, th), Image.Resampling.BOX, box=(cx, cy, cx + cw, cy + ch))

    inv = 1.0 / scale
    bx = min(decoded.width - 1, round(cx * inv))
    by = min(decoded.height - 1, round(cy * inv))
    box = (bx, by, max(1, min(decoded.width - bx, round(cw * inv))),
           max(1, min(decoded.height - by, round(ch * inv))))
    return Signatures(
        width=decoded.width, height=decoded.height, canon_box=box,
        global_hash=global_hash, canon_hash=canon_hash, flip_hash=flip_hash,
        window_hashes=tuple(windows), thumb_width=tw, thumb_height=th, thumb=thumb.tobytes(),
    )


def file_signatures(data: bytes, max_pixels: int,
                    decoded: DecodedImage | None = None) -> Signatures:
    """Signatures of an image file: the one decode path the index and every query share.

    A JPEG is decoded again at a reduced DCT scale (`_draft_size`), which halves the
    cost of its signatures; PNG, WebP and GIF cannot be decoded reduced, so
    `decoded`, the caller's full decode, spares decoding them twice.
    """
    if decoded is None or decoded.format == "JPEG":
        decoded = decode(data, max_pixels, reduced=_draft_size)
    return compute_signatures(decoded)


def own_keys(sig: Signatures) -> list[int]:
    """The image's keys as it is (not straightened), without repeats."""
    keys = [sig.global_hash, sig.canon_hash, sig.flip_hash, *sig.window_hashes]
    return list(dict.fromkeys(keys))


def index_keys(sig: Signatures) -> list[int]:
    """The 64-bit keys to put into the Hamming index for this image, without repeats:
    its own and its straightened view's."""
    return list(dict.fromkeys([*own_keys(sig), *(sig.straightened_hashes or ())]))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()

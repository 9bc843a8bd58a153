"""Signatures: stable under benign changes, different for different pictures, compact."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from proofcheck.hashing import Signatures, canonical_box, compute_signatures, hamming, index_keys
from proofcheck.imaging import DecodedImage, decode


def _photo(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    """A smooth random 'photo': blurred noise plus a few shapes and a word."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 9, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = int(rng.integers(0, size[0] - 120)), int(rng.integers(0, size[1] - 120))
        r = int(rng.integers(30, 110))
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x, y, x + r, y + r), fill=color)
    draw.text((40, 40), f"proof {seed}", fill=(255, 255, 255), font=ImageFont.load_default(60))
    return img


def _decoded(img: Image.Image, fmt: str = "PNG", **kw: int) -> DecodedImage:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return decode(buf.getvalue(), 50_000_000)


def test_round_trip_and_size() -> None:
    sig = compute_signatures(_decoded(_photo(1)))
    data = sig.to_bytes()
    assert len(data) <= 2048
    assert Signatures.from_bytes(data) == sig
    keys = index_keys(sig)
    assert sig.global_hash in keys and sig.canon_hash in keys
    assert len(keys) == len(set(keys)) and all(0 <= k < 2**64 for k in keys)


def test_from_bytes_refuses_damaged_records() -> None:
    data = compute_signatures(_decoded(_photo(2))).to_bytes()
    for bad in (data[:10], data[:-1], data + b"x", bytes([99]) + data[1:]):
        try:
            Signatures.from_bytes(bad)
        except ValueError:
            continue
        raise AssertionError("damaged record accepted")


def test_benign_changes_keep_the_global_hash_close() -> None:
    img = _photo(3)
    base = compute_signatures(_decoded(img))
    variants = [
        _decoded(img, "JPEG", quality=30),
        _decoded(img.resize((450, 300), Image.Resampling.BILINEAR)),
        _decoded(img.convert("L").convert("RGB")),
        _decoded(img, "WEBP", quality=70),
    ]
    for v in variants:
        assert hamming(compute_signatures(v).global_hash, base.global_hash) <= 6


def test_different_pictures_are_far_apart() -> None:
    sigs = [compute_signatures(_decoded(_photo(s))) for s in range(10, 16)]
    for i in range(len(sigs)):
        for j in range(i + 1, len(sigs)):
            assert hamming(sigs[i].global_hash, sigs[j].global_hash) > 16


def test_border_is_trimmed_so_canonical_hash_survives_padding() -> None:
    img = _photo(4)
    padded = ImageOps.expand(img, border=60, fill=(0, 0, 0))
    base = compute_signatures(_decoded(img))
    sig = compute_signatures(_decoded(padded))
    assert hamming(sig.canon_hash, base.canon_hash) <= 4
    # The canonical box sits inside the border, in the padded image's pixels.
    x, y, w, h = sig.canon_box
    assert abs(x - 60) <= 8 and abs(y - 60) <= 8
    assert abs(w - img.width) <= 16 and abs(h - img.height) <= 16


def test_phone_screenshots_lose_status_and_navigation_bars() -> None:
    gray = np.full((600, 270), 200.0, dtype=np.float32)
    gray[100:500, 20:250] = np.random.default_rng(0).integers(0, 255, (400, 230))
    x, y, w, h = canonical_box(gray)
    # Uniform margins trimmed first, then 5% of the remaining height at each end.
    assert (x, w) == (20, 230)
    assert y == 100 + 20 and h == 400 - 40


def test_flip_hash_is_the_hash_of_the_mirrored_image() -> None:
    img = _photo(5)
    sig = compute_signatures(_decoded(img))
    mirrored = compute_signatures(_decoded(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    assert hamming(sig.flip_hash, mirrored.canon_hash) <= 4
    assert hamming(sig.canon_hash, mirrored.canon_hash) > 10


def test_a_crop_matches_one_of_the_windows() -> None:
    img = _photo(6, (1000, 1000))
    sig = compute_signatures(_decoded(img))
    crop = compute_signatures(_decoded(img.crop((110, 0, 890, 780))))  # 61% of the area
    best = min(hamming(crop.canon_hash, w) for w in sig.window_hashes)
    assert best <= 8
    assert hamming(crop.canon_hash, sig.canon_hash) > best


def test_canonical_box_stays_inside_odd_sized_images() -> None:
    rng = np.random.default_rng(9)
    for w, h in [(1001, 777), (739, 1600), (1599, 1066), (333, 2001), (257, 257), (40, 30)]:
        img = Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        x, y, bw, bh = compute_signatures(_decoded(img)).canon_box
        assert x >= 0 and y >= 0 and bw >= 1 and bh >= 1
        assert x + bw <= w and y + bh <= h

"""Signatures: stable under benign changes, different for different pictures, compact."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from proofcheck.hashing import (
    Signatures,
    canonical_box,
    compute_signatures,
    file_signatures,
    hamming,
    index_keys,
)
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


def test_straightened_keys_travel_in_the_record_and_are_indexed() -> None:
    """A tilted image's straightened keys follow its thumbnail; a record without them
    (older, or nobody looked for a tilt) reads as before, and "looked, no tilt" stays
    apart from "never looked"."""
    sig = compute_signatures(_decoded(_photo(4)))
    turned = (1, 2, 3, *range(10, 53))
    for straightened in (None, (), turned):
        with_them = replace(sig, straightened_hashes=straightened)
        assert Signatures.from_bytes(with_them.to_bytes()) == with_them
    assert len(replace(sig, straightened_hashes=turned).to_bytes()) <= 2048
    assert set(turned) <= set(index_keys(replace(sig, straightened_hashes=turned)))
    assert set(index_keys(sig)).isdisjoint(turned)


def test_from_bytes_refuses_damaged_records() -> None:
    sig = compute_signatures(_decoded(_photo(2)))
    data = sig.to_bytes()
    turned = replace(sig, straightened_hashes=(7, 8, 9)).to_bytes()
    for bad in (data[:10], data[:-1], data + b"x", bytes([99]) + data[1:], turned[:-1],
                turned + b"\0" * 8, data + b"\x05\x00"):
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


def _on_a_phone(picture: Image.Image, width: int, background: tuple[int, int, int]
                ) -> tuple[Image.Image, int, int]:
    """`picture` re-screenshotted: `width` px wide, centred in a 720 x 1560 screen under
    a status bar's clock and battery and over a home bar; with its top and height."""
    screen = Image.new("RGB", (720, 1560), background)
    inner = picture.resize((width, round(picture.height * width / picture.width)))
    top = (screen.height - inner.height) // 2
    screen.paste(inner, ((screen.width - width) // 2, top))
    ink = tuple(255 - c for c in background)
    draw = ImageDraw.Draw(screen)
    draw.text((30, 14), "9:41", fill=ink, font=ImageFont.load_default(28))
    draw.rectangle((630, 18, 686, 40), outline=ink, width=3)
    draw.rectangle((270, 1525, 450, 1531), fill=ink)
    return screen, top, inner.height


def test_a_wide_picture_re_screenshotted_on_a_phone_is_its_canonical_region() -> None:
    """A picture too wide for the phone fills a band of its screen under a fifth of its
    height, between flat margins: its canonical region, not a sliver of noise, so the
    copy's canonical hash is near the picture's own (the whole screen's was not)."""
    wide = _photo(7, (1000, 290))
    base = compute_signatures(_decoded(wide))
    for background in ((0, 0, 0), (255, 255, 255)):
        screen, top, height = _on_a_phone(wide, 700, background)
        assert height < 0.2 * screen.height  # the premise: a band the sliver rule refused
        sig = compute_signatures(_decoded(screen, "JPEG", quality=85))
        x, y, w, h = sig.canon_box
        assert abs(y - top) <= 8 and abs(h - height) <= 16, (sig.canon_box, top, height)
        assert abs(x - 10) <= 8 and abs(w - 700) <= 16
        assert hamming(sig.canon_hash, base.canon_hash) <= 8


def test_a_line_of_text_on_a_blank_phone_screen_is_no_picture() -> None:
    """A band under MIN_LETTERBOXED of the height (one line of print across a blank
    screen) is still a sliver: the whole screen stays the canonical region."""
    screen = Image.new("RGB", (720, 1560), (240, 240, 240))
    ImageDraw.Draw(screen).text((10, 770), "paid in full, thank you " * 4, fill=(30, 30, 30),
                                font=ImageFont.load_default(20))
    x, y, w, h = compute_signatures(_decoded(screen)).canon_box
    # Only the phone bars cut: nothing trimmed to the line.
    assert (x, w) == (0, 720) and y <= 0.06 * 1560 and h >= 0.8 * 1560


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


def _file(img: Image.Image, fmt: str, **kw: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_a_jpeg_is_hashed_from_a_reduced_decode_close_to_the_full_one() -> None:
    # 1080x2340 has a working factor of 6: decoded at 1/2 scale, then reduced by 3.
    img = _photo(20, (1080, 2340))
    data = _file(img, "JPEG", quality=90)
    reduced = decode(data, 50_000_000, reduced=lambda w, h: (-(-w // 2), -(-h // 2)))
    assert reduced.image.size == (540, 1170) and reduced.image.mode == "L"
    assert (reduced.width, reduced.height) == (1080, 2340)

    full = compute_signatures(decode(data, 50_000_000))
    fast = file_signatures(data, 50_000_000, decode(data, 50_000_000))
    _assert_nearly_equal(fast, full)
    # One path for index and query: the same file always gives the same record.
    assert file_signatures(data, 50_000_000) == fast


def _assert_nearly_equal(fast: Signatures, full: Signatures) -> None:
    assert (fast.width, fast.height, fast.canon_box) == (full.width, full.height, full.canon_box)
    assert hamming(fast.global_hash, full.global_hash) <= 2
    assert hamming(fast.canon_hash, full.canon_hash) <= 2
    assert max(hamming(a, b) for a, b in zip(fast.window_hashes, full.window_hashes,
                                             strict=True)) <= 4
    diff = np.abs(fast.thumb_array().astype(int) - full.thumb_array().astype(int))
    assert diff.mean() < 1.0


def test_formats_that_cannot_be_decoded_reduced_keep_the_callers_decode() -> None:
    img = _photo(21, (1080, 2340))
    png = _file(img, "PNG")
    decoded = decode(png, 50_000_000, reduced=lambda w, h: (w // 2, h // 2))
    assert decoded.image.size == (1080, 2340) and decoded.image.mode == "RGB"
    assert file_signatures(png, 50_000_000) == compute_signatures(decode(png, 50_000_000))
    # A working factor no DCT scale divides (1920 // 384 = 5): a JPEG's luma at full size.
    wide = _file(_photo(22, (1920, 1080)), "JPEG", quality=90)
    _assert_nearly_equal(file_signatures(wide, 50_000_000),
                         compute_signatures(decode(wide, 50_000_000)))

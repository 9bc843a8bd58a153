"""Fuzzing of the decoding and parsing paths with hypothesis (a nightly target, not CI).

Each target gets mutated valid inputs (real images, zips, manifests with bytes flipped,
cut and spliced) and must either succeed or raise its own typed error — never anything
else, never hang; and PNGs must decode to the same pixels, or be refused alike, with
Wuffs and with Pillow. The near-duplicate engine gets pairs of valid pictures of any
shape, from a pixel to a 3000 px strip, the second often a crop or a rescale of the
first, and must compare them both ways without raising. Prints examples run per target
and the first failure, if any.

    .venv/bin/python bench/fuzz.py --examples 5000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.swap import PILLOW_PNG, replaced  # noqa: E402
from proofcheck import features, forensics  # noqa: E402
from proofcheck.archive import ArchiveError, ArchiveLimits, SafeArchive  # noqa: E402
from proofcheck.candidates import verify_candidates  # noqa: E402
from proofcheck.forensics.synth import png_bytes  # noqa: E402
from proofcheck.imaging import DecodedImage, ImageError, decode, probe  # noqa: E402
from proofcheck.pixelmatch import compare_images, diff_heatmap_png  # noqa: E402
from proofcheck.submission import SubmissionError, parse_meta  # noqa: E402
from proofcheck.views import query_views, stored_signatures  # noqa: E402
from tests.hostile import _image, plain_picture  # noqa: E402
from tests.test_imaging import _png_variants  # noqa: E402

SEEDS = [_image(fmt, size=(64, 48), seed=n) for n, fmt in enumerate(("PNG", "JPEG", "WEBP",
                                                                      "GIF"))]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "splice"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[position: position + draw(st.integers(1, 64))]
        elif op == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        else:
            other = draw(st.sampled_from(seeds))
            data[position:] = other[draw(st.integers(0, len(other) - 1)):]
    return bytes(data)


# The engine target decodes its pictures with this limit, and draws them within it: a
# larger one is refused with an ImageError (as the service refuses one over its own).
ENGINE_MAX_PIXELS = 20_000_000


@st.composite
def picture_pairs(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Two PNGs: any shape (a side of 1-80 px as often as 80-3000, under 3 Mpx), flat,
    noise, rules or blocks; the second a crop, a rescale, a tilt (which the engine
    turns upright: `views.straightened`) or another picture."""
    def side() -> int:
        return draw(st.one_of(st.integers(1, 80), st.integers(80, 3000)))

    def shape() -> tuple[int, int]:
        width, height = side(), side()
        while width * height > 3_000_000:
            width, height = max(1, width // 2), max(1, height // 2)
        return width, height

    kinds = st.sampled_from(["noise", "flat", "rules", "blocks"])
    first = plain_picture(*shape(), draw(kinds), draw(st.integers(0, 2**16)))
    how = draw(st.sampled_from(["crop", "rescale", "tilt", "other"]))
    if how == "crop":
        x0, y0 = draw(st.integers(0, first.width - 1)), draw(st.integers(0, first.height - 1))
        second = first.crop((x0, y0, draw(st.integers(x0 + 1, first.width)),
                             draw(st.integers(y0 + 1, first.height))))
    elif how == "rescale":
        # Up to 3x, within ENGINE_MAX_PIXELS.
        factor = draw(st.floats(0.05, min(3.0, 0.99 * (ENGINE_MAX_PIXELS / (
            first.width * first.height)) ** 0.5)))
        second = first.resize((max(1, round(first.width * factor)),
                               max(1, round(first.height * factor))))
    elif how == "tilt":
        second = first.rotate(draw(st.floats(-8.0, 8.0)), resample=Image.Resampling.BILINEAR,
                              expand=draw(st.booleans()))
    else:
        second = plain_picture(*shape(), draw(kinds), draw(st.integers(0, 2**16)))
    return png_bytes(first), png_bytes(second)


def fuzz_engine(pair: tuple[bytes, bytes]) -> None:
    """Signatures, the pixel comparison both ways, its heat-map and the worker's
    candidate verification on two valid pictures: nothing may raise."""
    decoded: list[DecodedImage] = [decode(data, ENGINE_MAX_PIXELS) for data in pair]
    signatures = [stored_signatures(data, ENGINE_MAX_PIXELS, d)
                  for data, d in zip(pair, decoded, strict=True)]
    for q, o in ((0, 1), (1, 0)):
        verdict = compare_images(decoded[q], decoded[o], signatures[q], signatures[o])
        diff_heatmap_png(decoded[q], decoded[o], verdict)
        verify_candidates(query_views(signatures[q], decoded[q]), [(o, signatures[o])],
                          decoded.__getitem__, lambda item: features.sketch(decoded[item].image))


def _zip(manifest: bytes, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest)
        archive.writestr("a.png", payload)
    return out.getvalue()


# One PNG of each kind Wuffs decodes (RGB, RGBA, grey with and without alpha, palette,
# 1-4 bit, interlaced, with gAMA and sRGB chunks).
PNG_SEEDS = [data for data, wuffs in _png_variants().values() if wuffs]
ZIP_SEEDS = [_zip(json.dumps({"items": [{"filename": "a.png"}]}).encode(), SEEDS[0])]
LIMITS = ArchiveLimits(max_entries=100, max_total_bytes=10_000_000, max_entry_bytes=5_000_000,
                       max_ratio=200)


def fuzz_decode(data: bytes) -> None:
    with contextlib.suppress(ImageError):
        decode(data, max_pixels=20_000_000)
    with contextlib.suppress(ImageError):
        probe(data, max_pixels=20_000_000)


def fuzz_archive(data: bytes) -> None:
    try:
        archive = SafeArchive(io.BytesIO(data), LIMITS)
        manifest = archive.manifest()
        for item in manifest.get("items", [])[:10]:
            if isinstance(item, dict):
                archive.read(str(item.get("filename", "")))
    except ArchiveError:
        pass


def fuzz_forensics(data: bytes) -> None:
    """Every forensic family on a mutated file that still decodes: signal errors are
    reported inside the signals, so nothing may raise."""
    try:
        decoded = decode(data, max_pixels=20_000_000)
    except ImageError:
        return
    forensics.run_all(data, decoded, None)


def _decoded_pixels(data: bytes) -> bytes | None:
    try:
        return decode(data, max_pixels=20_000_000).image.tobytes()
    except ImageError:
        return None


def fuzz_png_decoders(data: bytes) -> None:
    """Wuffs (`imaging._png_pixels`) and Pillow agree on every PNG: both refuse it, or
    both give the same pixels. A decoder that accepted damaged pixel data Pillow
    refuses would sign other pixels than the file's."""
    with_wuffs = _decoded_pixels(data)
    with replaced(PILLOW_PNG):
        with_pillow = _decoded_pixels(data)
    assert with_wuffs == with_pillow, "Wuffs and Pillow decode this PNG differently"


def fuzz_meta(fields: dict[str, str]) -> None:
    with contextlib.suppress(SubmissionError):
        parse_meta(fields, 5000)


TARGETS: dict[str, tuple[Callable[..., None], st.SearchStrategy]] = {
    "decode": (fuzz_decode, mutated(SEEDS)),
    "archive": (fuzz_archive, mutated(ZIP_SEEDS)),
    "forensics": (fuzz_forensics, mutated(SEEDS)),
    "png": (fuzz_png_decoders, mutated(PNG_SEEDS)),
    "engine": (fuzz_engine, picture_pairs()),
    "meta": (fuzz_meta, st.dictionaries(
        st.sampled_from(["account", "post_id", "posted_at", "caption", "kind", "callback_url"]),
        st.text(max_size=300))),
}


def _runner(target: Callable[..., None], strategy: st.SearchStrategy, examples: int,
            count: list[int]) -> Callable[[], None]:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value: object) -> None:
        count[0] += 1
        target(value)

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma list of targets (default all)")
    args = parser.parse_args()
    failures = 0
    chosen = args.only.split(",") if args.only else list(TARGETS)
    for name, (target, strategy) in TARGETS.items():
        if name not in chosen:
            continue
        count = [0]
        run = _runner(target, strategy, args.examples, count)
        started = time.perf_counter()
        try:
            run()
            outcome = "ok"
        except Exception:
            failures += 1
            outcome = "FAILED\n" + traceback.format_exc(limit=6)
        print(f"{name:8s} {count[0]:6d} examples in {time.perf_counter() - started:6.1f} s: "
              f"{outcome}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

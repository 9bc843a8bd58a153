"""The worker's cache of candidates' grey pixels: what it keeps, what it evicts, and that
a search verifies the same with it as with every candidate decoded from storage."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from proofcheck import processing
from proofcheck.hashing import file_signatures
from proofcheck.imaging import DecodedImage, ImageError, decode
from proofcheck.pixelcache import PixelCache
from tests.conftest import image_bytes, run_worker
from tests.test_api import post_check
from tests.test_matching import receipt

MAX_PIXELS = 50_000_000


class Decoder:
    """Decodes real files and counts how often it was asked to."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: bytes) -> DecodedImage:
        self.calls += 1
        return decode(data, MAX_PIXELS)


def test_the_second_request_is_served_grey_without_a_decode():
    data = image_bytes(size=(360, 640), seed=5, text="Paid 1,250 KSh")
    decoder, cache = Decoder(), PixelCache(10 * 1024 * 1024)
    first = cache.get("a" * 64, lambda: decoder(data))
    again = cache.get("a" * 64, lambda: decoder(data))
    assert decoder.calls == 1 and again is first
    assert (cache.hits, cache.misses) == (1, 1)
    assert first.image.mode == "L" and (first.width, first.height) == (360, 640)
    expected = np.asarray(decode(data, MAX_PIXELS).image.convert("L"))
    assert np.array_equal(np.asarray(first.image), expected)
    # Its colour is kept beside it at a quarter of the size each way, for `colourcheck`.
    assert first.chroma is not None and first.chroma.shape == (160, 90, 2)
    expected_colour = np.asarray(decode(data, MAX_PIXELS).image.reduce(4).convert("YCbCr"))
    assert np.array_equal(first.chroma, expected_colour[..., 1:])
    assert cache.bytes_held == 360 * 640 + 160 * 90 * 2


def test_the_least_recently_used_image_leaves_first_when_the_budget_is_full():
    files = {name: image_bytes(size=(200, 300), seed=seed)
             for seed, name in enumerate(("a", "b", "c"), start=20)}
    decoder, cache = Decoder(), PixelCache(2 * (200 * 300 + 75 * 50 * 2))  # room for two
    for name in ("a", "b"):
        cache.get(name, lambda name=name: decoder(files[name]))
    cache.get("a", lambda: decoder(files["a"]))  # a is now the most recent
    cache.get("c", lambda: decoder(files["c"]))  # evicts b
    assert decoder.calls == 3
    cache.get("a", lambda: decoder(files["a"]))
    assert decoder.calls == 3
    cache.get("b", lambda: decoder(files["b"]))
    assert decoder.calls == 4 and cache.bytes_held <= 2 * (200 * 300 + 75 * 50 * 2)


def test_an_image_over_the_budget_and_a_zero_budget_keep_nothing():
    data = image_bytes(size=(400, 400), seed=7)
    for budget in (0, 400 * 400 - 1):
        decoder, cache = Decoder(), PixelCache(budget)
        for _ in range(2):
            assert cache.get("x", lambda: decoder(data)).image.size == (400, 400)  # noqa: B023
        assert decoder.calls == 2 and cache.bytes_held == 0


def test_a_failed_decode_passes_its_error_through_and_is_not_remembered():
    cache = PixelCache(1024 * 1024)
    for _ in range(2):
        with pytest.raises(ImageError):
            cache.get("bad", lambda: decode(b"\x89PNG\r\n\x1a\nnot a png", MAX_PIXELS))
    assert cache.misses == 2 and cache.bytes_held == 0


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_search_verifies_the_same_with_cached_pixels(client, auth, services):
    """Three receipts of one bank and a rotated copy of one, through the real worker; the
    same search then runs with every candidate decoded, with a cold cache and a warm
    one: identical verdicts, and the warm search decodes nothing."""
    originals = [receipt(60 + k) for k in range(3)]
    ids = [post_check(client, auth, _jpeg(img), name=f"r{k}.jpg",
                      account=f"instagram:@shop{k}").get_json()["checks"][0]["id"]
           for k, img in enumerate(originals)]
    run_worker(services)
    copy = _jpeg(originals[0].rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white"))
    decoded = decode(copy, MAX_PIXELS)
    signature = file_signatures(copy, MAX_PIXELS, decoded)

    def search() -> list[tuple[str, str, float]]:
        found = processing.near_duplicates_of(services, set(), signature, decoded)
        return [(s.check_id, v.relation, v.score) for s, v in found]

    services.candidate_pixels = PixelCache(0)
    uncached = search()
    services.candidate_pixels = cache = PixelCache(64 * 1024 * 1024)
    cold = search()
    misses = cache.misses
    warm = search()
    assert uncached == cold == warm
    assert uncached[0][:2] in ((ids[0], "cropped"), (ids[0], "resized"))
    assert misses == 3 and cache.misses == misses and cache.hits >= 3

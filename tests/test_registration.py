"""Alignment by spectra (`registration`) where keypoints cannot align a pair, and the
copies of lattices and smooth pictures it lets the pixel checks find."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from proofcheck import features
from proofcheck.features import FeatureAlignment
from proofcheck.imaging import DecodedImage, decode
from proofcheck.matching import DUPLICATE_RELATIONS
from proofcheck.pixelmatch import compare_images, diff_heatmap_png
from proofcheck.registration import register
from tests.test_matching import chat


def _checkerboard(square: int, size: int = 320) -> Image.Image:
    cells = (np.indices((size, size)) // square).sum(axis=0) % 2
    return Image.fromarray((cells * 255).astype(np.uint8)).convert("RGB")


def _smooth(seed: int, size: tuple[int, int] = (640, 400)) -> Image.Image:
    """A few broad colour blobs, a fold and a stroke: a gradient wallpaper, with too
    few corners for keypoints."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    out = np.zeros((size[1], size[0], 3), np.float32)
    for _ in range(5):
        cx, cy = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        spread = rng.uniform(0.15, 0.35) * size[0]
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * spread**2))
        out += blob[..., None] * rng.uniform(40, 200, 3)
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    w, h = size
    fold = [(rng.uniform(0.1, 0.4) * w, rng.uniform(0.5, 0.9) * h),
            (rng.uniform(0.5, 0.7) * w, rng.uniform(0.2, 0.4) * h),
            (rng.uniform(0.6, 0.9) * w, rng.uniform(0.6, 0.9) * h)]
    draw.polygon(fold, fill=tuple(int(v) for v in rng.integers(90, 230, 3)))
    draw.arc((w // 5, h // 4, w, h * 2), 190, 300, fill=(250, 220, 120), width=9)
    return image.filter(ImageFilter.GaussianBlur(1.5))


def _decoded(image: Image.Image) -> DecodedImage:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return decode(buffer.getvalue(), 10**8)


def _turned(image: Image.Image, degrees: float) -> tuple[Image.Image, FeatureAlignment]:
    """`image` turned about its centre as PIL turns it, and the true transform."""
    rot = -np.radians(degrees)  # PIL turns counter-clockwise on the screen
    c, s = np.cos(rot), np.sin(rot)
    cx, cy = image.width / 2, image.height / 2
    truth = FeatureAlignment(1.0, rot, cx - (c * cx - s * cy), cy - (s * cx + c * cy), 0)
    return image.rotate(degrees, resample=Image.Resampling.BILINEAR), truth


def _off_by(found: FeatureAlignment, truth: FeatureAlignment, query: Image.Image,
            other: Image.Image) -> float:
    """How far from where `truth` does `found` maps the query's inner points onto the
    other, as a share of the other's longest side."""
    xs = np.array([0.25, 0.75, 0.25, 0.75]) * query.width
    ys = np.array([0.25, 0.25, 0.75, 0.75]) * query.height
    fx, fy = found.to_other(xs, ys)
    tx, ty = truth.to_other(xs, ys)
    return float(np.hypot(fx - tx, fy - ty).max()) / max(other.size)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_turned_smooth_picture_is_registered_where_it_was_turned(seed: int) -> None:
    original = _smooth(seed)
    copy, truth = _turned(original, 5.0)
    found = register(copy, original)
    assert found is not None
    assert abs(np.degrees(found.rot - truth.rot)) < 0.5
    assert _off_by(found, truth, copy, original) < 0.01


@pytest.mark.parametrize("box", [(17, 9, 513, 319), (120, 70, 640, 400)])
def test_a_crop_is_registered_at_its_offset(box: tuple[int, int, int, int]) -> None:
    original = _smooth(3)
    copy = original.crop(box)
    found = register(copy, original)
    assert found is not None
    truth = FeatureAlignment(1.0, 0.0, -box[0], -box[1], 0)
    assert _off_by(found, truth, copy, original) < 0.01


def test_a_half_size_copy_is_registered_at_half_its_scale() -> None:
    original = _smooth(4)
    copy = original.resize((320, 200), Image.Resampling.BILINEAR)
    found = register(copy, original)
    assert found is not None
    assert found.sx == pytest.approx(0.5, abs=0.02)
    # Scale is read to a percent or so (the blocks fit what is left): 2% off at most.
    assert _off_by(found, FeatureAlignment(0.5, 0.0, 0.0, 0.0, 0), copy, original) < 0.02


def test_other_smooth_pictures_do_not_register_on_each_other() -> None:
    # Some shift always correlates best; their edges do not agree at it.
    for seed in range(1, 5):
        assert register(_turned(_smooth(seed), 5.0)[0], _smooth(seed + 10)) is None


def test_a_blank_picture_has_nothing_to_register() -> None:
    assert register(Image.new("RGB", (300, 200), (40, 90, 200)), _smooth(1)) is None


def test_a_lattice_and_a_gradient_are_indistinct_to_keypoints_and_a_chat_is_not() -> None:
    assert not features.indistinct(chat(1))
    assert features.indistinct(_checkerboard(40))  # hundreds of corners, all alike
    assert features.indistinct(_smooth(1))  # under 300 corners at the lowest threshold


@pytest.mark.parametrize("make", ["turned", "cropped"])
def test_a_copy_of_a_lattice_is_found_where_keypoints_find_none(make: str) -> None:
    # skimage's checkerboard as bench/duplicates.py has it; before registration, its
    # turned copy was `similar` and this 60% crop nothing at all.
    original = _checkerboard(25, 200)
    copy = (_turned(original, 5.0)[0] if make == "turned"
            else original.crop((13, 9, 13 + 155, 9 + 155)))
    # Every corner of a checkerboard has a twin: the ratio test keeps no match.
    assert features.align(copy, original) is None
    verdict = compare_images(_decoded(copy), _decoded(original))
    assert verdict is not None and verdict.relation in ("cropped", "resized")


def test_a_lattice_of_another_period_is_not_a_copy() -> None:
    # Registered at its best shift, a lattice of other squares disagrees block by block.
    verdict = compare_images(_decoded(_checkerboard(32).rotate(5)), _decoded(_checkerboard(40)))
    assert verdict is None or verdict.relation not in DUPLICATE_RELATIONS


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (1, 900), (3, 2000), (2000, 3), (5, 7)])
def test_slivers_and_specks_register_or_say_none_without_raising(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(size[0] * 7 + size[1])
    sliver = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    for query, other in ((sliver, _smooth(1)), (_smooth(1), sliver), (sliver, sliver)):
        found = register(query, other)
        assert found is None or np.isfinite([found.sx, found.rot, found.tx, found.ty]).all()


def test_the_heat_map_of_a_lattice_found_on_its_spectra_glows_on_its_edit() -> None:
    # The evidence is aligned as the verdict was: on keypoints alone (none here) the
    # heat-map of this turned, edited board showed nothing at all.
    board = _checkerboard(25, 200).filter(ImageFilter.GaussianBlur(0.8))  # soft edges
    edited = board.copy()
    ImageDraw.Draw(edited).rectangle((60, 60, 120, 110), fill=(128, 128, 128))
    query, original = _decoded(_turned(edited, 5.0)[0]), _decoded(board)
    verdict = compare_images(query, original)
    assert verdict is not None and verdict.relation == "edited"
    heat = np.asarray(Image.open(io.BytesIO(diff_heatmap_png(query, original, verdict)))
                      .convert("RGB")).astype(int)
    redness = heat[..., 0] - heat[..., 1]
    place = Image.new("L", board.size)
    ImageDraw.Draw(place).rectangle((60, 60, 120, 110), fill=255)
    inside = np.asarray(place.rotate(5).resize((heat.shape[1], heat.shape[0]))) > 0
    away_from_corners = np.zeros_like(inside)
    away_from_corners[25:-25, 25:-25] = True  # the turn's blank corners differ too
    assert redness[inside].mean() > 100, redness[inside].mean()
    assert redness[away_from_corners & ~inside].mean() < 20

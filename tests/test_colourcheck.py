"""Edits in colour alone: print whose grey level is its background's, which the grey
verification cannot see, found by comparing the aligned pair's colour."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from proofcheck.colourcheck import CHROMA_FACTOR, chroma_plane
from proofcheck.imaging import DecodedImage, to_grey
from proofcheck.pixelmatch import compare_images
from tests.test_matching import chat, dec, overlaps

# The chat's background (230, 221, 212) is grey level 222.7; this yellow is 222.9.
SAME_GREY_YELLOW = (255, 250, 0)
PAINT_BOX = (40, 520, 440, 680)  # background, between chat(34)'s bubbles


def painted(img: Image.Image) -> Image.Image:
    """`img` with "PAID" painted on the background, in a colour of its grey level."""
    out = img.copy()
    ImageDraw.Draw(out).text((PAINT_BOX[0] + 10, PAINT_BOX[1] + 10), "PAID",
                             fill=SAME_GREY_YELLOW, font=ImageFont.load_default(size=120))
    return out


def kept_grey(decoded: DecodedImage) -> DecodedImage:
    """As the worker's pixel cache keeps a candidate: grey, its colour reduced beside it."""
    return replace(decoded, image=to_grey(decoded.image), chroma=chroma_plane(decoded.image))


def test_paint_in_the_grey_of_its_background_is_an_edit_boxed_where_it_is():
    original = chat(34)
    assert len(original.crop(PAINT_BOX).getcolors()) == 1  # nothing there before
    copy = painted(original)
    assert len(copy.crop(PAINT_BOX).getcolors()) > 1
    grey_copy, grey_original = (np.asarray(im.convert("L"), dtype=int)
                                for im in (copy, original))
    # Invisible in grey: the paint is at most a grey level or two off its background.
    assert np.abs(grey_copy - grey_original).max() <= 2
    for other in (dec(original), kept_grey(dec(original))):
        v = compare_images(dec(copy, "JPEG", quality=90), other)
        assert v is not None and v.relation == "edited"
        assert overlaps(v.changed_box, PAINT_BOX)
        assert v.changed_box is not None and v.changed_box[2] * v.changed_box[3] < 0.1 * 1080 * 2340


def test_copies_that_change_colour_all_over_are_not_edits():
    original = chat(32)
    grey_copy = original.convert("L").convert("RGB")
    brighter = ImageEnhance.Brightness(original).enhance(1.3)
    warmer = ImageEnhance.Color(original).enhance(1.6)
    for copy in (grey_copy, brighter, warmer):  # the brighter one is not compared
        v = compare_images(dec(copy, "JPEG", quality=85), dec(original))
        assert v is not None and v.relation == "resized", v


def test_a_grey_image_has_no_colour_plane_and_a_colour_one_is_kept_reduced():
    img = chat(33)
    plane = chroma_plane(img)
    assert plane is not None and plane.dtype == np.uint8
    assert plane.shape == (img.height // CHROMA_FACTOR, img.width // CHROMA_FACTOR, 2)
    assert chroma_plane(img.convert("L")) is None
    # A grey-looking image in RGB is (nearly) neutral: Cb and Cr at 128.
    neutral = chroma_plane(img.convert("L").convert("RGB"))
    assert neutral is not None and np.abs(neutral.astype(int) - 128).max() <= 1


def test_a_grey_copy_of_a_picture_with_one_coloured_spot_is_no_edit():
    """Too little colour to measure a grey copy's gain by (a spot in two blocks): the
    spot's colour gone passed for an edit there (bench/duplicates.py's GIMP histogram
    dialog with one tinted range). Where a spot falls on the blocks decides that, so
    several are tried; without GREY_CHROMA the first two were `edited`. The other way
    round the spot is colour the grey picture lacks, as paint would be: an edit."""
    small = chat(35).convert("L").resize((250, 540), Image.Resampling.LANCZOS)
    for x, y, w, h in ((120, 300, 20, 12), (120, 300, 24, 16), (60, 200, 20, 12)):
        original = small.convert("RGB")
        ImageDraw.Draw(original).rectangle((x, y, x + w, y + h), fill=(40, 90, 230))
        grey_copy = original.convert("L").convert("RGB")
        v = compare_images(dec(grey_copy, "PNG"), dec(original))
        assert v is not None and v.relation == "resized", (x, y, v)
        painted_over = compare_images(dec(original, "PNG"), dec(grey_copy))
        assert painted_over is not None and painted_over.relation == "edited", (x, y)
        assert overlaps(painted_over.changed_box, (x, y, x + w, y + h))

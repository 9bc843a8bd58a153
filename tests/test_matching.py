"""Pair verification on rendered chats and receipts: relations, edited boxes, search."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont
from scipy import ndimage

from bench.build_dataset import paste_into_phone, render_chat
from proofcheck import blockmatch, candidates, features, matching, pixelmatch
from proofcheck.blockmatch import BlockCheck, check_blocks
from proofcheck.candidates import find_matches
from proofcheck.forensics.synth import photo
from proofcheck.hashing import Signatures, compute_signatures, index_keys
from proofcheck.imaging import DecodedImage, decode
from proofcheck.index import HammingIndex
from proofcheck.matching import DUPLICATE_RELATIONS, PairVerdict, compare
from proofcheck.pixelmatch import compare_images, diff_heatmap_png
from proofcheck.scoring import render
from proofcheck.views import query_views, skew_degrees, with_straightened
from tests.hostile import plain_picture

W, H = 1080, 2340
WORDS = [
    "hello", "thanks", "paid", "order", "parcel", "today", "price", "size", "delivery",
    "address", "ok", "great", "when", "tracking", "box", "original", "money", "card",
    "bank", "confirm", "shipped", "arrived", "love", "seller",
]
AMOUNT_BOX = (100, 640, 980, 780)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def chat(seed: int) -> Image.Image:
    """A messenger screenshot; every seed has the same app chrome, other messages."""
    rng = random.Random(seed)
    img = Image.new("RGB", (W, H), (230, 221, 212))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, W, 250), fill=(10, 90, 80))
    d.text((60, 20), f"{rng.randint(10, 23)}:{rng.randint(10, 59)}", fill="white", font=_font(40))
    d.ellipse((60, 110, 180, 230), fill=(200, 150, 90))
    d.text((220, 140), rng.choice(WORDS).title(), fill="white", font=_font(56))
    y = 300
    while y < H - 350:
        out = rng.random() < 0.5
        n_lines = rng.randint(1, 4)
        bw = rng.randint(380, 900)
        x0 = W - 40 - bw if out else 40
        d.rounded_rectangle((x0, y, x0 + bw, y + 60 * n_lines + 50), radius=26,
                            fill=(214, 246, 190) if out else (255, 255, 255))
        for i in range(n_lines):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
            d.text((x0 + 28, y + 22 + 60 * i), words, fill=(20, 20, 20), font=_font(44))
        y += 60 * n_lines + 50 + rng.randint(25, 60)
    d.rectangle((0, H - 250, W, H), fill=(230, 221, 212))
    d.rounded_rectangle((30, H - 220, W - 170, H - 110), radius=55, fill="white")
    d.ellipse((W - 150, H - 225, W - 30, H - 105), fill=(10, 90, 80))
    return img


def draw_amount(img: Image.Image, amount: str) -> None:
    d = ImageDraw.Draw(img)
    d.rectangle(AMOUNT_BOX, fill=(248, 248, 250))
    d.text((180, 660), f"{amount} USD", fill=(10, 10, 20), font=_font(100))


def receipt(seed: int) -> Image.Image:
    """A transfer receipt of one bank; every seed has other values in the same layout."""
    rng = random.Random(seed)
    img = Image.new("RGB", (W, H), (248, 248, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, W, 320), fill=(20, 70, 140))
    d.text((240, 150), "Harbor Bank", fill="white", font=_font(70))
    d.ellipse((440, 380, 640, 580), fill=(40, 180, 90))
    draw_amount(img, f"{rng.randint(100, 999)},{rng.randint(100, 999)}.{rng.randint(10, 99)}")
    labels = ("From", "To", "Card", "Date", "Reference", "Note")
    for i, label in enumerate(labels):
        y = 900 + 150 * i
        value = " ".join(rng.choice(WORDS) for _ in range(2)).title() + f" {rng.randint(10, 99999)}"
        d.text((100, y), label, fill=(120, 120, 130), font=_font(42))
        d.text((420, y), value, fill=(20, 20, 30), font=_font(46))
        d.line((100, y + 100, W - 100, y + 100), fill=(225, 225, 230), width=3)
    d.rounded_rectangle((120, 2000, W - 120, 2130), radius=60, fill=(20, 70, 140))
    return img


def dec(img: Image.Image, fmt: str = "PNG", **kw: int) -> DecodedImage:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return decode(buf.getvalue(), 50_000_000)


def sig(img: Image.Image, fmt: str = "PNG", **kw: int) -> Signatures:
    return compute_signatures(dec(img, fmt, **kw))


def overlaps(box: tuple[int, int, int, int] | None, ref: tuple[int, int, int, int]) -> bool:
    assert box is not None
    x, y, w, h = box
    return x < ref[2] and ref[0] < x + w and y < ref[3] and ref[1] < y + h


def rescreenshot(img: Image.Image) -> Image.Image:
    """Pasted smaller into another phone's screen with its own status bar."""
    out = Image.new("RGB", (W, H), (0, 0, 0))
    inner = img.resize((int(W * 0.85), int(H * 0.85)), Image.Resampling.BILINEAR)
    out.paste(inner, ((W - inner.width) // 2, (H - inner.height) // 2))
    d = ImageDraw.Draw(out)
    d.text((40, 20), "9:41", fill="white", font=_font(40))
    d.rectangle((950, 25, 1030, 58), outline="white", width=4)
    return out


def wide_dialog() -> Image.Image:
    """A wide, sparse desktop dialog, shaped like GIMP's animation playback (741 x 224):
    flat grey, a title, a few icons, a blank preview, short labels."""
    img = Image.new("RGB", (740, 224), (220, 220, 218))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 739, 24), fill=(200, 198, 195))
    d.text((200, 5), "Animation Playback: [blend] (imported)", fill=(20, 20, 20), font=_font(13))
    for i, x in enumerate((8, 40, 70, 100, 150, 185)):
        d.polygon([(x, 32), (x + 20, 42), (x, 52)], fill=(60 + 30 * i, 90, 160))
    d.rectangle((4, 60, 735, 180), outline=(150, 150, 150))
    d.rectangle((320, 66, 420, 170), fill=(255, 255, 255))
    d.rectangle((345, 115, 395, 121), fill=(0, 0, 0))
    for x, label in ((8, "Cumulative layers (combine)"), (250, "1x"), (330, "10 fps"),
                     (420, "100.0 %"), (640, "Frame 1 of 4")):
        d.rectangle((x - 4, 186, x + 7 * len(label) + 20, 212), outline=(130, 130, 130))
        d.text((x, 192), label, fill=(40, 40, 40), font=_font(13))
    return img


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_wide_dialog_re_screenshotted_on_a_phone_is_found_both_ways(seed: int) -> None:
    """Pasted into a phone's screen it fills a band of an eighth of its height, with too
    few corners for the keypoints at the screen's scale: until that band was the
    screenshot's canonical region (`hashing.MIN_LETTERBOXED`), neither way found it."""
    original = wide_dialog()
    copy = paste_into_phone(original, random.Random(seed))
    query = dec(copy, "JPEG", quality=85)
    # The premise: even across the whole screen's width it is under a fifth of its height.
    assert original.height * copy.width / original.width < 0.2 * copy.height
    for verdict in (compare_images(query, dec(original)), compare_images(dec(original), query)):
        assert verdict is not None and verdict.relation in DUPLICATE_RELATIONS, verdict


def test_recompressed_smaller_copy_is_resized() -> None:
    original = chat(1)
    v = compare(sig(original.resize((540, 1170)), "JPEG", quality=40), sig(original))
    assert v is not None and v.relation == "resized"
    assert v.changed_box is None and 0.0 < v.score <= 1.0
    assert isinstance(v.distance, int) and v.distance <= 6


@pytest.mark.parametrize("box", [(0, 300, 1080, 2040), (90, 250, 1010, 2100)])
def test_cropped_copy_is_cropped_both_ways(box: tuple[int, int, int, int]) -> None:
    original = chat(2)
    cropped = original.crop(box)
    v = compare(sig(cropped, "JPEG", quality=80), sig(original))
    assert v is not None and v.relation == "cropped"
    back = compare(sig(original), sig(cropped, "JPEG", quality=80))
    assert back is not None and back.relation == "cropped"


def file_dialog(seed: int) -> Image.Image:
    """A small desktop dialog: a title bar across its width, two labelled fields, an
    expander and two buttons, and a blank band under them."""
    rng = random.Random(seed)
    img = Image.new("RGB", (505, 210), (232, 232, 230))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 505, 26), fill=(90, 90, 95))
    d.text((36, 6), " ".join(rng.choice(WORDS).title() for _ in range(4)), fill="white",
           font=_font(14))
    d.ellipse((455, 5, 471, 21), fill=(200, 200, 200))
    d.ellipse((478, 5, 494, 21), fill=(200, 200, 200))
    d.text((16, 40), rng.choice(WORDS).title() + ":", fill=(20, 20, 20), font=_font(14))
    d.rectangle((120, 37, 488, 60), fill="white", outline=(150, 150, 150))
    d.text((16, 81), " ".join(rng.choice(WORDS) for _ in range(3)) + ":", fill=(20, 20, 20),
           font=_font(14))
    d.rectangle((120, 75, 488, 102), fill=(240, 240, 238), outline=(150, 150, 150))
    d.text((140, 81), rng.choice(WORDS).title(), fill=(20, 20, 20), font=_font(14))
    d.polygon([(18, 120), (24, 125), (18, 130)], fill=(40, 40, 40))
    d.text((32, 118), " ".join(rng.choice(WORDS) for _ in range(4)), fill=(20, 20, 20),
           font=_font(14))
    for k, label in enumerate(("Cancel", "Save")):
        d.rectangle((315 + 92 * k, 162, 395 + 92 * k, 187), fill=(240, 240, 238),
                    outline=(130, 130, 130))
        d.text((335 + 92 * k, 167), label, fill=(20, 20, 20), font=_font(14))
    return img


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("left", [9, 27, 45])
def test_a_copy_cut_on_its_width_only_is_cropped(seed: int, left: int) -> None:
    """Cut on one axis, a copy's canonical region has another shape than its original's:
    the two regions matched whole squeezed one into the other, and the dialog's labels
    came out an edit, or the whole a template (bench/duplicates.py: GIMP's error
    console cropped to 80%). Regions of other shapes are aligned as crops."""
    original = file_dialog(seed)
    copy = original.crop((left, 2, left + 452, 190))
    v = compare(sig(copy), sig(original))
    assert v is not None and v.relation == "cropped", v
    v = compare_images(dec(copy), dec(original))
    assert v is not None and v.relation == "cropped", v


def slider_dialog(seed: int) -> Image.Image:
    """A dialog of sliders under a scale of ticks (GIMP's softglow is 380 x 309): a
    slider's middle is uniform along its rows, so a crop's canonical region trims to
    the scale, whose blocks match anywhere up and down its ticks."""
    rng = random.Random(seed)
    img = Image.new("RGB", (380, 326), (238, 238, 238))
    d = ImageDraw.Draw(img)
    d.ellipse((6, 6, 26, 26), outline=(60, 60, 60), width=3)
    d.text((34, 4), rng.choice(WORDS).title(), fill="black", font=_font(20))
    x = 0
    while x < 380:
        d.line((x, 54, x, 104), fill=(90, 90, 90), width=rng.randint(1, 4))
        x += rng.randint(6, 16)
    for k in range(3):
        top = 120 + 55 * k
        d.rectangle((6, top, 372, top + 46), fill=(228, 228, 228), outline=(170, 170, 170))
        fill_end = rng.choice((rng.randint(30, 70), rng.randint(320, 360)))
        d.rectangle((7, top + 1, fill_end, top + 45), fill=(200, 200, 200))
        d.text((10, top + 14), rng.choice(WORDS).title(), fill="black", font=_font(16))
        d.text((300, top + 14), f"{rng.randint(0, 99)},{rng.randint(100, 999)}",
               fill="black", font=_font(16))
    d.rectangle((6, 286, 372, 320), fill=(228, 228, 228), outline=(170, 170, 170))
    d.text((10, 294), rng.choice(WORDS).title(), fill="black", font=_font(16))
    d.text((290, 294), rng.choice(WORDS).title(), fill="black", font=_font(16))
    return img


@pytest.mark.parametrize("seed", range(3))
def test_a_crop_whose_canonical_region_cannot_pin_it_is_judged_where_it_lies(seed: int) -> None:
    """A slider dialog cut to 60% keeps one row of blocks in its canonical region,
    along lines that agree at any height: they cannot pin the pair, and its keypoint
    alignment came out `template` (bench/duplicates.py --seed 3: GIMP's softglow and
    palette-editor dialogs). The part of the dialog the crop covers is judged; another
    dialog of the layout is still no copy."""
    original, stranger = slider_dialog(seed), slider_dialog(seed + 50)
    others = [(dec(img), sig(img), relation)
              for img, relation in ((original, {"cropped"}), (stranger, {"template", None}))]
    for left, top in ((43, 43), (20, 50)):
        copy = original.crop((left, top, left + 294, top + 239))
        query, query_sig = dec(copy), sig(copy)
        for theirs, their_sig, relation in others:
            aligned = pixelmatch._pair_alignment(query.image, theirs.image)
            if "cropped" in relation:
                assert aligned is not None
                strip = check_blocks(query.image, theirs.image, query_sig.canon_box,
                                     their_sig.canon_box, aligned)
                assert strip is not None and not strip.agreement_pins_the_pair, strip
            v = aligned and pixelmatch._keypoint_verdict(query, theirs, query_sig, their_sig,
                                                         aligned, 8)
            assert (v.relation if v else None) in relation, (left, top, v)


@pytest.mark.parametrize("size", [(720, 720), (600, 900)])
def test_a_photo_squeezed_into_another_shape_is_a_copy_on_pixels(size: tuple[int, int]) -> None:
    """A shop posting a 720 x 900 stock photo at 720 x 720 (bench/scenario_pairs.py)
    stretches it: no crop lines it up, only the whole regions stretched onto each
    other, which the pixel checks try last. Before, `similar` both ways."""
    for seed in range(3):
        original = photo(720, 900, seed)
        squeezed = dec(original.resize(size, Image.Resampling.BICUBIC), "JPEG", quality=85)
        v = compare_images(squeezed, dec(original, "JPEG", quality=90))
        assert v is not None and v.relation == "resized", (seed, v)
        v = compare_images(dec(original, "JPEG", quality=90), squeezed)
        assert v is not None and v.is_duplicate, (seed, v)
        stranger = compare_images(dec(photo(*size, seed + 50)), dec(original))
        assert stranger is None or not stranger.is_duplicate, (seed, stranger)


@pytest.mark.parametrize("make", [chat, receipt])
def test_rescreenshot_in_another_phone_is_cropped(make: object) -> None:
    assert callable(make)
    original = make(3)
    v = compare(sig(rescreenshot(original), "JPEG", quality=85), sig(original))
    # Same content in another frame: a crop, seen from the frame's side.
    assert v is not None and v.relation == "cropped"


def playback_dialog(seed: int) -> Image.Image:
    """A wide, short, sparse dialog (GIMP's animation playback is 741 x 224): a title,
    a row of buttons, a preview, a row of fields and a few labels."""
    rng = random.Random(seed)
    img = Image.new("RGB", (740, 224), (222, 222, 222))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 740, 22), fill=(240, 240, 240))
    d.text((200, 4), f"Animation Playback: [{rng.choice(WORDS)}-{seed}]", fill="black",
           font=_font(13))
    for i in range(rng.randint(4, 7)):
        x = 8 + 30 * i
        d.polygon([(x, 32), (x + 16, 40), (x, 48)], fill=(60, 80, 140))
    d.rectangle((4, 62, 736, 178), outline=(150, 150, 150))
    preview = rng.randint(200, 440)
    d.rectangle((preview, 70, preview + 66, 168), fill="white")
    d.line((preview + 10, 118, preview + 56, 118), fill="black", width=5)
    x = 6
    for _ in range(5):
        w = rng.randint(60, 150)
        d.rectangle((x, 184, x + w, 204), outline=(120, 120, 120), fill=(230, 230, 230))
        d.text((x + 4, 188), rng.choice(WORDS).title(), fill="black", font=_font(12))
        x += w + 6
    d.text((620, 188), f"Frame 1 of {rng.randint(2, 9)}", fill="black", font=_font(12))
    for _ in range(6):
        x, y = rng.randrange(10, 600), rng.choice([70, 90, 110, 130, 150])
        if not preview - 100 < x < preview + 70:
            d.text((x, y), rng.choice(WORDS), fill=(40, 40, 40), font=_font(14))
    return img


def test_a_wide_dialog_pasted_small_into_a_phone_screen_is_judged_where_it_lies() -> None:
    """Re-screenshotted on a phone, a wide dialog fills an eighth of the screen: the
    screen's blocks, sampled for all of it, leave two or three rows of the dialog to
    judge, and the pair was then judged on nothing (none of these 6 found before). It is
    judged on where it lies; another dialog of the layout is still no copy."""
    found = 0
    for seed in range(6):
        original = playback_dialog(seed)
        copy = dec(paste_into_phone(original, random.Random(seed)), "JPEG", quality=85)
        verdict = compare_images(copy, dec(original))
        found += verdict is not None and verdict.relation == "cropped"
        other = compare_images(copy, dec(playback_dialog(seed + 50)))
        assert other is None or not other.is_duplicate, (seed, other)
    assert found >= 5


def test_repainted_amount_is_edited_with_a_box_on_the_amount() -> None:
    original = receipt(4)
    edited = original.copy()
    draw_amount(edited, "998,877.66")
    v = compare(sig(edited, "JPEG", quality=90), sig(original))
    assert v is not None and v.relation == "edited"
    assert overlaps(v.changed_box, AMOUNT_BOX)
    pv = compare_images(dec(edited, "JPEG", quality=90), dec(original))
    assert pv is not None and pv.relation == "edited"
    assert overlaps(pv.changed_box, AMOUNT_BOX)
    # The pixel-level box is no looser than the signature-level one.
    assert pv.changed_box is not None and v.changed_box is not None
    assert pv.changed_box[2] * pv.changed_box[3] <= v.changed_box[2] * v.changed_box[3] * 1.2
    # A copy with nothing changed has no box at all.
    same = compare_images(dec(original, "JPEG", quality=90), dec(original))
    assert same is not None and same.relation == "resized" and same.changed_box is None


@pytest.mark.parametrize("make", [chat, receipt])
def test_same_template_other_content_is_never_a_duplicate(make: object) -> None:
    assert callable(make)
    base = sig(make(10))
    for seed in range(11, 16):
        other = make(seed)
        for query in (sig(other), sig(other, "JPEG", quality=60)):
            v = compare(query, base)
            assert v is None or v.relation in ("template", "similar"), v
    pv = compare_images(dec(make(11)), dec(make(10)))
    assert pv is None or pv.relation not in DUPLICATE_RELATIONS



def short_chat(seed: int) -> Image.Image:
    """A chat of the same app with only a few messages: content only near the top."""
    img = chat(seed)
    ImageDraw.Draw(img).rectangle((0, 760, W, H - 250), fill=(230, 221, 212))
    return img


def test_short_chats_of_one_app_are_not_edits_of_each_other() -> None:
    # Their differences form one compact region at the top, as an edit's would; but
    # that region is most of what is on the screen.
    for seed in range(21, 25):
        v = compare_images(dec(short_chat(seed)), dec(short_chat(20)))
        assert v is None or v.relation not in DUPLICATE_RELATIONS, (seed, v)


# A messenger's look from a `proofcheck synth` scenario (seed 11), where chats of other
# customers in it were called edits of each other.
PALE_MESSENGER = render.ChatStyle(
    name="messenger0", background=(238, 244, 223), bar=(95, 81, 126),
    incoming=(253, 239, 247), outgoing=(201, 230, 199), ink=(25, 25, 25), font_index=4,
    size=25, radius=25)


def short_scenario_chat(lines: list[tuple[bool, str]], lang: str, contact: str,
                        bar: render.StatusBar) -> Image.Image:
    """A chat as the scenario generator draws one: a few bubbles under the app bar,
    the rest of the screen empty."""
    return render.render_chat(lines, lang, contact, PALE_MESSENGER, bar).image


def test_other_customers_short_chats_in_one_messenger_are_not_copies() -> None:
    # They agree in the app bar and the empty background; of their print only the app
    # bar's lower edge agrees, as it would at any offset along it. Their bubbles differ
    # in one compact region, as an edit's would.
    ara, fas = render.CHAT_LINES["ara"], render.CHAT_LINES["fas"]
    first = short_scenario_chat(
        [(False, ara[2]), (True, ara[1]), (False, ara[3])], "ara", "عمر عبدالله",
        render.StatusBar(clock="16:13", battery=0.3, dark=False, signal=1, wifi=False))
    other_bar = render.StatusBar(clock="07:52", battery=0.88, dark=True, signal=4, wifi=False)
    for lines in ([(True, fas[3]), (True, fas[2]), (False, fas[11]), (True, fas[5])],
                  [(True, fas[0]), (False, fas[4]), (True, fas[6])],
                  [(False, fas[7]), (True, fas[8]), (True, fas[9]), (False, fas[10])]):
        other = short_scenario_chat(lines, "fas", "امیر تهرانی", other_bar)
        for v in (compare_images(dec(first), dec(other, "JPEG", quality=78)),
                  compare_images(dec(other, "JPEG", quality=78), dec(first))):
            assert v is None or v.relation not in DUPLICATE_RELATIONS, (lines, v)


@pytest.mark.parametrize("change", ["middle message retyped", "last message retyped",
                                    "contact retyped", "last message painted over"])
def test_a_short_chat_with_one_thing_changed_is_an_edit_boxed_there(change: str) -> None:
    # The last bubble, an incoming one at the left, lies below where the middle of the
    # screen goes blank, and the contact's name above it: both outside the canonical
    # region, judged all the same. Painted over, the last message leaves the copy blank
    # where the original has print: no block of the copy's own differs.
    ara = render.CHAT_LINES["ara"]
    bar = render.StatusBar(clock="16:13", battery=0.3, dark=False, signal=1, wifi=False)
    said = [(False, ara[2]), (True, ara[1]), (False, ara[3])]
    first = short_scenario_chat(said, "ara", "عمر عبدالله", bar)
    lines, contact = list(said), "عمر عبدالله"
    if change == "contact retyped":
        contact = "أحمد السيد"
    elif change == "last message painted over":
        lines = lines[:2]  # bubbles above it are drawn where they were
    else:
        at = 1 if change == "middle message retyped" else 2
        lines[at] = (lines[at][0], ara[7])
    changed_copy = short_scenario_chat(lines, "ara", contact, bar)
    v = compare_images(dec(changed_copy, "JPEG", quality=85), dec(first))
    assert v is not None and v.relation == "edited" and v.changed_box is not None, v
    changed = np.abs(np.asarray(changed_copy, np.int16)
                     - np.asarray(first, np.int16)).max(axis=2) > 40
    rows, cols = np.nonzero(changed)
    x, y, w, h = v.changed_box
    inside = (cols >= x) & (cols < x + w) & (rows >= y) & (rows < y + h)
    assert inside.mean() >= 0.9, (v.changed_box, (cols.min(), rows.min(), cols.max(), rows.max()))
    # Centred on the change: the box is a block or so larger than the print all round.
    assert abs(y + h / 2 - (rows.min() + rows.max()) / 2) <= h / 4, v.changed_box


@pytest.mark.parametrize("shared", ["same side, two bubbles lower", "other side and height"])
def test_other_customers_chats_sharing_one_message_are_not_copies(shared: str) -> None:
    # Keypoints line the shared bubble up; around it one chat is blank where the other
    # has its own messages, and lined up at another place on the screen the two
    # overlap in under half of either.
    bar = render.StatusBar(clock="03:29", battery=0.4, dark=False, signal=4, wifi=False)
    other_bar = render.StatusBar(clock="04:36", battery=0.3, dark=False, signal=2, wifi=True)
    if shared == "same side, two bubbles lower":
        fas = render.CHAT_LINES["fas"]
        first = short_scenario_chat([(False, fas[3]), (True, fas[10]), (False, fas[5]),
                                     (True, fas[2])], "fas", "زهرا جعفری", bar)
        other = short_scenario_chat([(False, fas[5]), (True, fas[3]), (False, fas[9]),
                                     (True, fas[4]), (False, fas[0]), (True, fas[1])],
                                    "fas", "نرگس تهرانی", other_bar)
    else:
        first = short_scenario_chat([(False, "Highly recommend"), (True, "Hi there"),
                                     (False, "Love the colour")], "eng", "John Walker", bar)
        other = short_scenario_chat(
            [(False, "Fast delivery"), (False, "Quality is amazing"), (False, "Will order again"),
             (True, "Highly recommend"), (False, "Got my order, thank you")],
            "eng", "Emily Johnson", other_bar)
    for v in (compare_images(dec(first, "JPEG", quality=85), dec(other)),
              compare_images(dec(other, "JPEG", quality=85), dec(first))):
        assert v is None or v.relation not in DUPLICATE_RELATIONS, (shared, v)


@pytest.mark.parametrize(("lang", "top"), [("ara", 120), ("ara", 160), ("eng", 200)])
def test_a_short_chat_finds_its_copy_cropped_below_the_app_bar(lang: str, top: int) -> None:
    """The chat's canonical region ends under its last bubble; a copy cropped below the
    app bar covers too little of it for the blocks to judge, and the original, checked
    after its copy, found nothing (12 of 240 stolen copies of the seed-11 scenario's
    honest proof). The blocks are then judged over the part of the screen the copy
    covers."""
    bar = render.StatusBar(clock="16:13", battery=0.3, dark=False, signal=1, wifi=False)
    said = render.CHAT_LINES[lang]
    contact = {"ara": "عمر عبدالله", "eng": "John Walker"}[lang]
    first = short_scenario_chat([(False, said[2]), (True, said[1]), (False, said[3])], lang,
                                contact, bar)
    crop = first.crop((12, top, 12 + 596, top + 1038))
    v = compare_images(dec(first), dec(crop, "JPEG", quality=80))
    assert v is not None and v.relation == "cropped", v


def pasted_into_screen(img: Image.Image, scale: float, background: tuple[int, int, int],
                       shrink: float = 0.68
                       ) -> tuple[Image.Image, Callable[[float, float], tuple[float, float]]]:
    """A thief's re-screenshot as `proofcheck synth` makes one: `img` at `scale` under
    another phone's status bar on a plain background, the whole then posted at `shrink`
    of its size; with the map from `img`'s pixels to the copy's."""
    canvas = Image.new("RGB", img.size, background)
    bar = render.StatusBar(clock="03:31", battery=0.3, dark=False, signal=2, wifi=False)
    top = render.draw_status_bar(canvas, bar, background)
    inner = img.resize((int(img.width * scale), int(img.height * scale)))
    left = (canvas.width - inner.width) // 2
    canvas.paste(inner, (left, top + 40))
    copy = canvas.resize((int(canvas.width * shrink), int(canvas.height * shrink)),
                         Image.Resampling.BILINEAR)
    return copy, lambda x, y: ((left + x * scale) * shrink, (top + 40 + y * scale) * shrink)


def assert_pasted_edit_is_boxed(first: Image.Image, changed: Image.Image,
                                background: tuple[int, int, int]) -> None:
    """`changed`, pasted into another screen (`pasted_into_screen`), is an edit of
    `first` boxed over what differs between the two."""
    differs = np.abs(np.asarray(changed, np.int16)
                     - np.asarray(first, np.int16)).max(axis=2) > 40
    rows, cols = np.nonzero(differs)
    edited, to_copy = pasted_into_screen(changed, 0.8, background)
    v = compare_images(dec(edited), dec(first))
    assert v is not None and v.relation == "edited" and v.changed_box is not None, v
    x0, y0 = to_copy(cols.min(), rows.min())
    x1, y1 = to_copy(cols.max(), rows.max())
    changed_in_copy = (int(x0), int(y0), int(x1), int(y1))
    assert overlaps(v.changed_box, changed_in_copy), (v.changed_box, changed_in_copy)


@pytest.mark.parametrize(("style_index", "background", "retyped_at"), [
    (3, (30, 30, 30), 1), (5, (250, 20, 200), 1),
    (0, (30, 30, 30), 2), (3, (30, 30, 30), 2), (5, (30, 30, 30), 2)])
def test_a_short_chat_pasted_into_another_screen_is_a_copy_and_a_retyped_message_an_edit(
        style_index: int, background: tuple[int, int, int], retyped_at: int) -> None:
    """Pasted into another screen and shrunk, the copy is resampled twice: under the
    grids' alignment one block of a bubble disagreed, and it passed for an edit (as
    stolen re-screenshots of the seed-11 scenario did); keypoints line the print up.
    A message retyped before the paste is still an edit, boxed on it. The last bubble
    lies below where the chat's canonical region ends: judged on that region alone, the
    keypoints took its retyped message for a plain copy (0 of 12 found, six styles at
    two sizes, before the screen both images cover was looked at too)."""
    style = render.chat_styles(random.Random(11), 6)[style_index]
    swa = render.CHAT_LINES["swa"]
    bar = render.StatusBar(clock="12:03", battery=0.5, dark=True, signal=3, wifi=True)
    said = [(False, swa[1]), (True, swa[2]), (True, swa[3])]
    first = render.render_chat(said, "swa", "Zawadi Mohamed", style, bar)
    copy, _ = pasted_into_screen(first.image, 0.8, background)
    v = compare_images(dec(copy), dec(first.image))
    assert v is not None and v.relation == "cropped", v
    lines = list(said)
    lines[retyped_at] = (True, swa[6])
    retyped = render.render_chat(lines, "swa", "Zawadi Mohamed", style, bar)
    assert_pasted_edit_is_boxed(first.image, retyped.image, background)


def _polish_receipt(template_seed: int) -> render.Rendered:
    """One Polish transfer receipt in the look of the bank `template_seed` draws."""
    template = render.receipt_templates(random.Random(template_seed), 1)[0]
    bar = render.status_bar(random.Random(template_seed), dt.datetime(2026, 3, 1, 9, 41))
    values = render.Receipt(
        lang="pol", amount=1234, currency="zł", payer="Anna Nowak", payee="Piotr Wójcik",
        when=dt.datetime(2026, 2, 14, 10, 5), txid="PL2026021412345",
        title="Potwierdzenie przelewu", id_label="Numer transakcji")
    return render.render_receipt(values, template, bar)


def cut_captioned(img: Image.Image, top: int, pasted: bool) -> Image.Image:
    """Cut below `top` (the header half gone), a thief's caption bar laid over the cut,
    and, if `pasted`, the whole pasted into another phone's screen (`synth.transform`'s
    crop, caption_bar and rescreenshot)."""
    band = 80
    cut = img.crop((20, top, img.width - 20, img.height - 60))
    captioned = Image.new("RGB", (cut.width, cut.height + band), (120, 160, 40))
    captioned.paste(cut, (0, band))
    ImageDraw.Draw(captioned).text(
        (16, band // 2), "@thief04", anchor="lm", fill=(250, 250, 250),
        font=render.font("dejavu/DejaVuSans-Bold.ttf", 28), stroke_width=2,
        stroke_fill=(0, 0, 0))
    if not pasted:
        return captioned
    screen = Image.new("RGB", (render.W, 1280), (30, 30, 30))
    bar = render.StatusBar(clock="03:31", battery=0.3, dark=True, signal=2, wifi=False)
    top_bar = render.draw_status_bar(screen, bar, (30, 30, 30))
    scale = 0.92 * min((render.W - 40) / captioned.width,
                       (1280 - top_bar - 120) / captioned.height)
    inner = captioned.resize((int(captioned.width * scale), int(captioned.height * scale)))
    screen.paste(inner, ((render.W - inner.width) // 2, top_bar + 40))
    return screen


@pytest.mark.parametrize("template_seed", [14, 16, 28])
@pytest.mark.parametrize("pasted", [False, True])
def test_a_caption_over_a_cut_header_is_the_copys_frame_not_an_edit(
        template_seed: int, pasted: bool) -> None:
    """The caption covers what the original shows there, a band across the whole
    picture at the copy's edge: the blocks, and the colours, disagree there and nowhere
    else, and it passed for an edit (75 of 120 such copies of twenty banks' receipts,
    cut at three heights, pasted or not; now none)."""
    original = _polish_receipt(template_seed)
    copy = cut_captioned(original.image, 100, pasted)
    v = compare_images(dec(copy, "JPEG", quality=80), dec(original.image))
    assert v is not None and v.relation == "cropped", v


def reframings(img: Image.Image) -> dict[str, Image.Image]:
    """The ways a stolen screenshot gets re-framed before it is posted again."""
    bordered = Image.new("RGB", (img.width + 80, img.height + 80), (255, 255, 255))
    bordered.paste(img, (40, 40))
    return {"crop": img.crop((0, 260, W, 1900)), "border": bordered,
            "rescreenshot": rescreenshot(img)}


@pytest.mark.parametrize("make", [chat, receipt])
def test_reframed_copy_of_another_of_the_same_template_is_not_a_duplicate(
        make: object) -> None:
    """The crop, border or re-screenshot of one chat (receipt) against another chat of
    the same app (receipt of the same bank): the coarse grids line the layouts up, the
    block check sees the other words and numbers."""
    assert callable(make)
    for seed in (21, 22):
        own, stranger = make(seed), make(seed + 10)
        for how, copy in reframings(own).items():
            query = dec(copy, "JPEG", quality=85)
            verdict = compare_images(query, dec(stranger))
            assert verdict is None or not verdict.is_duplicate, (how, verdict)
            same = compare_images(query, dec(own))
            assert same is not None and same.relation in ("cropped", "resized"), (how, same)


@pytest.mark.parametrize("bank", [0, 11, 24, 28, 38])
def test_a_crop_through_a_receipts_values_is_no_edit_of_another_of_the_bank(bank: int) -> None:
    """A receipt cut to 80% through its column of values, against another receipt of
    the bank: its canonical region keeps the one or two rows whose print reaches the
    middle (a long transaction id), where the two differ in one compact region, and
    that was an edit (bench/template_pairs.py --crops: 13 of 300 such pairs at 80%).
    The screen both cover shows the other values; the crop of its own receipt is
    still a crop."""
    from bench.template_pairs import LANGS, as_forwarded, bank_receipts

    rng = random.Random(bank)
    template = render.receipt_templates(rng, 1)[0]
    lang = LANGS[bank % len(LANGS)]
    bar = render.status_bar(rng, dt.datetime(2026, 3, 1, 9, 41))
    own, other = (render.render_receipt(values, template, bar).image
                  for values in bank_receipts(rng, lang, 2))
    width, height = round(0.894 * own.width), round(0.894 * own.height)
    left = 14 if lang not in ("fas", "ara") else own.width - width - 14
    crop = as_forwarded(rng, own.crop((left, 122, left + width, 122 + height)))
    verdict = compare_images(crop, as_forwarded(rng, other))
    assert verdict is None or not verdict.is_duplicate, verdict
    same = compare_images(crop, as_forwarded(rng, own))
    assert same is not None and same.relation == "cropped", same


@pytest.mark.parametrize("make", [chat, receipt])
def test_rotated_and_tightly_cropped_copy_is_found_on_keypoints(make: object) -> None:
    """Rotated 5 degrees, or cut to its middle 60%: the hash windows cannot align these,
    keypoints can, and the blocks then confirm the copy — but not another chat or
    receipt of the same template under the same treatment."""
    assert callable(make)
    own, stranger = make(31), make(32)
    treated = {
        "rotated": own.rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white"),
        "tight crop": own.crop((110, 460, 970, 1860)),
    }
    for how, copy in treated.items():
        query = dec(copy, "JPEG", quality=85)
        same = compare_images(query, dec(own))
        assert same is not None and same.relation in ("cropped", "resized"), (how, same)
        other = compare_images(query, dec(stranger))
        assert other is None or not other.is_duplicate, (how, other)


def test_mirrored_copy_is_matched() -> None:
    original = chat(5)
    v = compare(sig(original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)), sig(original))
    assert v is not None and v.is_duplicate


def test_unrelated_images_do_not_match() -> None:
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    assert compare(sig(noise), sig(chat(6))) is None
    assert compare(sig(chat(6)), sig(receipt(6))) is None


def test_find_matches_goes_from_index_to_verdicts() -> None:
    originals = {1: chat(20), 2: receipt(21), 3: chat(22), 4: receipt(23)}
    stored = {i: sig(img) for i, img in originals.items()}
    index = HammingIndex()
    for item_id in sorted(stored):
        for key in index_keys(stored[item_id]):
            index.add(item_id, key)
    loaded: list[int] = []

    def load(item_id: int) -> Signatures:
        loaded.append(item_id)
        return Signatures.from_bytes(stored[item_id].to_bytes())

    query = sig(originals[1].crop((0, 300, 1080, 2040)), "JPEG", quality=75)
    found = find_matches(query, index, load, limit=5)
    assert found, "the cropped chat was not found"
    assert found[0][0] == 1 and found[0][1].relation == "cropped"
    assert all(v.relation not in DUPLICATE_RELATIONS for i, v in found if i != 1)
    assert 1 in loaded
    assert find_matches(query, index, load, limit=5, exclude=1)[:1] != found[:1]


def test_diff_heatmap_marks_the_edit() -> None:
    original = receipt(7)
    edited = original.copy()
    draw_amount(edited, "1,000,000.00")
    q, o = dec(edited), dec(original)
    verdict = compare_images(q, o)
    assert isinstance(verdict, PairVerdict) and verdict.relation == "edited"
    png = diff_heatmap_png(q, o, verdict)
    heat = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    scale = heat.shape[1] / W
    redness = heat[..., 0] - heat[..., 1]
    x0, y0, x1, y1 = (round(v * scale) for v in AMOUNT_BOX)
    inside = redness[y0:y1, x0:x1].mean()
    outside = redness[round(1200 * scale):, :].mean()
    assert inside > outside + 20


def test_diff_heatmap_of_a_tilted_copy_is_aligned_on_keypoints() -> None:
    """The grids do not rotate: on a 5-degree copy they showed heat over every line of
    the receipt (81 inside the edit's place, 40 outside, in red less green), or, for
    an edited copy, none at all. Aligned on keypoints, as the copy was found, the
    edit glows and the rest stays dim."""
    original = receipt(31)
    edited = original.copy()
    draw = ImageDraw.Draw(edited)
    draw.rectangle((100, 900, 700, 1000), fill=(250, 250, 250))
    draw.text((120, 910), "9,999,999.00", fill=(20, 20, 20), font=_font(70))
    place = Image.new("L", original.size)
    ImageDraw.Draw(place).rectangle((100, 900, 700, 1000), fill=255)
    for picture, edit_glows in ((edited, True), (original, False)):
        tilted = dec(picture.rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white"))
        other = dec(original)
        png = diff_heatmap_png(tilted, other, compare_images(tilted, other))
        heat = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
        redness = heat[..., 0] - heat[..., 1]
        inside = np.asarray(place.rotate(5).resize((heat.shape[1], heat.shape[0]))) > 0
        assert redness[~inside].mean() < 10, redness[~inside].mean()
        if edit_glows:
            assert redness[inside].mean() > 60, redness[inside].mean()
        else:
            assert redness[inside].mean() < 10, redness[inside].mean()


def indexed(images: dict[int, Image.Image]
            ) -> tuple[dict[int, DecodedImage], dict[int, Signatures], HammingIndex]:
    """The images stored as PNG: decoded, their signatures, and an index of them."""
    decoded = {i: dec(img) for i, img in images.items()}
    stored = {i: compute_signatures(d) for i, d in decoded.items()}
    index = HammingIndex()
    for item_id in sorted(stored):
        index.add_many([item_id] * len(index_keys(stored[item_id])), index_keys(stored[item_id]))
    return decoded, stored, index


def test_find_matches_with_pixels_separates_edit_from_template() -> None:
    stored_images = {i: receipt(30 + i) for i in range(1, 5)}
    decoded, stored, index = indexed(stored_images)

    edited = stored_images[2].copy()
    draw_amount(edited, "31,337.00")
    for query_img, expect_dup in ((edited, 2), (receipt(99), None)):
        q = dec(query_img, "JPEG", quality=85)
        found = find_matches(compute_signatures(q), index, stored.__getitem__, limit=5,
                             query_image=q, load_image=decoded.__getitem__)
        dups = [(i, v) for i, v in found if v.is_duplicate]
        if expect_dup is None:
            assert dups == [], dups
        else:
            assert [i for i, _ in dups] == [expect_dup]
            assert dups[0][1].relation == "edited"
            assert overlaps(dups[0][1].changed_box, AMOUNT_BOX)


def test_flipped_receipt_is_a_copy_and_its_edit_is_boxed_where_the_query_has_it() -> None:
    """Mirrored copies among receipts of their bank. An odd width puts the mirrored
    pixels on another phase of the hash's reduction, and the thumbnails of a flipped
    copy compared with the original's flipped back differed in small print: `template`.
    Verified as the mirrored query instead, on its own pixels, an unedited copy is
    resized, and an edit's box is reported on the query as uploaded."""
    width = 1075
    stored_images = {i: receipt(60 + i).crop((0, 0, width, H)) for i in range(1, 6)}
    decoded, stored, index = indexed(stored_images)
    edited = stored_images[3].copy()
    ImageDraw.Draw(edited).rectangle((60, 1180, 460, 1300), fill=(200, 30, 30))
    for picture, relation in ((stored_images[3], "resized"), (edited, "edited")):
        q = dec(picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "JPEG", quality=85)
        found = find_matches(compute_signatures(q), index, stored.__getitem__, limit=5,
                             query_image=q, load_image=decoded.__getitem__)
        dups = [(i, v) for i, v in found if v.is_duplicate]
        assert [(i, v.relation) for i, v in dups] == [(3, relation)], found
    box = dups[0][1].changed_box
    assert overlaps(box, (width - 460, 1180, width - 60, 1300))
    assert not overlaps(box, (60, 1180, 460, 1300))


def test_a_tilted_chat_stored_first_is_its_straight_originals_nearest_candidate() -> None:
    """The tilted copy was checked first, its straight original later. The copy's own
    keys are 8 bits from the original's, where a large index holds many strangers; its
    straightened keys, stored with it, are 0-2 bits away."""
    originals = {i: chat(80 + i) for i in range(1, 5)}
    tilted = originals[1].rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white")
    decoded = {i: dec(img, "JPEG", quality=85)
               for i, img in {**originals, 1: tilted}.items()}
    stored, index = _stored_with_tilts(decoded)
    assert stored[1].straightened_hashes and stored[2].straightened_hashes == ()

    query = dec(originals[1], "JPEG", quality=85)
    keys, key_views = query_views(compute_signatures(query), query).search_keys()
    nearest = index.search_many(keys, matching.SEARCH_RADIUS, 4, key_views)
    assert nearest[0][0] == 1 and nearest[0][1] <= 2, nearest
    assert all(distance >= 10 for item_id, distance in nearest[1:]), nearest
    found = find_matches(compute_signatures(query), index, stored.__getitem__, limit=4,
                         query_image=query, load_image=decoded.__getitem__)
    assert [(i, v.relation) for i, v in found if v.is_duplicate] == [(1, "cropped")]


@pytest.mark.parametrize("degrees", [-6.0, -3.0, 4.0])
def test_skew_of_a_tilted_screenshot_is_measured(degrees: float) -> None:
    upright = receipt(70)
    assert skew_degrees(upright) == 0.0
    tilted = upright.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor="white")
    assert abs(skew_degrees(tilted) - degrees) <= 0.5


def _flat_shapes(seed: int) -> Image.Image:
    """A wallpaper of two flat polygons on a flat ground: edges, no corners to speak of."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 800), tuple(rng.randrange(0, 90) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(2):
        corners = [(rng.randrange(-200, 1400), rng.randrange(-200, 1000)) for _ in range(3)]
        draw.polygon([*corners, (1400, 1000)], fill=tuple(rng.randrange(60, 255) for _ in range(3)))
    return img


def _stored_with_tilts(images: dict[int, DecodedImage]
                       ) -> tuple[dict[int, Signatures], HammingIndex]:
    """The images' signatures as the worker stores them (with straightened keys when
    tilted), and an index of them."""
    stored = {i: with_straightened(compute_signatures(d), d) for i, d in images.items()}
    index = HammingIndex()
    for item_id, signature in stored.items():
        index.add_many([item_id] * len(index_keys(signature)), index_keys(signature))
    return stored, index


def _duplicates(query: DecodedImage, index: HammingIndex, stored: dict[int, Signatures],
                images: dict[int, DecodedImage]) -> list[tuple[int, PairVerdict]]:
    found = find_matches(compute_signatures(query), index, stored.__getitem__, limit=4,
                         query_image=query, load_image=images.__getitem__)
    return [(i, v) for i, v in found if v.is_duplicate]


def test_a_tilted_copy_of_flat_shapes_is_found_straightened_either_way_round() -> None:
    """Flat polygons have too few corners for keypoints to align a 5-degree copy, and
    the grids and blocks do not search rotations: the copy is judged again with the
    tilted side turned upright. Found as a duplicate of its original, 6 of 6 whichever
    was checked first (3 and 4 of 6 before), and an edited copy `edited` where it was
    edited, on the copy as uploaded (2 of 6 before); the other pictures never."""
    found = {"tilted later": 0, "tilted first": 0, "edit boxed": 0}
    for seed in range(6):
        pictures = {i: _flat_shapes(100 * seed + i) for i in range(1, 5)}
        decoded = {i: dec(img) for i, img in pictures.items()}
        tilted = dec(pictures[1].rotate(5, resample=Image.Resampling.BILINEAR))
        stored, index = _stored_with_tilts(decoded)
        dups = _duplicates(tilted, index, stored, decoded)
        assert all(i == 1 for i, _ in dups), dups
        found["tilted later"] += len(dups) == 1

        stored, index = _stored_with_tilts({**decoded, 1: tilted})
        dups = _duplicates(decoded[1], index, stored, {**decoded, 1: tilted})
        assert all(i == 1 for i, _ in dups), dups
        found["tilted first"] += len(dups) == 1

        edited = pictures[1].copy()
        ImageDraw.Draw(edited).rectangle((700, 300, 900, 420), fill=(250, 250, 250))
        ImageDraw.Draw(edited).text((720, 330), "999$", fill=(255, 0, 0), font=_font(60))
        mark = Image.new("L", edited.size)
        ImageDraw.Draw(mark).rectangle((700, 300, 900, 420), fill=255)
        ys, xs = np.nonzero(np.asarray(mark.rotate(5)))
        stored, index = _stored_with_tilts(decoded)
        dups = _duplicates(dec(edited.rotate(5, resample=Image.Resampling.BILINEAR)),
                           index, stored, decoded)
        assert all(i == 1 for i, _ in dups), dups
        found["edit boxed"] += any(
            v.relation == "edited" and overlaps(v.changed_box, (
                int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())))
            for _, v in dups)
    assert found["tilted later"] == found["tilted first"] == 6, found
    assert found["edit boxed"] >= 5, found


def _small_dialog(seed: int) -> Image.Image:
    """A 300 px dialog of frames, rules and short labels, like GIMP's."""
    rng = random.Random(seed)
    img = Image.new("RGB", (300, 260), (236, 236, 236))
    d = ImageDraw.Draw(img)
    for x in range(10, 300, 96):
        d.line((x, 0, x, 260), fill=(90, 90, 90), width=2)
    for y in range(12, 260, 48):
        d.line((0, y, 300, y), fill=(90, 90, 90), width=2)
    for _ in range(14):
        x, y = rng.randrange(15, 250), rng.randrange(18, 230)
        d.text((x, y), rng.choice(WORDS)[:4], fill=(0, 0, 0), font=_font(11))
    return img


def test_lined_dialog_crop_agrees_block_for_block() -> None:
    """A dialog of frames and table rules, cropped: blocks across a straight line match
    as well a few samples along it; they must not place the displacement field."""
    img = _small_dialog(0)
    crop = img.crop((18, 19, 18 + 268, 19 + 232))
    q, o = dec(crop), dec(img)
    aligned = features.align(q.image, o.image)
    assert aligned is not None and abs(aligned.tx + 18) < 1 and abs(aligned.ty + 19) < 1
    check = check_blocks(q.image, o.image, (0, 0, crop.width, crop.height),
                         (0, 0, img.width, img.height), aligned)
    assert check is not None and check.blocks >= 50
    assert check.disagree_count == 0  # 33 of 93 when every confident block placed it


def test_crop_of_a_smooth_picture_is_aligned_on_keypoints() -> None:
    """A soft painting or a storm sky has almost no corners at FAST's default
    threshold (none here); lower thresholds find enough to align a crop."""
    rng = np.random.default_rng(5)
    field = ndimage.gaussian_filter(rng.normal(0, 1, (800, 1200)), 16)
    field = (field - field.min()) / (field.max() - field.min()) * 120 + 60
    img = Image.fromarray(field.astype(np.uint8)).convert("RGB")
    crop = img.crop((110, 90, 110 + 1070, 90 + 715))
    aligned = features.align(crop, img)
    assert aligned is not None
    assert abs(aligned.tx + 110) < 4 and abs(aligned.ty + 90) < 4 and abs(aligned.sx - 1) < 0.01


def test_receipts_of_one_bank_with_other_values_in_one_column_are_not_an_edit() -> None:
    """Two receipts of one bank (bench/duplicates.py's pair emerald 14 / 29) differ in
    the amount and the values of every row, one column of them. At a block agreement
    of NCC 0.6, blurred digits of the same font and length passed for the same
    number in most rows, and the rest formed one compact region: `edited`."""
    from bench.build_dataset import render_receipt, repaint_amount

    first, second = render_receipt(2014, "emerald"), render_receipt(2029, "emerald")
    for query in (dec(first, "JPEG", quality=70), dec(first.resize((540, 1170)))):
        verdict = compare_images(query, dec(second))
        assert verdict is None or not verdict.is_duplicate, verdict
    # A real edit of the same receipt's amount is still one.
    edited = dec(repaint_amount(first, 7), "JPEG", quality=70)
    verdict = compare_images(edited, dec(first))
    assert verdict is not None and verdict.relation == "edited"


def _faint_waves(rng: np.random.Generator, params: np.ndarray) -> Image.Image:
    yy, xx = np.mgrid[0:500, 0:750]
    wave = 6 * np.sin(xx / 90 * params[0] + params[1]) + 6 * np.cos(yy / 70 * params[2] + params[3])
    pixels = 128 + wave + rng.normal(0, 1.0, xx.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")


def test_a_picture_too_flat_to_check_is_a_duplicate_only_on_close_keys() -> None:
    """Faint waves have no textured blocks and no keypoints: the pixels cannot check
    the grids' verdict. Another such picture, re-framed, passed for a crop at key
    distance 16; a copy with the same keys still is one. (Its JPEG copies are not:
    its keys are mostly noise, 12 bits off at quality 90.)"""
    rng = np.random.default_rng(0)
    params = rng.uniform(-1, 1, 4)
    first = _faint_waves(rng, params)
    other = _faint_waves(rng, params + rng.normal(0, 0.15, 4)).crop((40, 30, 700, 470))
    verdict = compare_images(dec(first, "JPEG", quality=30), dec(other.resize((750, 500))))
    assert verdict is not None and not verdict.is_duplicate and verdict.distance > 10
    copy = compare_images(dec(first.convert("L").convert("RGB")), dec(first))
    assert copy is not None and copy.relation == "resized"


def test_a_small_dialog_at_half_size_is_a_copy_and_another_dialog_is_not() -> None:
    """At 150 px a dialog's thumbnail differs from its original's by resampling alone
    (bench/duplicates.py: five GIMP dialogs' half-size copies were `template`); the
    finer pixel grid, in cells of a few of the small copy's pixels, sees the same
    content. Another dialog of the same frames, halved, stays apart."""
    img = _small_dialog(0)
    half = img.resize((150, 130), Image.Resampling.BILINEAR)
    verdict = compare_images(dec(half), dec(img))
    assert verdict is not None and verdict.relation in ("resized", "cropped")
    other = compare_images(dec(_small_dialog(1).resize((150, 130), Image.Resampling.BILINEAR)),
                           dec(img))
    assert other is None or not other.is_duplicate


def _sticker(img: Image.Image, rng: random.Random) -> Image.Image:
    """A "SALE" sticker slapped on somewhere, as resellers do (bench/duplicates.py)."""
    out = img.copy()
    r = round(0.12 * min(img.size))
    x, y = rng.randint(r, img.width - r), rng.randint(r, img.height - r)
    draw = ImageDraw.Draw(out)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 210, 40), outline=(200, 120, 0),
                 width=max(2, r // 10))
    draw.text((x - r // 2, y - r // 3), "SALE", fill=(200, 0, 0), font=_font(max(10, r // 2)))
    return out


def test_a_stickered_receipt_ranks_first_among_its_banks_receipts() -> None:
    """A sticker covers part of every large window; the quarter-size windows that miss it
    still hash as the original's, where the bank's other receipts differ. Measured here:
    27 of 30 copies have their original first with them, 19 without."""
    receipts = [receipt(seed) for seed in range(10)]
    index = HammingIndex()
    for item, img in enumerate(receipts):
        for key in index_keys(sig(img)):
            index.add(item, key)
    first = 0
    for item, img in enumerate(receipts):
        for n in range(3):
            copy = dec(_sticker(img, random.Random(100 * item + n)))
            keys, key_views = query_views(compute_signatures(copy), copy).search_keys()
            found = index.search_many(keys, 16, 8, key_views)
            first += bool(found) and found[0][0] == item
    assert first >= 24, first


def test_a_record_made_before_the_small_windows_still_compares() -> None:
    """Records stored before the quarter-size windows existed have 34 windows: they still
    read back and are compared window for window with today's signatures."""
    img = receipt(3)
    new = sig(img)
    old = Signatures.from_bytes(replace(new, window_hashes=new.window_hashes[:34]).to_bytes())
    assert len(old.window_hashes) == 34 < len(new.window_hashes)
    copy = sig(img.crop((0, 0, W, int(H * 0.8))))
    verdict = compare(copy, old)
    assert verdict is not None and verdict.relation in DUPLICATE_RELATIONS


def _scenario_receipt(seed: int, template_seed: int = 3
                      ) -> tuple[render.Receipt, render.ReceiptTemplate, render.StatusBar]:
    """A receipt as `proofcheck synth` renders one: its values drawn from `seed`, its
    bank's template and status bar fixed."""
    rng = random.Random(seed)
    template = render.receipt_templates(random.Random(template_seed), 1)[0]
    bar = render.status_bar(random.Random(template_seed), dt.datetime(2026, 3, 1, 9, 41))
    values = render.Receipt(
        lang="fas", amount=rng.randrange(10_000, 90_000_000), currency="تومان",
        payer=rng.choice(("علی رضایی", "مریم احمدی", "حسین محمدی")),
        payee=rng.choice(("زهرا کریمی", "رضا حسینی", "سارا نوری")),
        when=dt.datetime(2026, 1, 1, 8) + dt.timedelta(minutes=rng.randrange(90 * 24 * 60)),
        txid=str(rng.randrange(10**11, 10**12)), title="انتقال کارت به کارت",
        id_label="کد رهگیری")
    return values, template, bar


def test_another_receipt_of_the_template_is_not_an_edit_but_one_changed_field_is() -> None:
    """Two receipts of one template differ in every value: lines at the same heights in
    one column, which is one compact region. Before `_other_entries`, such pairs of
    the seed-11 scenario were called `edited`; a receipt whose amount alone was
    repainted still is."""
    first_values, template, bar = _scenario_receipt(1)
    first = render.render_receipt(first_values, template, bar)
    for seed in (2, 3, 4):
        values, _t, _b = _scenario_receipt(seed)
        other = render.render_receipt(values, template, bar)
        verdict = compare_images(dec(other.image, "JPEG", quality=85), dec(first.image))
        assert verdict is None or verdict.relation not in DUPLICATE_RELATIONS, (seed, verdict)
    changed = render.render_receipt(
        replace(first_values, amount=first_values.amount * 3 + 123_456), template, bar)
    edited = render.repaint(first, changed, "amount", random.Random(5))
    verdict = compare_images(dec(edited, "JPEG", quality=85), dec(first.image))
    assert verdict is not None and verdict.relation == "edited", verdict
    assert overlaps(verdict.changed_box, first.boxes["amount"]), verdict.changed_box


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_repainted_field_is_an_edit_and_a_recompressed_copy_is_not(seed: int) -> None:
    """A repainted amount, payer or date of a receipt posted at its own size changes one
    or two 64 px blocks; before, up to two disagreeing blocks were resampling noise, and
    15 of 24 such edits passed for resized copies. A pair sampled pixel for pixel has no
    resampling noise, so there every disagreeing block counts."""
    values, template, bar = _scenario_receipt(seed)
    base = render.render_receipt(values, template, bar)
    changes = {"amount": replace(values, amount=values.amount * 3),
               "payer": replace(values, payer="امیر قاسمی"),
               "date": replace(values, when=values.when - dt.timedelta(days=9))}
    for key, changed_values in changes.items():
        changed = render.render_receipt(changed_values, template, bar)
        edited = render.repaint(base, changed, key, random.Random(seed))
        verdict = compare_images(dec(edited, "JPEG", quality=85), dec(base.image))
        assert verdict is not None and verdict.relation == "edited", (key, verdict)
        assert overlaps(verdict.changed_box, base.boxes[key]), (key, verdict.changed_box)
    copy = compare_images(dec(base.image, "JPEG", quality=70), dec(base.image))
    assert copy is not None and copy.relation == "resized", copy


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_a_recompressed_small_dialog_is_not_called_edited(seed: int) -> None:
    """On a 300 px dialog the grids' cells are a few pixels, where JPEG's blocking is
    as large as the labels: the grids called a q50 copy `edited`, a column of cells
    boxed. The blocks inside that box agree, which refutes it."""
    img = _small_dialog(seed)
    copy = compare_images(dec(img, "JPEG", quality=50), dec(img))
    assert copy is not None and copy.relation == "resized", copy
    edited = img.copy()
    ImageDraw.Draw(edited).rectangle((120, 70, 200, 130), fill=(236, 236, 236))
    ImageDraw.Draw(edited).text((125, 85), "9999", fill=(0, 0, 0), font=_font(22))
    verdict = compare_images(dec(edited, "JPEG", quality=50), dec(img))
    assert verdict is not None and verdict.relation == "edited", verdict
    assert overlaps(verdict.changed_box, (120, 70, 200, 130)), verdict.changed_box


def test_a_brightened_chat_whose_highlights_clip_in_scattered_blocks_is_a_copy() -> None:
    """Brightened by 30%, a chat's light bubbles clip, and two or three scattered blocks
    disagree. In a pair sampled pixel for pixel one compact group of disagreeing blocks
    is an edit; scattered ones stay noise, as in any other copy."""
    img = render_chat(4, "greenapp")
    bright = ImageEnhance.Brightness(img).enhance(1.3)
    verdict = compare_images(dec(bright), dec(img))
    assert verdict is not None and verdict.relation == "resized", verdict


@pytest.mark.parametrize(("seed", "style"), [(1013, "blueapp"), (1028, "blueapp"),
                                           (1027, "greenapp"), (1007, "blueapp")])
def test_a_brightened_chat_whose_light_background_went_white_is_a_copy(
        seed: int, style: str) -> None:
    """Brightened by 30%, a chat's light background and bubbles all clip to white: the
    bubbles' edges vanish, and the blocks holding an edge, a timestamp or a line of
    print on a bubble no longer correlate with the original's, 3-8 of them over the
    page. Both clipped at their grey levels of one rank, a little past where the copy
    clipped, the blocks agree again (bench/duplicates.py's chats 13, 27 and 28 were
    missed; chat 7 was, while the original alone was clipped, at exactly that rank)."""
    img = render_chat(seed, style)
    bright = ImageEnhance.Brightness(img).enhance(1.3)
    for query, other in ((bright, img), (img, bright)):
        verdict = compare_images(dec(query), dec(other))
        assert verdict is not None and verdict.relation == "resized", verdict


def sunlit(seed: int) -> Image.Image:
    """A photo-like picture: shaded, finely textured, with a bright glow (the sun in a
    sky) whose highlights a brightened copy clips to white."""
    rng = np.random.default_rng(seed)
    h, w = 800, 1200
    field = ndimage.gaussian_filter(rng.normal(size=(h, w)), 40)
    field = 90 + 60 * field / np.abs(field).max()
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = rng.integers(200, 1000), rng.integers(150, 650)
    glow = 160 * np.exp(-(((xx - cx) / 260.0) ** 2 + ((yy - cy) / 200.0) ** 2))
    detail = 60 * ndimage.gaussian_filter(rng.normal(size=(h, w)), 2)
    return Image.fromarray(np.clip(field + glow + detail, 0, 255).astype(np.uint8)).convert("RGB")


@pytest.mark.parametrize("seed", [0, 1])
def test_a_brightened_photo_whose_glow_clips_is_no_edit_there(seed: int) -> None:
    """Brightened by 30%, a photo's glow clips to white: no gain and offset map the
    original's grey levels onto the copy's there, and its smooth cells, which no
    textured block judges, passed for an edit (bench/duplicates.py: 7 of 260
    brightened wallpapers `edited` on their sky). A monotone tone curve explains
    them; the same picture with a price painted in stays an edit."""
    img = sunlit(seed)
    bright = ImageEnhance.Brightness(img).enhance(1.3)
    verdict = compare_images(dec(bright, "JPEG", quality=90), dec(img))
    assert verdict is not None and verdict.relation == "resized", verdict
    priced = img.copy()
    ImageDraw.Draw(priced).text((500, 600), "9,500$", fill=(20, 20, 20), font=_font(60))
    verdict = compare_images(dec(priced, "JPEG", quality=90), dec(img))
    assert verdict is not None and verdict.relation == "edited", verdict
    assert overlaps(verdict.changed_box, (500, 600, 700, 660)), verdict.changed_box


def test_disagreeing_pieces_whose_boxes_interlock_are_one_edit() -> None:
    """A pasted patch is one rectangle; where its content matches what it covers its
    disagreeing blocks fall into pieces. Pieces whose boxes overlap are one region,
    however they chain; pieces apart stay apart (two edits, or another template)."""
    merge = matching._overlaps_merged
    # (col, row, ncols, nrows, cells), boxes with their merging margin
    assert merge([(6, 0, 3, 3, 4), (7, 1, 5, 10, 10)]) == [(6, 0, 6, 11, 14)]
    chained = merge([(0, 0, 3, 3, 2), (10, 10, 3, 3, 2), (2, 2, 9, 9, 5)])
    assert chained == [(0, 0, 13, 13, 9)]
    apart = [(0, 0, 3, 3, 2), (3, 0, 3, 3, 2), (0, 5, 4, 2, 3)]  # touching is not overlapping
    assert merge(apart) == apart
    # As `changed_components` finds them: a piece at the top and a column below it to
    # the right, apart even after the merging margin, whose boxes overlap.
    changed = np.zeros((12, 14), dtype=bool)
    changed[1, 7:9] = True
    changed[3:10, 10] = True
    assert matching.changed_components(changed, 1, merge=1) == [(6, 0, 6, 11, 9)]
    changed[3:10, 10] = False
    changed[8:10, 8] = True  # below, its box clear of the first's
    assert len(matching.changed_components(changed, 1, merge=1)) == 2


def test_a_tone_curve_follows_clipping_and_not_a_minority() -> None:
    rng = np.random.default_rng(3)
    b = rng.uniform(0, 255, 20_000).astype(np.float32)
    a = np.minimum(1.3 * b, 255.0)
    edit = rng.random(b.size) < 0.1
    a[edit] = 255.0 - a[edit]  # a tenth of the samples repainted
    mapped = matching.tone_curve(b, a)(b)
    assert np.all(np.diff(mapped[np.argsort(b)]) >= 0)
    assert np.percentile(np.abs(mapped - np.minimum(1.3 * b, 255.0)), 90) < 12
    assert np.abs(mapped - a)[edit].mean() > 60


def test_blocks_of_a_pair_whose_alignment_leaves_no_overlap_are_not_judged() -> None:
    """A keypoint alignment can map the query's region wholly outside the other image;
    with the exposures differing, matching their grey levels over no overlap crashed."""
    img = render_chat(1013, "blueapp")
    bright = ImageEnhance.Brightness(img).enhance(1.3)
    away = features.FeatureAlignment(sx=1.0, rot=0.0, tx=-5000.0, ty=0.0, inliers=50)
    box = (0, 0, img.width, img.height)
    assert check_blocks(bright, img, box, box, away) is None


@pytest.mark.parametrize(("strip", "page"), [
    (((2000, 3), "noise"), ((360, 640), "noise")),
    (((3, 2000), "rules"), ((5000, 40), "flat")),
    (((1, 500), "noise"), ((500, 1), "rules")),
])
def test_strips_a_few_pixels_across_are_compared_without_raising(
        strip: tuple[tuple[int, int], str], page: tuple[tuple[int, int], str]) -> None:
    """A banner a few rows high and a divider a pixel wide are valid uploads. ORB's
    pyramid shrank them to nothing, where OpenCV raised (the check was retried until it
    failed); a strip 3 px wide against one 5000 px long gave a key pair a scale of 0.000
    (rounded), and the grids divided by it. Neither has keypoints, and no alignment
    past what a copy can be scaled by is tried; against the other they are no copy."""
    a, b = plain_picture(*strip[0], strip[1], 7), plain_picture(*page[0], page[1], 7)
    assert features.sketch(a).points.shape == (0, 2)
    assert features.align(a, b) is None
    for query, other in ((a, b), (b, a)):
        verdict = compare_images(dec(query), dec(other))
        assert verdict is None or not verdict.is_duplicate, verdict
        for al in matching._alignments(compute_signatures(dec(query)),
                                       compute_signatures(dec(other))):
            assert min(al.sx, al.sy) >= features.MIN_SCALE, al
            assert max(al.sx, al.sy) <= features.MAX_SCALE, al


def test_a_sliver_of_overlap_is_no_region_to_judge() -> None:
    """Where the other covers one column of the query's 64 cells, the overlap one cell
    inside its edges is empty; it had a negative width, and sampling it made OpenCV
    raise (bench/duplicates.py, once small overlaps were judged). An empty region
    has no blocks."""
    query = dec(plain_picture(640, 640, "noise", 3))
    other = dec(plain_picture(12, 640, "noise", 4))
    beside = features.FeatureAlignment(sx=1.0, rot=0.0, tx=300.0, ty=0.0, inliers=50)
    assert pixelmatch._overlap_box(beside, query, other, least=0.0) is None
    same_place = features.FeatureAlignment(sx=1.0, rot=0.0, tx=0.0, ty=0.0, inliers=50)
    for empty in ((10, 10, -40, 100), (10, 10, 0, 100)):
        assert check_blocks(query.image, query.image, empty, (0, 0, 640, 640), same_place) is None


def _faint_watermark(word: str, angle: float) -> Image.Image:
    """A dark grey picture with one word 10 grey levels darker, tilted: no block of it
    reaches the contrast blocks are usually judged at."""
    img = Image.new("L", (750, 500), 52)
    layer = Image.new("L", (750, 500), 0)
    ImageDraw.Draw(layer).text((120, 170), word, fill=255, font=_font(150))
    img.paste(42, mask=layer.rotate(angle, resample=Image.Resampling.BILINEAR))
    return img.convert("RGB")


def test_a_faint_watermark_is_checked_on_its_faint_blocks() -> None:
    """A recompressed, cropped copy of a faint picture is a copy, another word faint on
    the same grey is not: of a faint picture, blocks of low contrast are judged. Only
    those whose match stands out, though: faint smooth waves correlate with themselves
    shifted at many places, and would make any two such pictures agree."""
    img = _faint_watermark("draft", 15)
    crop = img.crop((40, 30, 710, 470))
    for query in (dec(img, "JPEG", quality=70), dec(crop, "JPEG", quality=70)):
        verdict = compare_images(query, dec(img))
        assert verdict is not None and verdict.is_duplicate, verdict
    other = compare_images(dec(_faint_watermark("proof", 15), "JPEG", quality=70), dec(img))
    assert other is None or not other.is_duplicate, other
    y, x = np.mgrid[0:500, 0:750].astype(np.float32)

    def waves(phase: float) -> Image.Image:
        grey = 55 + 14 * np.sin(x / 40 + phase) * np.cos(y / 55)
        return Image.fromarray(grey.astype(np.uint8)).convert("RGB")

    same_place = features.FeatureAlignment(sx=1.0, rot=0.0, tx=0.0, ty=0.0, inliers=50)
    box = (0, 0, 750, 500)
    assert check_blocks(waves(0.7), waves(0.0), box, box, same_place) is None


def _tiny_vessels(seed: int, size: int = 102) -> Image.Image:
    """A tiny, faint picture (skimage's retina crop is 102 px): grey with a little
    grain, a few dark winding lines and dots."""
    rng = np.random.default_rng(seed)
    grain = np.clip(100 + rng.normal(0, 3, (size, size)), 0, 255).astype(np.uint8)
    img = Image.fromarray(grain)
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        xs = np.linspace(-10, size + 10, 12)
        ys = rng.uniform(0, size) + np.cumsum(rng.normal(0, 4, 12))
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=55, width=4)
    for _ in range(2):
        cx, cy = rng.uniform(10, size - 10, 2)
        draw.ellipse((cx - 3, cy - 3, cx + 3, cy + 3), fill=60)
    return img.filter(ImageFilter.GaussianBlur(1.0)).convert("RGB")


def test_a_tiny_pictures_crop_and_tilted_copy_are_judged_enlarged() -> None:
    """A picture about 100 px across has too few blocks inside its rim, sampled pixel
    for pixel, to judge its crop or tilted copy: it is judged enlarged. Another such
    picture still is not a copy. Before, 4 of the 6 crops and 1 of the 6 tilted copies
    were found."""
    crops = tilted = 0
    for seed in range(6):
        img = _tiny_vessels(seed)
        crop = compare_images(dec(img.crop((5, 6, 96, 97))), dec(img))
        crops += crop is not None and crop.is_duplicate
        rotated = img.rotate(5, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
        tilt = compare_images(dec(rotated), dec(img))
        tilted += tilt is not None and tilt.is_duplicate
        other = compare_images(dec(_tiny_vessels(seed + 100)), dec(img))
        assert other is None or not other.is_duplicate, (seed, other)
    assert crops == 6
    assert tilted >= 5


def test_a_date_one_day_later_is_an_edit_and_a_brightened_copy_is_not() -> None:
    """One digit of a date repainted: its block still correlates at 0.8-0.9 with the
    original's. In a pair sampled pixel for pixel and equally exposed a block must agree
    at 0.9; a brightened copy (clipped highlights) keeps the usual 0.8."""
    values, template, bar = _scenario_receipt(5)  # 1404/11/13 -> 1404/11/14
    base = render.render_receipt(values, template, bar)
    changed = render.render_receipt(replace(values, when=values.when + dt.timedelta(days=1)),
                                    template, bar)
    edited = render.repaint(base, changed, "date", random.Random(5))
    verdict = compare_images(dec(edited, "JPEG", quality=85), dec(base.image))
    assert verdict is not None and verdict.relation == "edited", verdict
    assert overlaps(verdict.changed_box, base.boxes["date"]), verdict.changed_box
    bright = ImageEnhance.Brightness(base.image).enhance(1.3)
    copy = compare_images(dec(bright), dec(base.image))
    assert copy is not None and copy.relation == "resized", copy


def test_receipts_whose_values_the_grids_box_as_one_edit_are_a_template() -> None:
    """A two-column bank screen with a fixed title: the pixel grids box the values'
    column as one edit, and the block check left that box out, so its template rule
    never saw it. The blocks inside a grid-boxed edit are judged by that rule too."""
    template = render.ReceiptTemplate(
        name="bank6", header=(141, 98, 157), background=(246, 249, 243), ink=(45, 48, 10),
        font_index=6, size=32, header_h=193, spacing=62, two_column=True, card=False)
    bar = render.status_bar(random.Random(6), dt.datetime(2026, 3, 1, 9, 41))
    receipts = []
    for seed in range(3):
        rng = random.Random(seed)
        values = render.Receipt(
            lang="ara", amount=rng.randrange(1_000, 90_000) * 10, currency="درهم",
            payer=rng.choice(("محمد العتيبي", "خالد المنصوري", "سارة عبدالله")),
            payee="يوسف الحربي",
            when=dt.datetime(2026, 1, 1, 8) + dt.timedelta(minutes=rng.randrange(90 * 24 * 60)),
            txid=str(rng.randrange(10**11, 10**12)), title="إيصال تحويل", id_label="رقم العملية")
        receipts.append(render.render_receipt(values, template, bar).image)
    for i, query in enumerate(receipts):
        for j, other in enumerate(receipts):
            if i != j:
                verdict = compare_images(dec(query, "JPEG", quality=85), dec(other))
                duplicate = verdict is not None and verdict.relation in DUPLICATE_RELATIONS
                assert not duplicate, (i, j, verdict)


def test_an_original_ranked_behind_its_banks_receipts_is_still_checked() -> None:
    """Keys see layout: a crop of one receipt can be as near to the bank's other
    receipts as to its original, and the index may rank it behind a dozen of them. The
    pool past the nearest KEY_FIRST is ordered by keypoint inliers, where the original's
    own values count, so it is checked on pixels and found; the strangers chosen with it
    stay what they are, and the pool members not chosen get no verdict at all."""
    stored_images = {i: receipt(80 + i) for i in range(14)}
    decoded, stored, _index = indexed(stored_images)
    crop = stored_images[0].crop((40, 560, W - 40, 1950))
    q = dec(crop, "JPEG", quality=85)
    # The original where the key ranking put such copies on bench/duplicates.py: 12th.
    order = [*range(1, 12), 0, 12, 13]
    assert len(order) <= candidates.RANK_POOL and order.index(0) >= candidates.PIXEL_CHECKS
    pool = [(i, stored[i]) for i in order]
    loaded: list[int] = []

    gone = order[1]  # its stored original is missing: the search goes on without it

    def load(item: int) -> DecodedImage | None:
        loaded.append(item)
        return None if item == gone else decoded[item]

    found = dict(candidates.verify_candidates(query_views(compute_signatures(q), q),
                                              pool, load))
    assert sorted(loaded) == sorted(order)  # the whole pool was read
    assert found[0].relation == "cropped", found
    assert len(found) <= candidates.PIXEL_CHECKS + 1
    assert all(not v.is_duplicate for i, v in found.items() if i not in (0, gone)), found


def test_a_pool_ranked_on_stored_sketches_decodes_only_the_candidates_it_checks() -> None:
    """Stored keypoint sketches rank the pool before anything is decoded: an original
    read past the UNSKETCHED_POOL nearest (behind 22 candidates showing its bank's
    other receipts, as an edited chat sat 39th on bench/duplicates.py) is chosen and
    found, and no more than PIXEL_CHECKS images are decoded. Without sketches the same
    pool is ranked on pixels among its nearest UNSKETCHED_POOL only, and the original
    is never read."""
    stored_images = {i: receipt(80 + i) for i in range(12)}
    decoded, stored, _index = indexed(stored_images)
    q = dec(stored_images[0].crop((40, 560, W - 40, 1950)), "JPEG", quality=85)
    # Item k of the pool shows receipt k % 12: the strangers twice over, then the original.
    items = [*range(1, 12), *range(13, 24), 24]
    assert items.index(24) >= candidates.UNSKETCHED_POOL and len(items) <= candidates.RANK_POOL
    shown = {item: item % 12 for item in items}
    sketches = {i: features.sketch(d.image) for i, d in decoded.items()}
    pool = [(item, stored[shown[item]]) for item in items]
    views = query_views(compute_signatures(q), q)

    loaded: list[int] = []

    def load(item: int) -> DecodedImage | None:
        loaded.append(item)
        return decoded[shown[item]]

    found = dict(candidates.verify_candidates(views, pool, load,
                                              lambda item: sketches[shown[item]]))
    assert found[24].relation == "cropped", found
    assert 24 in loaded and len(loaded) <= candidates.PIXEL_CHECKS
    assert all(not v.is_duplicate for i, v in found.items() if i != 24), found

    loaded.clear()
    unsketched = dict(candidates.verify_candidates(views, pool, load))
    assert 24 not in unsketched and 24 not in loaded
    assert len(loaded) == candidates.UNSKETCHED_POOL


def test_candidates_no_sketch_tells_apart_are_taken_most_voted_first() -> None:
    """Where no stored sketch has inliers with the query (a 60% crop of a sparse
    dialog keeps none of its original's 256 strongest corners), the places the
    inliers would have chosen go to the candidates the query's descriptors vote for
    most: the original, 11th by keys, is checked and found; by keys alone it is never
    read."""
    stored_images = {i: receipt(80 + i) for i in range(12)}
    decoded, stored, _index = indexed(stored_images)
    q = dec(stored_images[0].crop((40, 560, W - 40, 1950)), "JPEG", quality=85)
    order = [*range(1, 11), 0, 11]
    assert order.index(0) >= candidates.PIXEL_CHECKS
    pool = [(i, stored[i]) for i in order]
    views = query_views(compute_signatures(q), q)
    nothing = features.Sketch(W, np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8),
                              features.FAST_THRESHOLDS[-1])
    loaded: list[int] = []

    def load(item: int) -> DecodedImage | None:
        loaded.append(item)
        return decoded[item]

    found = dict(candidates.verify_candidates(views, pool, load, lambda _item: nothing,
                                              voted=[11, 0, 7]))
    assert found[0].relation == "cropped", found
    # The nearest by keys, the three voted, and the nearest by keys of the rest.
    first = candidates.KEY_FIRST
    assert sorted(loaded) == sorted([*order[:first], 11, 0, 7, order[first]])

    loaded.clear()
    by_keys = dict(candidates.verify_candidates(views, pool, load, lambda _item: nothing))
    assert 0 not in by_keys and 0 not in loaded
    assert loaded == order[:candidates.PIXEL_CHECKS]

def palette_dialog(seed: int) -> Image.Image:
    """A small, mostly empty tool dialog (GIMP's palette editor is 258 x 328): a file
    name, a strip of colours and a row of widgets."""
    rng = random.Random(seed)
    img = Image.new("RGB", (258, 328), (237, 236, 235))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 258, 24), fill=(220, 220, 218))
    d.text((8, 4), "Palette Editor", fill="black", font=_font(14))
    d.rectangle((6, 50, 252, 70), outline=(150, 150, 150), fill="white")
    d.text((10, 53), f"cosmos-{seed}.gif", fill="black", font=_font(13))
    x = 16
    for _ in range(rng.randint(3, 7)):
        d.rectangle((x, 165, x + 14, 177), fill=tuple(rng.randrange(256) for _ in range(3)))
        x += 14
    d.rectangle((x, 165, 240, 177), fill="black")
    d.rectangle((6, 270, 150, 290), outline=(150, 150, 150), fill="white")
    d.text((10, 273), "Undefined", fill="black", font=_font(13))
    d.text((156, 273), "Columns: 16", fill="black", font=_font(12))
    return img


def test_a_tight_crop_of_a_small_dialog_is_aligned_on_keypoints() -> None:
    # ORB leaves 31 px unsearched along each edge at each pyramid level: a 200 px crop
    # of a small dialog kept too few keypoints to align, and its grids alone said
    # `template` or `edited` (4 of these 6 before). Enlarged first, it aligns. Another
    # palette in the same dialog is never a plain copy.
    for seed in range(6):
        original = palette_dialog(seed)
        crop = dec(original.crop((28, 36, 228, 290)))
        v = compare_images(crop, dec(original))
        assert v is not None and v.relation == "cropped", (seed, v)
        other = compare_images(crop, dec(palette_dialog(seed + 100)))
        assert other is None or other.relation not in ("exact", "resized", "cropped"), other


def flecks(rng: np.random.Generator, size: tuple[int, int], count: int,
           radius: tuple[float, float], depth: tuple[int, int]) -> np.ndarray:
    """Grey levels to add to a picture: `count` small polygons scattered over it."""
    marks = Image.new("L", size, 0)
    draw = ImageDraw.Draw(marks)
    for _ in range(count):
        cx, cy, r = rng.uniform(0, size[0]), rng.uniform(0, size[1]), rng.uniform(*radius)
        corners = [(cx + r * np.cos(a), cy + r * np.sin(a))
                   for a in np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 6)))]
        draw.polygon(corners, fill=int(rng.integers(*depth)))
    return np.asarray(marks, dtype=np.float32)


def smooth_picture(seed: int, rings_at: tuple[int, int] = (710, 430)) -> Image.Image:
    """A wallpaper-like picture: broad shading with faint marks everywhere and one
    small object, the only place where blocks are textured."""
    rng = np.random.default_rng(seed)
    h, w = 800, 1200
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = (120 + 45 * np.sin(x / 170 + rng.uniform(0, 6)) * np.cos(y / 140)
             + 0.03 * x)
    picture = np.repeat(shade[..., None], 3, axis=2) * np.array([1.0, 0.85, 0.7])
    # Faint marks scattered over it (a wallpaper's grain and flecks) give the keypoints
    # their corners, too faint for a block to count as textured.
    picture += flecks(rng, (w, h), 400, (6, 18), (10, 20))[..., None]
    # The object: rings, as in a desktop's logo; their curves are textured blocks
    # with few corners.
    ring = np.hypot(x - rings_at[0], y - rings_at[1])
    rings = (ring < 190) & (np.sin(ring / 6) > 0)
    picture[rings] += 70
    return Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))


def test_an_edit_over_the_only_texture_of_a_smooth_picture_is_an_edit() -> None:
    # The pasted patch covers most of the textured blocks, as on bench/duplicates.py's
    # wallpapers; the smooth shading around it, the same in both, is content too, so
    # the edit is a minority of the picture (before it counted: no match at all).
    original = smooth_picture(3)
    edited = original.copy()
    patch = original.crop((60, 40, 440, 293)).transpose(Image.Transpose.ROTATE_180)
    edited.paste(patch, (540, 300))  # 10% of the area, over the textured object
    ImageDraw.Draw(edited).text((580, 380), "512$", fill=(255, 0, 0), font=_font(80))
    v = compare_images(dec(edited, "JPEG", quality=90), dec(original, "JPEG", quality=90))
    assert v is not None and v.relation == "edited", v
    assert overlaps(v.changed_box, (540, 300, 920, 553))
    assert v.score > 0.5, v  # the rest of the picture agrees
    # The copy itself is no edit, and a different smooth picture no copy.
    same = compare_images(dec(original, "JPEG", quality=70), dec(original, "JPEG", quality=90))
    assert same is not None and same.relation == "resized", same
    other = compare_images(dec(smooth_picture(4, (400, 300)), "JPEG", quality=90),
                           dec(original, "JPEG", quality=90))
    assert other is None or other.relation not in DUPLICATE_RELATIONS, other


def _rings_on_a_plain_ground(seed: int) -> tuple[Image.Image, tuple[int, int]]:
    """A logo wallpaper: blurred rings in the middle of a vignetted plain ground, which
    the canonical region trims away (bench/duplicates.py's GreenTraditional)."""
    rng = random.Random(seed)
    w, h = 1200, 760
    y, x = np.mgrid[0:h, 0:w]
    ground = 250 - 60 * (((x - w / 2) / w) ** 2 + ((y - h / 2) / h) ** 2)
    picture = Image.fromarray(np.repeat(ground[..., None], 3, axis=2).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    cx, cy = rng.randint(560, 640), rng.randint(280, 340)
    colour = tuple(rng.randint(60, 160) for _ in range(3))
    for r in range(190, 40, -30):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.ellipse((cx - r + 12, cy - r + 12, cx + r - 12, cy + r - 12), fill=(250, 250, 250))
    draw.polygon([(cx - 80, cy - 70), (cx + 10, cy), (cx - 80, cy + 70)], fill=(255, 255, 255))
    return picture.filter(ImageFilter.GaussianBlur(2)), (cx, cy)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_patch_pasted_out_onto_the_plain_margin_is_an_edit_either_way_round(
        seed: int) -> None:
    # A clone of the rings, captioned, pasted half over them and half over the plain
    # ground: the edited copy's canonical region reaches out to the patch, and judged
    # there the pair differed in half its blocks: no match at all. On the picture both
    # cover it differs in one compact region.
    original, (cx, cy) = _rings_on_a_plain_ground(seed)
    edited = original.copy()
    patch = original.crop((cx - 230, cy - 40, cx + 150, cy + 200))
    x, y = cx - 420, cy + 60
    edited.paste(patch.transpose(Image.Transpose.ROTATE_180), (x, y))
    ImageDraw.Draw(edited).text((x + 40, y + 80), "345$", fill=(255, 0, 0), font=_font(80))
    edited_dec, original_dec = dec(edited), dec(original)
    # The patch moved the region's left edge out (the premise of the test).
    assert (compute_signatures(edited_dec).canon_box[0]
            < compute_signatures(original_dec).canon_box[0] - 100)
    for query, other in ((edited_dec, original_dec), (original_dec, edited_dec)):
        v = compare_images(query, other)
        assert v is not None and v.relation == "edited", v
        assert overlaps(v.changed_box, (x, y, x + 380, y + 240)), v
    # The edited copy against other rings, of another colour and place: no copy.
    other_rings, _ = _rings_on_a_plain_ground(seed + 100)
    v = compare_images(edited_dec, dec(other_rings))
    assert v is None or v.relation not in DUPLICATE_RELATIONS, v


def white_on_black(seed: int, dots: int = 200) -> Image.Image:
    """A binary wallpaper: a white disc over most of a black frame, and a few tiny
    white dots in the black: ORB finds corners on them, blocks 270 samples across see
    nothing but flat white and black (bench/duplicates.py's transparent Arc wallpaper)."""
    rng = np.random.default_rng(seed)
    w, h = 1600, 900
    picture = Image.new("RGB", (w, h), (0, 0, 0))
    cx, cy = rng.uniform(0.45, 0.55) * w, rng.uniform(0.4, 0.6) * h
    rx, ry = rng.uniform(0.5, 0.6) * w, rng.uniform(0.8, 0.9) * h
    ImageDraw.Draw(picture).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(255, 255, 255))
    pixels = np.asarray(picture).copy()
    ys, xs = rng.integers(0, h - 4, 4000), rng.integers(0, w - 4, 4000)
    in_black = pixels[ys, xs, 0] == 0
    for y, x in list(zip(ys[in_black], xs[in_black], strict=True))[:dots]:
        pixels[y:y + 3, x:x + 3] = 255
    return Image.fromarray(pixels)


def test_a_sticker_over_the_only_texture_of_a_binary_picture_is_an_edit() -> None:
    """The grids box the sticker; no block can judge their alignment (flat white and
    black), and the keypoints' alignment (19 inliers, on the dots) found textured
    blocks only under the sticker, all disagreeing, which made the copy a template
    (bench/duplicates.py: the Arc wallpaper stickered, at key distance 4). Those blocks
    are the edit the grids already boxed: judged without it, nothing refutes the copy."""
    original = white_on_black(5)
    stickered = _sticker(original, random.Random(5))
    v = compare_images(dec(stickered, "JPEG", quality=90), dec(original, "JPEG", quality=90))
    assert v is not None and v.relation == "edited", v
    assert overlaps(v.changed_box, (1275, 261, 1491, 477))  # the sticker
    for other in (6, 7):  # other discs (seeds 0, 1 and 4 draw near the same one)
        stranger = _sticker(white_on_black(other), random.Random(5))
        v = compare_images(dec(stranger, "JPEG", quality=90), dec(original, "JPEG", quality=90))
        assert v is None or not v.is_duplicate, (other, v)


def night_sky(seed: int) -> Image.Image:
    """A dark picture whose only texture is stars a couple of pixels wide, over a faint
    glow: nothing a 270-sample grid of blocks can see."""
    rng = np.random.default_rng(seed)
    h, w = 1000, 1600
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(300, 1300), rng.uniform(200, 800)
    sky = 6 + 14 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 260.0**2))
    stars = 6000
    ys, xs, bright = rng.integers(0, h - 1, stars), rng.integers(0, w - 1, stars), \
        rng.uniform(15, 70, stars)
    for dy in (0, 1):
        for dx in (0, 1):
            sky[ys + dy, xs + dx] += bright
    rgb = np.stack([sky * 0.8, sky, sky * 0.6], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def test_stars_too_fine_for_the_blocks_are_looked_at_closer() -> None:
    # bench/duplicates.py's dark Ubuntu wallpaper, captioned: keypoints align it
    # exactly, but at 270 samples across no block is textured, so nothing confirmed it
    # (no match at all before). Looked at closer, its stars agree.
    original = night_sky(1)
    captioned = Image.new("RGB", (1600, 1130), "white")
    captioned.paste(original, (0, 0))
    ImageDraw.Draw(captioned).text((40, 1030), "Order #299", fill="black", font=_font(60))
    query, other = dec(captioned, "JPEG", quality=85), dec(original)
    v = compare_images(query, other)
    assert v is not None and v.relation == "cropped", v
    # The closer look is asked for, by the keypoints' verdict; the blocks alone do not
    # take it (it cost seconds per pair of 12-megapixel flat pictures).
    aligned = features.align(query.image, other.image)
    assert aligned is not None and aligned.inliers >= pixelmatch.KEYPOINTS_CONFIRM
    boxes = compute_signatures(query).canon_box, compute_signatures(other).canon_box
    assert check_blocks(query.image, other.image, *boxes, aligned) is None
    assert check_blocks(query.image, other.image, *boxes, aligned, look_closer=True) is not None
    # Other stars pasted over a tenth of it: never a plain copy.
    edited = original.copy()
    edited.paste(night_sky(5).crop((100, 100, 600, 400)), (700, 300))
    v = compare_images(dec(edited, "JPEG", quality=85), dec(original))
    assert v is None or v.relation not in ("exact", "resized", "cropped"), v


def dark_wallpaper(seed: int) -> Image.Image:
    """A dark wallpaper: faint shaded wings, a bright textured face in the middle, and
    margins dark enough to be trimmed off its canonical region (1192 x 516 of 1600 x
    1000), as bench/duplicates.py's the-mouse."""
    rng = np.random.default_rng(seed)
    h, w = 1000, 1600
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    wings = np.hypot((x - 800) / 600, (y - 500) / 260) < 1
    r = np.hypot(x - 800, y - 500)
    face = (r < 200) * (150 + 80 * np.sin(r / 7 + rng.uniform(0, 6)) * np.cos((x - y) / 23))
    g = (8 + 3 * np.sin(x / 300) * np.cos(y / 250) + face
         + wings * (30 + 20 * np.sin(x / 90) * np.cos(y / 70))
         + rng.normal(0, 1.5, (h, w)) * (r < 200))
    g = np.clip(g, 0, 255)
    rgb = np.stack([g * 0.6, g * 0.4, np.clip(g * 1.2 + 10, 0, 255)], -1)
    return Image.fromarray(rgb.astype(np.uint8))


def test_a_bright_patch_over_a_dark_picture_is_an_edit_not_an_exposure_change() -> None:
    # The patch moved the mean grey past EXPOSURE_TOLERANCE, so the pair was judged as
    # exposed differently, over its trimmed canonical region only, where the patch's
    # box was too much of the grid for an edit: no match at all before. Everywhere
    # but the patch the samples agree, which is no change of exposure.
    original = dark_wallpaper(1)
    edited = original.copy()
    edited.paste(original.crop((560, 330, 1066, 646)).transpose(Image.Transpose.ROTATE_180),
                 (260, 260))  # 10% of the area
    ImageDraw.Draw(edited).text((300, 360), "993$", fill=(255, 0, 0), font=_font(110))
    v = compare_images(dec(edited), dec(original))
    assert v is not None and v.relation == "edited", v
    assert overlaps(v.changed_box, (260, 260, 766, 576))
    # A brightened copy does change exposure, and is the same picture.
    brighter = ImageEnhance.Brightness(original).enhance(1.3)
    v = compare_images(dec(brighter), dec(original))
    assert v is not None and v.relation == "resized", v


@pytest.mark.parametrize("speck", [False, True])
def test_a_pair_the_grids_call_a_template_is_a_copy_only_where_its_blocks_agree(
        speck: bool) -> None:
    # A smooth picture pasted small into another screen can differ from its original
    # cell by cell by more than its little contrast, and the grids call it a template
    # (bench/duplicates.py: MATE's Silk re-screenshotted). Every block agreeing at
    # their alignment makes it the copy, and so does a speck of dust on the screen
    # (one block of 152 disagreeing, within the noise blocks allow a resampled copy;
    # refuted it before); another chat of the app, at the same alignment (one layout,
    # one screen), stays a template.
    original = chat(1)
    shot = rescreenshot(original)
    if speck:
        ImageDraw.Draw(shot).ellipse((494, 694, 506, 706), fill=(30, 30, 30))
    query = dec(shot, "JPEG", quality=85)
    query_sig = compute_signatures(query)
    found = pixelmatch._pixel_verdict(query, dec(original), query_sig,
                                      compute_signatures(dec(original)))
    assert found is not None and found[1] is not None
    called_template = (replace(found[0], relation="template", changed_box=None), *found[1:])
    for other, is_copy in ((original, True), (chat(2), False), (chat(3), False)):
        theirs = dec(other)
        v = pixelmatch._copy_the_grids_misjudged(query, theirs, query_sig,
                                                 compute_signatures(theirs), called_template)
        if is_copy:
            assert v is not None and v.relation == "cropped", v
        else:
            assert v is None, v


def test_a_template_to_the_grids_is_an_edit_where_one_region_of_blocks_differs() -> None:
    # A patch cloned over a picture can move its thumbnail enough for the grids to see
    # another picture of the layout (bench/duplicates.py: Painting-Colors' local edit,
    # Silk's sticker). Blocks agreeing everywhere but in one compact region make it
    # the edit, boxed where the patch is.
    rng = np.random.default_rng(5)
    texture = np.asarray(Image.fromarray(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
                         .filter(ImageFilter.GaussianBlur(4))).astype(int)
    original = Image.fromarray(np.clip((texture - 128) * 4 + 128, 0, 255).astype(np.uint8))
    patched = original.copy()
    patched.paste(original.crop((500, 350, 753, 540)).rotate(180), (80, 60))
    ImageDraw.Draw(patched).text((100, 120), "731$", fill=(255, 0, 0))
    query, theirs = dec(patched), dec(original)
    query_sig, their_sig = compute_signatures(query), compute_signatures(theirs)
    found = pixelmatch._pixel_verdict(query, theirs, query_sig, their_sig)
    assert found is not None and found[1] is not None
    called_template = (replace(found[0], relation="template", changed_box=None), *found[1:])
    v = pixelmatch._copy_the_grids_misjudged(query, theirs, query_sig, their_sig,
                                             called_template)
    assert v is not None and v.relation == "edited", v
    assert overlaps(v.changed_box, (80, 60, 253, 190)), v.changed_box


def test_keypoints_confirm_the_grids_only_where_many_map_the_query_as_they_do() -> None:
    # A crop of a dark, smooth wallpaper has too little texture for the blocks; the
    # grids' crop then stands past UNCHECKED_RADIUS only when enough keypoints put
    # the query where the grids do.
    other = DecodedImage(Image.new("RGB", (1600, 1200)), "PNG", 1600, 1200, "RGB", 1)
    grids = matching.Alignment(0.5, 0.5, 100.0, 40.0, False, 14, False)
    comparison = matching.Comparison(np.zeros((4, 4)), 0.0, 1.0, 0.6, grids)
    found = (PairVerdict("cropped", 14, None, 0.6), comparison,
             matching.Grid(np.zeros((4, 4), dtype=np.float32), (0.0, 0.0, 800.0, 560.0)))
    many = pixelmatch.KEYPOINTS_CONFIRM
    assert pixelmatch._keypoints_confirm(
        features.FeatureAlignment(0.5, 0.0, 101.0, 39.0, many), found, other)
    assert not pixelmatch._keypoints_confirm(
        features.FeatureAlignment(0.5, 0.0, 101.0, 39.0, many - 1), found, other)
    assert not pixelmatch._keypoints_confirm(  # 6% larger: another place in the other
        features.FeatureAlignment(0.53, 0.0, 100.0, 40.0, 4 * many), found, other)
    assert not pixelmatch._keypoints_confirm(None, found, other)


def _grid_check(judged: np.ndarray, disagreeing: np.ndarray,
                smooth_agreeing: np.ndarray) -> BlockCheck:
    """A block check of a 128 x 96 region, one block per 16 x 16 pixels, with these
    grids: no line profiles, no shifts, no block at one distinct place."""
    return BlockCheck(disagreeing, judged, (0.0, 0.0, 128.0, 96.0),
                      np.zeros(96), np.zeros((2, 96)), False, True, np.zeros((3, 2)),
                      np.zeros_like(judged), smooth_agreeing)


def test_a_pictures_worth_of_agreeing_shading_counts_a_few_blocks_do_not() -> None:
    # A crop of a colour dialog: its only textured blocks are one row of alike buttons,
    # which agree in any two screenshots of the app; the colour gradient agreeing
    # below them shows the same picture. Two or three blocks of a background gradient,
    # which a chat and a receipt can share, do not.
    rows, cols = 6, 8
    buttons = np.zeros((rows, cols), dtype=bool)
    buttons[1, 1:7] = True
    nothing = np.zeros_like(buttons)
    gradient = np.zeros_like(buttons)
    gradient[2:5, 2:6] = True
    background = np.zeros_like(buttons)
    background[2:4, 2] = True
    background[4, 5] = True

    def check(smooth_agreeing: np.ndarray) -> BlockCheck:
        return _grid_check(buttons, nothing, smooth_agreeing)

    assert not check(nothing).agreement_pins_the_pair
    assert check(gradient).agreement_pins_the_pair
    assert not check(background).agreement_pins_the_pair
    # Nor do those few count as content that agrees when an edit is weighed.
    assert check(gradient).content_blocks == int(buttons.sum() + gradient.sum())
    assert check(background).content_blocks == int(buttons.sum())


def test_faint_shading_agrees_with_the_same_shading_not_with_a_flat_area() -> None:
    # bench/duplicates.py with a pool of 128: a wallpaper's yellow "SALE" sticker,
    # aligned by 22 keypoints onto a bank receipt's green tick, was called a crop of
    # the receipt: one textured block agreed (the disc's rim), and 9 blocks of the
    # wallpaper's faint water "agreed" with the receipt's flat header, as shading
    # within SMOOTH_AGREE of nothing at all. Three blocks of one faint ramp (std 1.7,
    # 1.5 grey levels from its mean on average) against the same ramp, a flat area,
    # and the ramp brighter.
    s, b = blockmatch.SEARCH, blockmatch.BLOCK
    _y, x = np.mgrid[0:b + 2 * s, 0:3 * b + 2 * s].astype(np.float64)
    ramp = 100 + 0.37 * (x % b)
    other = ramp.copy()
    other[:, s + b:s + 2 * b] = 100.0
    other[:, s + 2 * b:] += 20
    blocks = ramp[s:s + b, s:s + 3 * b].reshape(1, b, 3, b).transpose(0, 2, 1, 3)
    agreeing = blockmatch._smooth_agreeing(
        blocks, blocks.std(axis=(2, 3)), other, np.array([0]), np.arange(3) * b,
        np.full((1, 3, 2), s), np.ones((1, 3), dtype=bool))
    assert agreeing.tolist() == [[True, False, True]]


def test_a_block_is_inside_the_other_only_where_its_whole_search_window_is() -> None:
    # `_all_inside` counts outside samples on an integral image; each window is also
    # tested sample by sample here, on masks with ragged edges and single-sample holes.
    rng = np.random.default_rng(7)
    size = blockmatch.BLOCK + 2 * blockmatch.SEARCH
    outcomes: set[bool] = set()
    for _ in range(20):
        rows, cols = rng.integers(2, 9, size=2)
        shape = (rows * blockmatch.BLOCK + 2 * blockmatch.SEARCH,
                 cols * blockmatch.BLOCK + 2 * blockmatch.SEARCH)
        inside = np.ones(shape, dtype=bool)
        inside[: rng.integers(0, 30)] = False
        inside[:, shape[1] - rng.integers(0, 30):] = False
        holes = rng.integers(0, shape, size=(3, 2))
        inside[holes[:, 0], holes[:, 1]] = False
        top, left = np.arange(rows) * blockmatch.BLOCK, np.arange(cols) * blockmatch.BLOCK
        expected = sliding_window_view(inside, (size, size))[top][:, left].all(axis=(2, 3))
        found = blockmatch._all_inside(inside, top, left, size)
        assert found.tolist() == expected.tolist()
        outcomes.update(expected.ravel().tolist())
    assert outcomes == {True, False}


def test_a_flat_overlap_is_no_evidence_for_a_duplicate_on_the_grids_alone() -> None:
    # bench/duplicates.py: a 60% crop of GIMP's symmetry example (a flat light-blue
    # square, two slivers of pepper at its edge) was called `cropped` of a city photo,
    # a wallpaper and a dialog: no textured blocks, no keypoints, and the grids
    # overlapping only its flat part, which agrees with any flat area.
    rng = np.random.default_rng(3)
    square = np.full((96, 96), 180.0, dtype=np.float32)
    square[:, 88:] = rng.uniform(40.0, 120.0, size=(96, 8))  # the slivers, at the edge
    q = matching.Grid(square, (0.0, 0.0, 96.0, 96.0))
    claim = PairVerdict("cropped", 4, None, 0.9)
    same_place = matching.Alignment(1.0, 1.0, 0.0, 0.0, False, 4, False)

    def found(other: matching.Grid) -> tuple[PairVerdict, matching.Comparison, matching.Grid]:
        compared = matching._compare_aligned(q, other, same_place)
        assert compared is not None
        return claim, compared, q

    flat_beside_the_slivers = matching.Grid(np.full((96, 80), 181.0, dtype=np.float32),
                                            (0.0, 0.0, 80.0, 96.0))
    assert not pixelmatch._overlap_has_content(found(flat_beside_the_slivers))
    # Overlapping the slivers, or a copy of the whole square: there is content to judge.
    flat_over_them = matching.Grid(np.full((96, 96), 181.0, dtype=np.float32), q.box)
    assert pixelmatch._overlap_has_content(found(flat_over_them))
    assert pixelmatch._overlap_has_content(found(matching.Grid(square.copy(), q.box)))


def test_the_rest_of_a_smooth_picture_around_an_edit_is_judged_on_its_shading() -> None:
    # A wallpaper with 8 textured blocks, 5 of them under the edit the grids boxed (the
    # right three columns): 3 textured blocks are left outside. With a picture's worth
    # of shading agreeing there, the rest still shows the picture and is judged; with
    # none, too little is left to judge.
    rows, cols = 6, 8
    textured = np.zeros((rows, cols), dtype=bool)
    textured[1, 1:4] = True
    textured[2:4, 5:7] = True
    textured[4, 6] = True
    nothing = np.zeros_like(textured)
    shading = np.zeros_like(textured)
    shading[2:5, 0:4] = True
    under_edit = textured.copy()
    under_edit[:, :5] = False
    edit = (80, 0, 48, 96)  # x, y, w, h in the query's pixels: columns 5-7

    def check(smooth_agreeing: np.ndarray) -> BlockCheck:
        return _grid_check(textured, under_edit, smooth_agreeing)

    rest = check(shading).ignoring(edit)
    assert rest is not None
    assert rest.blocks == 3 and rest.disagree_count == 0 and rest.agreement_pins_the_pair
    assert check(nothing).ignoring(edit) is None


def _wide_dialog(seed: int) -> Image.Image:
    """A 740 x 220 dialog strip: a toolbar of buttons over a row of drop-downs, like
    GIMP's animation playback dialog."""
    rng = random.Random(seed)
    img = Image.new("RGB", (740, 220), (236, 236, 236))
    d = ImageDraw.Draw(img)
    for x in range(8, 300, 34):  # toolbar buttons
        d.rectangle((x, 30, x + 26, 56), outline=(60, 60, 60), width=2)
        d.polygon([(x + 8, 36), (x + 8, 50), (x + 20, 43)], fill=(40, 90, 160))
    d.rectangle((300, 70, 440, 170), fill=(255, 255, 255), outline=(120, 120, 120))
    for x in range(6, 740, 150):  # drop-downs with labels
        d.rectangle((x, 186, x + 140, 212), outline=(90, 90, 90), width=2)
        d.text((x + 8, 192), rng.choice(WORDS), fill=(0, 0, 0), font=_font(13))
    d.text((250, 6), " ".join(rng.choice(WORDS) for _ in range(4)), fill=(0, 0, 0),
           font=_font(14))
    for _ in range(3):
        y = rng.randrange(80, 160)
        d.text((rng.randrange(470, 640), y), rng.choice(WORDS), fill=(0, 0, 0), font=_font(13))
    return img


def test_a_rotated_copy_of_a_wide_strip_of_a_dialog_is_judged_on_enough_blocks() -> None:
    """At WIDTH samples across, a 740 x 220 dialog was three rows of blocks, one once
    the rim was left out: a rotated copy, 124 keypoints aligning it, had too few blocks
    to judge and was no match (bench/duplicates.py --limit 0: GIMP's playback dialog
    rotated, brightened, bordered). Sampled finer until it has MIN_BLOCK_ROWS, it is a
    copy; another dialog of the layout, rotated the same, is not."""
    own, stranger = _wide_dialog(1), _wide_dialog(2)
    query = dec(own.rotate(5, resample=Image.Resampling.BILINEAR), "JPEG", quality=85)
    same = compare_images(query, dec(own))
    assert same is not None and same.relation in ("cropped", "resized"), same
    other = compare_images(query, dec(stranger))
    assert other is None or not other.is_duplicate, other


def test_matches_collapsing_onto_one_spot_are_set_aside_for_the_true_fit() -> None:
    """A local edit's price tag on a smooth wallpaper: many of the original's weak
    corners matched the tag's letters, found again at every pyramid level within a few
    pixels, and RANSAC preferred the transform shrinking the original onto that spot
    (61 "inliers") to the true one; `align` then refused it for its scale and the edit
    was no match (bench/duplicates.py --limit 0: rhythm). The true fit is found."""
    rng = np.random.default_rng(3)
    o_points = rng.uniform(0, 700, (50, 2)).astype(np.float32)
    q_points = o_points.copy()
    q_points[20:] = np.float32([350, 350]) + rng.uniform(-0.5, 0.5, (30, 2)).astype(np.float32)
    descriptors = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    fitted = features._fit(q_points, descriptors, o_points, descriptors, 720)
    assert fitted is not None
    matrix, inliers = fitted
    assert inliers == 20
    assert np.allclose(matrix, [[1, 0, 0], [0, 1, 0]], atol=1e-3)
    # Nothing but the collapse, or the collapse and one stray match: no fit, no error.
    for kept in (30, 31):
        assert features._fit(q_points[-kept:], descriptors[-kept:], o_points[-kept:],
                             descriptors[-kept:], 720) is None


def faint_flecks(seed: int) -> Image.Image:
    """A smooth wallpaper whose only corners are faint flecks, 9-13 grey levels deep:
    too faint for ORB's default FAST threshold to find enough of."""
    rng = np.random.default_rng(seed)
    h, w = 800, 1200
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 110 + 40 * np.sin(x / 210 + rng.uniform(0, 6)) * np.cos(y / 170) + 0.02 * x
    grey = shade + flecks(rng, (w, h), 700, (5, 14), (9, 14))
    rgb = np.stack([grey, grey * 0.9, grey * 0.75], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def price_tagged(picture: Image.Image) -> Image.Image:
    """bench/duplicates.py's local edit: a patch of the picture, turned, and a price."""
    edited = picture.copy()
    edited.paste(picture.crop((100, 450, 480, 703)).transpose(Image.Transpose.ROTATE_180),
                 (700, 80))
    ImageDraw.Draw(edited).text((740, 160), "512$", fill=(255, 0, 0), font=_font(80))
    return edited


@pytest.mark.parametrize("seed", [1, 6])
def test_an_edit_whose_sharp_print_ends_the_corner_search_early_aligns(seed: int) -> None:
    """A local edit on a smooth wallpaper (a patch of itself and a red price): its print
    gives the copy enough corners at FAST threshold 20, where the wallpaper needed 8,
    so the copy's keypoints were the edit's alone and nothing aligned it with its
    original (bench/duplicates.py: MATE's Blinds and Stripes, whose local edits were
    no match). Both found at the lower threshold, they align at the identity."""
    original = faint_flecks(seed)
    query, mine = (dec(picture, "JPEG", quality=90).image
                   for picture in (price_tagged(original), original))
    own_query, own_original = features._keypoints(query), features._keypoints(mine)
    assert own_query is not None and own_original is not None
    assert own_query.threshold > own_original.threshold  # the premise
    aligned = features.align(query, mine)
    assert aligned is not None and aligned.inliers >= 100, aligned
    assert abs(aligned.sx - 1) < 0.01 and abs(aligned.rot) < 0.01
    assert abs(aligned.tx) < 2 and abs(aligned.ty) < 2
    # And mirrored: the query at the lower threshold, the other found again.
    back = features.align(mine, query)
    assert back is not None and back.inliers >= 100 and abs(back.sx - 1) < 0.01, back


def test_a_flat_picture_does_not_take_a_contrasty_ones_contrast_for_its_own() -> None:
    """Grids are compared after matching the other's contrast to the query's, so that a
    brighter or greyer copy still agrees; but not by any factor: matched 50 times down,
    any picture looks like a flat one (GIMP's faint "draft" against a colour wheel)."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:48, 0:48].astype(np.float32)
    wheel = (128 + 90 * np.sin(x / 7) * np.cos(y / 9)).astype(np.float32)
    flat = (52 + rng.normal(0, 0.5, wheel.shape)).astype(np.float32)  # half a grey level
    box = (0.0, 0.0, 480.0, 480.0)
    same_place = matching.Alignment(1.0, 1.0, 0.0, 0.0, False, 8, True, True)

    def verdict(query: np.ndarray, other: np.ndarray) -> PairVerdict | None:
        q = matching.Grid(query, box)
        # Compared where they lie, not searched for a better alignment (which a flat
        # picture would find anywhere).
        found = matching._compare_aligned(q, matching.Grid(other, box), same_place)
        assert found is not None
        return matching.grid_verdict(found, q, matching.CELL_CHANGED)

    for query, other in ((flat, wheel), (wheel, flat)):
        v = verdict(query, other)
        assert v is None or not v.is_duplicate, v
    # A copy 30% less contrasty and brighter, and one twice as contrasty, still are copies.
    for copy in (0.7 * wheel + 60, 2.0 * (wheel - 128) + 128):
        v = verdict(copy.astype(np.float32), wheel)
        assert v is not None and v.relation == "resized", v


def test_the_blocks_field_extends_a_rough_alignment_past_the_region_it_was_fitted_on() -> None:
    """A coarse alignment 3% off in scale lines a chat's top up within the blocks'
    search; the field they fit, extended down the screen, puts its foot where it is."""
    chat = render_chat(18, "greenapp")
    crop = chat.crop((50, 90, 1016, 2183))  # the chat at (x + 50, y + 90)
    centre = np.array([483.0, 550.0])
    scale = 1.03
    tx, ty = centre - scale * (centre + np.array([50.0, 90.0]))
    rough = features.FeatureAlignment(sx=scale, rot=0.0, tx=float(tx), ty=float(ty),
                                      inliers=50)
    check = check_blocks(crop, chat, (0, 200, 966, 700), (0, 0, 1080, 2340), rough)
    assert check is not None and not check.disagreeing.any()
    refined = blockmatch.FieldAligned(rough, check)
    foot_x, foot_y = np.array([100.0, 900.0]), np.array([2000.0, 2000.0])
    for al, within in ((rough, (30, 60)), (refined, (0, 3))):
        ox, oy = al.to_other(foot_x, foot_y)
        error = float(np.hypot(ox - (foot_x + 50), oy - (foot_y + 90)).max())
        assert within[0] <= error <= within[1], (al, error)


def test_a_copy_is_judged_on_all_the_screen_both_cover_not_its_canonical_region_alone() -> None:
    """Two screenshots that agree only where the query's canonical region lies (two GIMP
    dialogs sharing their top rows, here two chats sharing their first messages) are no
    copy once the rest of the screen both cover is judged; a crop of the one is."""
    chat = render_chat(18, "greenapp")
    spliced = chat.copy()
    spliced.paste(render_chat(5, "greenapp").crop((0, 1287, 1080, 2340)), (0, 1287))
    original = dec(chat)
    for query, is_copy in ((chat, True), (spliced, False)):
        crop = dec(query.crop((50, 90, 1016, 2183)))
        # The canonical region as a dialog's can be: a band of the picture only.
        top_band = replace(compute_signatures(crop), canon_box=(0, 200, 966, 700))
        verdict = compare_images(crop, original, top_band, compute_signatures(original))
        assert (verdict is not None and verdict.is_duplicate) == is_copy, verdict

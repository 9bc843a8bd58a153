"""The second opinion on transaction codes (`proofcheck.text.codes`): misreads met on
bench/signals.py's Latin pages (seeds 20261225, 20261229, 20261230), drawn again here in
their font, the font left out of the templates, with Tesseract's reads put back as it
had them (`recheck_read_as`), then re-checked."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from proofcheck.text import codes
from proofcheck.text import glyphs as gl
from proofcheck.text.words import Word
from tests.test_ocr import FONTS, _glyph_row, recheck_read_as

DEJAVU = FONTS / "dejavu/DejaVuSans.ttf"


def test_a_mark_is_the_character_a_read_one_too_long_drops_unless_it_sits_on_a_glyph() -> None:
    """"M4VR9VS2SJ" read "MAVROVSZ2S]": one character too many. Dropping the "]" shifted
    the "2" and "S" onto the wrong glyphs, and the "S" onto the "J"; dropping the "Z"
    leaves the mark on the "J", which the templates then name."""
    words = recheck_read_as("Nr transakcji: M4VR9VS2SJ", "MAVROVSZ2S]", ["M4VR9VS2S"],
                            DEJAVU, "DejaVuSans")
    assert words[-1] == "M4VR9VS2SJ"


def test_a_read_one_character_too_long_has_its_say_at_each_glyph() -> None:
    """Both reads alone of "UITI3WRBQ2ZW" had the right length and a "B" for the "3";
    only the page read, one character too long ("UITI3ZWRBQ2ZW"), had the "3". Laid on
    the glyphs, it is a rival read there, and the templates decide between them."""
    words = recheck_read_as("Nr transakcji: UITI3WRBQ2ZW", "UITI3ZWRBQ2ZW", ["UITIBWRBQ2ZW"],
                            DEJAVU, "DejaVuSans")
    assert words[-1] == "UITI3WRBQ2ZW"


def test_a_nine_the_reads_took_for_a_round_letter_stays_a_nine() -> None:
    """"J9GHJSNB39OPD": the page read had a "J" for the "9", the reads alone an "O", and
    the templates chose among "J", "O" and "0" only: "0", then "O" by its shape. A bowl
    that is no ring is a "9" whatever the reads had."""
    words = recheck_read_as("Nr transakcji: J9GHJSNB39OPD", "JJGHJSNB39OPD", ["JOGHJSNB390PD"],
                            DEJAVU, "DejaVuSans")
    assert words[-1] == "J9GHJSNB39OPD"


@pytest.mark.parametrize("font", ["dejavu/DejaVuSans.ttf", "noto/NotoSans-Regular.ttf",
                                  "noto/NotoSerif-Regular.ttf"])
def test_a_bar_reaching_below_the_baseline_is_a_j(font: str) -> None:
    """Every read of "50XIQIJD9Q" had an "I" for the "J", and the stroke rule agreed: a
    "J"'s stem is a bar. It reaches below the code's baseline, which no "I" does."""
    family = font.split("/")[1].split("-")[0].removesuffix(".ttf")
    words = recheck_read_as("50XIQIJD9Q Imethibitishwa.", "50XIQIIDIQ", ["50XIQIIDIQ"],
                            FONTS / font, family)
    assert words[0] == "50XIQIJD9Q"
    words = recheck_read_as("50XIQIID9Q Imethibitishwa.", "50XIQIID9Q", ["50XIQIID9Q"],
                            FONTS / font, family)
    assert words[0] == "50XIQIID9Q"


@pytest.mark.parametrize(("line", "page_read", "alone", "font", "family"), [
    # Three marks for two glyphs ("I7"), after an id label.
    ("Nr transakcji: I7BCKP4VE", "|[/BCKP4VE", ["I7BCKP4VE"], "dejavu/DejaVuSans.ttf",
     "DejaVuSans"),
    # An underscore where no glyph is.
    ("Nr transakcji: E2LY6BCF", "E2_LYGBCF", ["E2LY6BCF"], "noto/NotoSans-Bold.ttf",
     "NotoSans-"),
    # A small non-ASCII letter.
    ("Nr transakcji: D6GICU0W0W", "D6éGICUOWOW", ["D6GICUOWOW"],
     "noto/NotoSans-Regular.ttf", "NotoSans-"),
])
def test_codes_read_with_marks_no_id_takes_are_rechecked(line: str, page_read: str,
                                                        alone: list[str], font: str,
                                                        family: str) -> None:
    """Each was read with what no id pattern takes, and was no id at all: the re-check
    passed it by as no code."""
    words = recheck_read_as(line, page_read, alone, FONTS / font, family)
    assert words[-1] == line.split()[-1]


def _code_read_twice(text: str, tail: int) -> tuple[list[Word], Image.Image]:
    """`text` ("CODE Imethibitishwa.") drawn in DejaVu Sans Bold and read as Tesseract
    read "F4IA5E3ITU": the code's word boxed over all of it, then its last `tail`
    characters again as a word of their own, boxed inside the first."""
    face = ImageFont.truetype(str(FONTS / "dejavu/DejaVuSans-Bold.ttf"), 42)
    img = Image.new("L", (1080, 200), 255)
    draw = ImageDraw.Draw(img)
    draw.text((80, 80), text, font=face, fill=20)
    code, after = text.split()
    x1, y1, x2, y2 = (round(v) for v in draw.textbbox((80, 80), code, font=face))
    head = round(80 + draw.textlength(code[:-tail], font=face))
    ax = round(80 + draw.textlength(code + " ", font=face))
    return [Word(code[:-tail], (x1, y1, x2 - x1, y2 - y1), 0.37, 0),
            Word(code[-tail:], (head, y1 - 4, x2 - head - 5, y2 - y1 + 8), 0.92, 0),
            Word(after, (ax, y1, 300, y2 - y1), 0.91, 0)], img


def test_a_codes_end_read_again_as_a_word_inside_its_box_is_joined_to_it() -> None:
    """Tesseract read DejaVu Sans Bold's "F4IA5E3ITU" as "F41IA5E3", boxed over the whole
    code, and "ITU" inside that box; re-checked, the code came out right and "ITU"
    stayed, so that no code stood before "Imethibitishwa"."""
    words, img = _code_read_twice("F4IA5E3ITU Imethibitishwa.", 3)
    codes._join_split_codes(words, img, 1.0, "")
    assert [w.text for w in words] == ["F4IA5E3ITU", "Imethibitishwa."]
    # Words side by side, as Tesseract boxes them, are no such echo.
    assert not codes._boxed_inside((200, 0, 40, 30), (100, 0, 95, 30))
    assert codes._boxed_inside((180, 0, 26, 30), (100, 0, 102, 30))


def test_only_a_j_or_a_q_reaches_below_a_codes_baseline() -> None:
    """As measured on the nine fonts of bench/codes.py, in four of them here."""
    for name in ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf", "noto/NotoSans-Bold.ttf",
                 "noto/NotoSerif-Regular.ttf"):
        face = ImageFont.truetype(str(FONTS / name), 40)
        img = Image.new("L", (600, 80), 255)
        ImageDraw.Draw(img).text((10, 10), "AJ1IL7TQO", font=face, fill=0)
        glyphs = gl.glyph_components(np.asarray(img))
        assert [codes._descends(g, glyphs) for g in glyphs] == \
            [False, True, False, False, False, False, False, True, False], name


def test_a_narrow_letter_joined_to_the_next_is_two_when_every_read_says_so() -> None:
    """"IT5AJ0IMZ8I" (Noto Sans, 70%): "IT" joined into one glyph 1.76 times the median
    width, too narrow to count as two; every read had eleven characters, and fitted to
    ten glyphs the code lost its "I". When every read needs one more pair, the widest
    glyph from 1.6 medians is that pair; reads that disagree, or no glyph that wide,
    leave the count as it was. (Widths as measured on the page.)"""
    widths = [22, 12, 16, 8, 13, 7, 19, 13, 12, 7]
    glyphs = _glyph_row(widths)
    per_char = codes._per_character(glyphs, ["IT5AJOIMZ8I", "ITSAJOIMZ81", "ITSAJOIMZ81"])
    assert per_char[:2] == [None, None] and len(per_char) == 11
    assert len(codes._per_character(glyphs, ["IT5AJOIMZ8I", "ITSAJOIMZ8"])) == 10
    narrower = _glyph_row([18, *widths[1:]])  # 1.44 medians: one letter
    assert len(codes._per_character(narrower, ["IT5AJOIMZ8I"] * 3)) == 10

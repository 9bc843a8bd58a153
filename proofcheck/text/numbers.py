"""Numbers re-read from pixels and fused with Tesseract's reading.

Debian's Persian model cannot output the thousands separator ٬ and reads it, and the
date slash, as digits; it also boxes only part of a long number. Each number-like run
of words is therefore re-read from its glyphs (`_reread_number`): connected components
split it, separators are told by size, place and slant, digits by templates made
consistent across the page (`glyphs.PageDigits`). The result is fused with
Tesseract's digits (`_fuse`). Digits run left to right, so the visual order is also
the logical one, which fixes Tesseract reversing the groups of a card number inside a
right-to-left line. Split from `ocr` on 2026-12-02, when that module had grown past
900 lines; `ocr` calls `reread_numbers` once per page.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
from PIL import Image

from proofcheck import memo

from .fields import (
    in_amount_place,
    in_id_place,
    is_currency_word,
    is_field_word,
    possible_date,
)
from .glyphs import (
    ARABIC_DIGITS,
    PERSIAN_DIGITS,
    STROKE_STEP,
    Comp,
    DigitTemplates,
    PageDigits,
    classify_marks,
    digit_templates,
    glyph_components,
    part_decimal_marks,
)
from .normalize import strip_bidi, to_ascii_digits
from .statusbar import in_status_bar
from .words import Box, Word, union

_LATIN_DIGITS = "0123456789"
_ANY_DIGITS = set(PERSIAN_DIGITS + ARABIC_DIGITS + _LATIN_DIGITS)
_NUMBER_PUNCT = set("/-:.,٬٫،'")


# A number's box is grown over print next to it that no word claims, across blank gaps
# up to this share of the line's height: Tesseract often boxes only part of a long
# Persian number ("۰۰" and "۱۷" of "۱۷٬۰۸۰٬۰۰۰", the dots of "۶٬۱۳۰٬۰۰۰") and the re-read
# saw only that part. Zeros are dots a digit's width apart, so the gap is generous.
_GROW_GAP = 0.5
# Other words' boxes are widened by this share of the line's height before growing.
_CLAIM_MARGIN = 0.25
# A blank this share of the line's height wide parts two words (`_widest_print`).
_WORD_SPACE = 0.2
# A word Tesseract is this sure of is no part of a number whose box reaches over it;
# below it, a word with a digit in it may be a misread number (`_maybe_number`).
_SURE_WORD = 0.8
# A template digit this sure that overrules Tesseract shows a misreading of Tesseract's
# that the rest of the number may repeat (`_fuse`).
_SURE_OVER_TESSERACT = 0.9
# A re-read this sure of each of its glyphs stands against a sure Tesseract reading of
# another digit count: Tesseract read DejaVu Sans Bold's "۳۷۰۲۳۱۰۸۵۲۴۵" with a digit
# short at 0.86, the re-read was right at 0.76 and more on every glyph. On 1,750 Persian
# and Arabic pages of bench/signals.py, 3 ids fixed and nothing else changed.
_SURE_OF_EVERY_DIGIT = 0.6
# Fewer digits than this in a cluster Tesseract read unsurely do not tell its script.
_SCRIPT_EVIDENCE = 3
# Tesseract's digits with one too many are laid on the re-read's without the digit
# that leaves the fewest differing, and judged digit by digit, when this few differ;
# with one too few, on the page's glyphs for its votes (`_with_one_unread`).
_EXTRA_DIGIT_MAX_DIFFERING = 2
# How sure of a glyph the re-read must be for a digit the page rules out there to count
# against Tesseract (`PageDigits.ruled_out`): Homa's ۲ was right at 0.50-0.62 in ids
# Tesseract read with a ۷; where the re-read was 0.11 and 0.22 sure (two Homa amounts
# in Latin digits on Arabic pages) Tesseract was right.
_RULED_OUT_FLOOR = 0.4
# More ways than this of choosing which marks Tesseract read as digits: none is tried.
_MAX_MARK_CHOICES = 20


def _grown_boxes(words: list[Word], gray: Image.Image, scale: float,
                 height: float) -> list[Box]:
    """Each word's box, number words' grown over unclaimed print along the line."""
    grow = [i for i, w in enumerate(words) if _is_number_word(w)]
    if not grow:
        return [w.box for w in words]
    boxes = _clipped_boxes(words, grow)
    top = max(0, round(min(w.box[1] for w in words) * scale))
    bottom = min(gray.height, round(max(w.box[1] + w.box[3] for w in words) * scale))
    if bottom - top < 2:
        return boxes
    band = np.asarray(gray.crop((0, top, gray.width, bottom)), dtype=np.int16)
    steps_x = np.abs(np.diff(band, axis=1)) >= STROKE_STEP
    steps_y = np.abs(np.diff(band, axis=0)) >= STROKE_STEP
    ink = np.zeros(band.shape, dtype=bool)
    ink[:, 1:] |= steps_x
    ink[1:, :] |= steps_y
    columns: list[bool] = (np.count_nonzero(ink, axis=0) > 0).tolist()
    # Other words' spans, widened: a letter's stroke often pokes a few pixels out of
    # Tesseract's box ("ریال" next to an amount gave the amount a leading "۱").
    margin = round(_CLAIM_MARGIN * height * scale)
    space = max(2, round(_WORD_SPACE * height * scale))
    spans = []
    for w in words:
        a, b = round(w.box[0] * scale), round((w.box[0] + w.box[2]) * scale)
        if is_currency_word(w.text):
            a, b = _widest_print(columns, a, b, space)
        spans.append((max(0, a - margin), min(gray.width, b + margin)))
    claimed = np.zeros(gray.width + 1, dtype=np.int32)
    for a, b in spans:
        claimed[a] += 1
        claimed[b] -= 1
    claimed = np.cumsum(claimed)[:-1]
    gap = max(2, round(_GROW_GAP * height * scale))
    for i in grow:
        x0 = max(0, round(boxes[i][0] * scale))
        x1 = min(gray.width, round((boxes[i][0] + boxes[i][2]) * scale))
        by_others = claimed.copy()
        by_others[spans[i][0]:spans[i][1]] -= 1
        free: list[bool] = (by_others == 0).tolist()
        left, right = x0, x1
        for step, edge in ((-1, x0 - 1), (1, x1)):
            blank = 0
            x = edge
            while 0 <= x < gray.width and free[x] and blank <= gap:
                if columns[x]:
                    blank = 0
                    left, right = min(left, x), max(right, x + 1)
                else:
                    blank += 1
                x += step
        if (left, right) == (x0, x1):
            continue
        # As tall as the print found: the box of "۰۰۰" can be the dots' height.
        y0 = round(boxes[i][1] * scale)
        y1 = round((boxes[i][1] + boxes[i][3]) * scale)
        rows = np.flatnonzero(ink[:, left:right].any(axis=1))
        if rows.size:
            y0, y1 = min(y0, top + int(rows[0])), max(y1, top + int(rows[-1]) + 1)
        boxes[i] = (round(left / scale), round(y0 / scale), max(1, round((right - left) / scale)),
                    max(1, round((y1 - y0) / scale)))
    return boxes


def _widest_print(columns: list[bool], a: int, b: int, space: int) -> tuple[int, int]:
    """Of the columns [a, b) of a word's box, the widest run of print that blanks of
    `space` columns or more part from the rest (all of them when none do). Tesseract's
    box of the currency word after an amount can take in the amount's first digits, a
    word space away: "۳۰٬۸" of "۳۰٬۸۳۰٬۰۰۰" inside the box of "تومان" and the first "۶"
    of "۶۶۹٬۰۰۰" inside "ریال" (Nazli), which the amount then lost. On the pages traced,
    blanks inside such words were at most 0.15 of the line's height, those spaces
    0.27-0.29."""
    runs: list[tuple[int, int]] = []
    blank = space  # the first print starts a run
    for x in range(max(a, 0), min(b, len(columns))):
        if columns[x]:
            if blank >= space:
                runs.append((x, x + 1))
            else:
                runs[-1] = (runs[-1][0], x + 1)
            blank = 0
        else:
            blank += 1
    if len(runs) < 2:
        return a, b
    return max(runs, key=lambda run: run[1] - run[0])


def _digits_and_others(text: str) -> tuple[int, int]:
    """How many digits, and how many characters neither digit nor number punctuation."""
    # Tesseract ends some right-to-left numbers with a right-to-left mark.
    text = strip_bidi(text)
    digits = sum(ch in _ANY_DIGITS for ch in text)
    return digits, sum(ch not in _ANY_DIGITS and ch not in _NUMBER_PUNCT for ch in text)


def _clipped_boxes(words: list[Word], numbers: list[int]) -> list[Box]:
    """Each word's box, those of `numbers` cut back where they reach over a word
    Tesseract is sure of: the box of "۱۷۵۰۱" had spanned "تحویل" and "تم" beside it
    (Nazli), and their letters were re-read as the digits "۵۶۶" (the cut left it half
    its width). A box the cut would leave narrower than 0.3 of itself stays as it was:
    the sure word's box is then the likelier to be wrong."""
    boxes = [w.box for w in words]
    for i in numbers:
        x, y, w, h = boxes[i]
        left, right = x, x + w
        centre = x + w / 2
        for j, other in enumerate(words):
            if j in numbers or other.confidence < _SURE_WORD:
                continue
            ox0, ox1 = other.box[0], other.box[0] + other.box[2]
            if ox1 <= left or ox0 >= right:
                continue
            if ox0 + other.box[2] / 2 >= centre:
                right = min(right, ox0)
            else:
                left = max(left, ox1)
        if right - left >= 0.3 * w:
            boxes[i] = (left, y, right - left, h)
    return boxes


def _is_numberish(text: str) -> bool:
    digits, other = _digits_and_others(text)
    return digits >= 1 and other == 0


def _maybe_number(word: Word) -> bool:
    """A doubtful word with a digit in it: long Persian numbers are often read as a mix
    of digits and letters ("۵ع۱بعع!ب" for "۵۴۱۶۴۴۶۶"); or a long number with one letter
    in it, however sure Tesseract was: that letter is often a digit ("ع۰۱/۰۲/۲۰۲" for
    "۰۱/۰۲/۲۰۲۴" in DejaVu Sans, the ۴ read as ع). Re-read, kept only if every glyph then
    matches a digit template well."""
    digits, other = _digits_and_others(word.text)
    return bool(digits) and (word.confidence < _SURE_WORD or (digits >= 4 and other == 1))


def _is_number_word(word: Word) -> bool:
    """A word the re-read looks at: all digits and marks, or a doubtful one with a digit."""
    return _is_numberish(word.text) or _maybe_number(word)


# The page's digit classifier and the re-read look at the same boxes (a number of one
# word is re-read from the box it was observed in): found once.
@memo.by_identity(64)
def _number_glyphs(
    gray: Image.Image, scale: float, box: Box
) -> tuple[list[tuple[str, Comp]], float] | None:
    """The glyphs of one number's box, labelled by `classify_marks`, and the digits' height;
    None when nothing there is tall enough to be a digit. Callers must not change them."""
    x, y, w, h = (round(v * scale) for v in box)
    pad_y = max(2, round(0.3 * h))
    pad_x = max(2, round(0.25 * h))
    left, top = max(0, x - pad_x), max(0, y - pad_y)
    right, bottom = min(gray.width, x + w + pad_x), min(gray.height, y + h + pad_y)
    if right - left < 4 or bottom - top < 4:
        return None
    comps = glyph_components(np.asarray(gray.crop((left, top, right, bottom))))
    if not comps:
        return None
    max_h = max(c.h for c in comps)
    tall = [c for c in comps if c.h >= 0.6 * max_h]
    band_top = float(np.median([c.y1 for c in tall]))
    band_h = float(np.median([c.y2 for c in tall])) - band_top
    if band_h < 6:
        return None
    comps = part_decimal_marks(comps, band_top, band_h)
    return _split_touching(classify_marks(comps, band_top, band_h), band_h), band_h


def _split_touching(labelled: list[tuple[str, Comp]],
                    band_h: float) -> list[tuple[str, Comp]]:
    """Each digit glyph wider than TOUCHING_WIDTH heights cut into as many digits as
    the number's other digits say it holds, at the columns of least ink near where they
    should part. Shrunk and compressed, DejaVu Sans Bold's ٢ and ٣ join their
    neighbours: "٢٢٢٣" was one glyph, and ids lost digits.

    Digits are as wide as each other in most fonts, ink and spacing together (the
    pitch, from one digit's centre to the next's): a run of n touching digits is n
    pitches less one gap wide. Without two single digits side by side to measure the
    pitch, a digit's ink width stands for it."""
    single = [(kind == "d" and c.h >= 0.6 * band_h and c.w <= TOUCHING_WIDTH * band_h)
              for kind, c in labelled]
    widths = [c.w for (_kind, c), ok in zip(labelled, single, strict=True) if ok]
    digit_w = float(np.median(widths)) if widths else _DIGIT_WIDTH * band_h
    pitches = [(b.x1 + b.x2 - a.x1 - a.x2) / 2
               for (_, a), (_, b), ok_a, ok_b in zip(labelled, labelled[1:], single,
                                                     single[1:], strict=False)
               if ok_a and ok_b]
    pitch = float(np.median(pitches)) if pitches else digit_w
    out: list[tuple[str, Comp]] = []
    for kind, c in labelled:
        parts = (_cut(c, max(2, round((c.w + pitch - digit_w) / pitch)))
                 if kind == "d" and c.w > TOUCHING_WIDTH * band_h else [])
        out += [("d", part) for part in parts] if parts else [(kind, c)]
    return out


def _cut(c: Comp, n: int) -> list[Comp]:
    """`c` cut into `n` glyphs at its columns of least ink within an eighth of a glyph's
    width of an even split (digits are as wide as each other in most fonts, and the
    middle of a ٢ has as little ink as its joint with the next); none when a piece
    would be a sliver, too narrow or too short for a digit."""
    ink = c.mask.sum(axis=0)
    step = c.w / n
    reach = max(1, round(step / 8))
    cuts = [0]
    for k in range(1, n):
        lo, hi = max(cuts[-1] + 1, round(k * step) - reach), min(c.w - 1, round(k * step) + reach)
        if lo >= hi:
            return []
        cuts.append(lo + int(np.argmin(ink[lo:hi + 1])))
    cuts.append(c.w)
    parts: list[Comp] = []
    for a, b in itertools.pairwise(cuts):
        piece = c.mask[:, a:b]
        rows, cols = np.nonzero(piece.any(axis=1))[0], np.nonzero(piece.any(axis=0))[0]
        if not len(rows) or rows[-1] - rows[0] + 1 < 0.6 * c.h or len(cols) < 0.4 * step:
            return []
        top, left = int(rows[0]), a + int(cols[0])
        bottom, right = int(rows[-1]) + 1, a + int(cols[-1]) + 1
        parts.append(Comp(c.x1 + left, c.y1 + top, c.x1 + right, c.y1 + bottom, 0.0,
                          c.mask[top:bottom, left:right], cut=True))
    return parts


def _reread_number(
    gray: Image.Image, scale: float, box: Box, latin: bool = False,
    page: PageDigits | None = None,
) -> tuple[str, list[float], list[str]] | None:
    """Re-read one number (amount, date, card, id) from pixels; None if it is not one.

    Returns the number in visual order with ASCII digits and canonical separators, one
    confidence per digit, and per digit the labels the page rules out for it
    (`PageDigits.ruled_out`; none without `page`). `box` is in input coordinates, `gray`
    is the prepared image. `page`, when given, classifies the digits consistently with
    the page's others.
    """
    glyphs = _number_glyphs(gray, scale, box)
    if glyphs is None:
        return None
    labelled, band_h = glyphs
    templates = digit_templates(latin)
    out = ""
    confs: list[float] = []
    ruled: list[str] = []
    prev: Comp | None = None
    for kind, c in labelled:
        if kind in ("d", "*"):
            wide_gap = prev is not None and c.x1 - prev.x2 > 0.9 * band_h
            if wide_gap and out and out[-1] not in _SEP_CHARS:
                out += " "  # a wide gap: two numbers side by side
            if kind == "*":
                out += "*"
            elif c.h < 0.6 * band_h:
                if latin:
                    continue  # a Latin zero is as tall as any digit: this is noise
                out += "0"
                confs.append(0.95)
                ruled.append("")
            else:
                digit, conf = (page.classify(c.mask, band_h) if page is not None
                               else templates.classify(c.mask))
                if c.w > TOUCHING_WIDTH * band_h:
                    conf = min(conf, _TOUCHING)  # two glyphs touching: one digit is missing
                elif c.cut:
                    conf = min(conf, _CUT)
                out += digit
                confs.append(conf)
                # Two glyphs touching, or a piece cut from them, are no shape of the page.
                whole = not c.cut and c.w <= TOUCHING_WIDTH * band_h
                ruled.append(page.ruled_out(c.mask, band_h) if page is not None and whole
                             else "")
        elif out and out[-1] not in _SEP_CHARS:
            out += _canonical_sep(kind)  # of two marks in a row, the first counts
        prev = c
    out = out.rstrip(_SEP_CHARS + " ")
    if not confs:
        return None
    return out, confs, ruled


# A date's groups as digit counts, and what the first digit of each group can be: Solar
# Hijri years are 13xx/14xx and Gregorian ones 19xx/20xx; months start with 0 or 1, days
# with 0-3. Day-month-year and month-day-year both write 2-2-4, so there neither of the
# first two groups is taken for the month.
_DATE_FIRSTS: dict[tuple[int, ...], tuple[str, str, str]] = {
    (2, 2, 4): ("0123", "0123", "12"),
    (4, 2, 2): ("12", "01", "0123"),
}


_SEP_CHARS = "٬٫/-:.,"
# A digit glyph wider than this many times the digits' height is two or more touching;
# a digit is about this wide when the number has no other to measure.
TOUCHING_WIDTH = 1.3
_DIGIT_WIDTH = 0.8
# The confidence of a re-read digit that is two glyphs touching, one of them unread.
_TOUCHING = 0.2
# At most the confidence of a digit cut from touching glyphs (`_split_touching`): below
# what a number with other words in it needs (`_reread_cluster`), so letters joined
# into one blob and cut up ("یخ" of "بتاريخ" beside a date, in Nazli Bold) are not
# taken for digits; in a number alone, the cut stands where Tesseract read no other
# count of digits.
_CUT = 0.45
# What a Tesseract number with digits of two scripts is worth (`_tesseract_trust`).
_GARBLED = 0.5


def _canonical_sep(sep: str) -> str:
    # Arabic-script thousands/decimal marks come in many shapes; by the time we get
    # here only their role matters, and that is decided later from group lengths.
    if sep in ("٬", ","):
        return "٬"
    if sep in ("٫",):
        return "٫"
    return sep


def reread_numbers(lines: list[list[Word]], gray: Image.Image, scale: float) -> None:
    """Replace runs of number-like words in each line by one re-read word.

    Where Tesseract and the re-read agree, the word gets the better confidence; where
    a clean, confident Tesseract reading has no separator marks the re-read would
    add, Tesseract's reading stays (touching glyphs can fool the components).
    """
    heights = [float(np.median([w.box[3] for w in words])) if words else 0.0
               for words in lines]
    grown = [_grown_boxes(words, gray, scale, height) if words else []
             for words, height in zip(lines, heights, strict=True)]
    pages = _page_digits(lines, grown, gray, scale)
    for words, height, boxes in zip(lines, heights, grown, strict=True):
        if not words:
            continue
        order = sorted(range(len(words)), key=lambda i: boxes[i][0])
        # Runs of visually adjacent words that are numbers or garbled (confidence < 0.5,
        # or one or two letters): a garbled word next to a number is usually a piece of
        # it read as letters ("ب" for the "۶۹" that starts "۶۹۴۴۱۸۲۸۵۱۰۳"). Not a label or
        # currency word, however unsure: a doubtful "ریال" taken in gave amounts a "۵۶"
        # (4 of 400 Persian and Arabic samples, four seeds of bench/signals.py).
        runs: list[list[int]] = []
        prev_i: int | None = None
        for i in order:
            w = words[i]
            kind = _is_number_word(w)
            garbled = len(w.text) <= 2 or (w.confidence < 0.5 and not is_field_word(w.text))
            if kind or garbled:
                near = prev_i is not None and bool(runs) and runs[-1][-1] == prev_i
                if near and prev_i is not None:
                    prev = boxes[prev_i]
                    near = boxes[i][0] - (prev[0] + prev[2]) < 2.5 * height
                if near:
                    runs[-1].append(i)
                else:
                    runs.append([i])
            prev_i = i
        # A run with a digit in it; or garbled words right after an id or amount label,
        # where Homa's stylised digits were read as letters, every one ("سول بسعرعریوعر"
        # for "۴۹۲۴۴۳۲۲۶۹۸۳"), and DejaVu Sans Bold's amounts ("اس" for "۲٬۶۷۰٬۰۰۰"):
        # the re-read keeps them only if they are digits.
        clusters = [r for r in runs if any(_is_number_word(words[i]) for i in r)
                    or _in_value_place(" ".join(w.text for w in words[:min(r)]))]
        replace: dict[int, Word] = {}
        drop: set[int] = set()
        for cl in clusters:
            res = _reread_cluster(words, boxes, cl, gray, scale, pages)
            core = _between_numbers(words, cl) if res is None else cl
            if 1 < len(core) < len(cl):
                # A garbled label at the run's end is no digits, but the garbled words
                # between its numbers may be: Homa's "۲۶۵۳۳۳۳۲۰۸۹۱" read "۲۶۵۳ تسس ۰۸۹۱"
                # after the label "رقم العملية" read "اتعملية:".
                res = _reread_cluster(words, boxes, core, gray, scale, pages)
                cl = core if res is not None else cl
            if res is not None:
                reads = [(cl, res)]
            else:
                # The garbled words were no digits after all: each run of number words
                # between them alone. One box over all of them took in the word between
                # ("ساعت" between a date and a time read as "۶۵": "۰۵:۴۴۶۵۱۴۰۱/۰۴/۰۷").
                reads = []
                for part in _numeric_runs(words, cl):
                    if part == cl:
                        continue  # all of it numbers: already refused as a whole
                    res = _reread_cluster(words, boxes, part, gray, scale, pages)
                    if res is not None:
                        reads.append((part, res))
            for part, (text, box, conf) in reads:
                first = min(part)  # where the reading order put the part's first word
                replace[first] = Word(
                    text=text, box=box, confidence=conf, line=0,
                    language=words[first].language, reread=True,
                )
                drop.update(i for i in part if i != first)
        if replace:
            words[:] = [replace.get(i, w) for i, w in enumerate(words) if i not in drop]


def _in_value_place(before: str) -> bool:
    """Whether a word after `before` on its line stands where an id or amount goes."""
    return in_id_place(before, "") or in_amount_place(before)


def _page_digits(lines: list[list[Word]], grown: list[list[Box]], gray: Image.Image,
                 scale: float) -> dict[bool, PageDigits]:
    """Page-consistent digit classifiers (Latin and Arabic-script) from the digits of
    every number-like word on the page, each seen in its grown box (`_grown_boxes`), as
    it is re-read; a phone screenshot's status bar left out."""
    pages = {latin: PageDigits(digit_templates(latin)) for latin in (False, True)}
    width, height = gray.width / scale, gray.height / scale
    # A page whose print all lies in the status bar's band is a strip with no bar.
    in_bar = [[in_status_bar(box[1], width, height) for box in boxes] for boxes in grown]
    has_bar = not all(all(row) for row in in_bar)
    for words, boxes, bar in zip(lines, grown, in_bar, strict=True):
        for w, box, in_the_bar in zip(words, boxes, bar, strict=True):
            if not _is_number_word(w):
                continue
            if has_bar and in_the_bar:
                # Another font: a status bar "8" of 17 px had taken the label 8 from the
                # Homa 8 of an amount (elimination: two different shapes, two digits).
                continue
            glyphs = _number_glyphs(gray, scale, box)
            if glyphs is None:
                continue
            labelled, band_h = glyphs
            latin = _digit_style(w.text) == _LATIN_DIGITS
            page = pages[latin]
            digits = [c for kind, c in labelled if kind == "d"
                      and (c.h >= 0.6 * band_h or not latin)]  # a Latin zero is full height
            read = _read_per_glyph(labelled, digits,
                                   [ch for ch in to_ascii_digits(w.text) if ch.isdigit()],
                                   page.templates)
            shapes: dict[int, int] = {}  # id of a glyph -> its shape
            for k, c in enumerate(digits):
                if c.h >= 0.6 * band_h:
                    shape = page.observe(c.mask, band_h, read[k] if read else "",
                                         w.confidence)
                    if shape is not None:
                        shapes[id(c)] = shape
            _date_syntax(page, labelled, shapes, band_h)
    for page in pages.values():
        page.resolve()
    return pages


def _read_per_glyph(labelled: list[tuple[str, Comp]], digits: list[Comp],
                    read: list[str], templates: DigitTemplates) -> list[str] | None:
    """Tesseract's digit for each of `digits`, the number's digit glyphs, or None where
    its digits cannot be laid on them: one per glyph, or one per glyph and per mark it
    read as a digit (the Persian model has no ٬ and reads it as a digit: "۴۳۰۳۴۰۰" for
    "۴۳۰٬۴۰۰"). Where it read only some of the marks so ("۴۳۰۷۰۲۰۰۰" for "۴۳٬۰۷۰٬۰۰۰"),
    the marks are those whose choice lays its digits on the glyphs most like the
    templates' labels of them, when one choice is best. With a digit fewer than the
    glyphs, one glyph goes unread ("", `_with_one_unread`)."""
    extra = len(read) - len(digits)
    if extra == 0:
        return read
    if extra == -1:
        return _with_one_unread(digits, read, templates)
    marks = [k for k, (kind, _) in enumerate(labelled) if kind not in ("d", "*")]
    if extra < 0 or extra > len(marks) or any(k == "*" for k, _ in labelled) \
            or math.comb(len(marks), extra) > _MAX_MARK_CHOICES:
        return None
    wanted = {id(c) for c in digits}
    laid: list[list[str]] = []
    for as_digits in itertools.combinations(marks, extra):
        out: list[str] = []
        position = 0
        for k, (kind, c) in enumerate(labelled):
            if id(c) in wanted:
                out.append(read[position])
            elif kind == "d" or k not in as_digits:
                continue  # a speck `digits` left out, or a mark Tesseract did not read
            position += 1
        laid.append(out)
    if len(laid) == 1:
        return laid[0]
    labels = [templates.classify(c.mask)[0] for c in digits]
    agree = sorted(((sum(a == b for a, b in zip(out, labels, strict=True)), n)
                    for n, out in enumerate(laid)), reverse=True)
    return laid[agree[0][1]] if agree[0][0] > agree[1][0] else None


def _with_one_unread(digits: list[Comp], read: list[str],
                     templates: DigitTemplates) -> list[str] | None:
    """Tesseract's digits laid on a number's digit glyphs when it read one glyph fewer
    (Homa's "۱۴۵۸۲۹۱۸۹۴۴۶" read "۱۴۵۸۲۹۱۸۹۴۴", its only "۲" read right): one glyph left
    unread ("") where that lays the rest on glyphs most like the templates' labels of
    them, with at most _EXTRA_DIGIT_MAX_DIFFERING differing; where several places do
    so equally, a glyph keeps a digit only if all of them give it that one. None when
    no place fits."""
    labels = [templates.classify(c.mask)[0] for c in digits]
    ways = [[*read[:k], "", *read[k:]] for k in range(len(digits))]
    differing = [sum(a not in ("", b) for a, b in zip(way, labels, strict=True))
                 for way in ways]
    fewest = min(differing)
    if fewest > _EXTRA_DIGIT_MAX_DIFFERING:
        return None
    best = [way for way, n in zip(ways, differing, strict=True) if n == fewest]
    return [column[0] if len(set(column)) == 1 else "" for column in zip(*best, strict=True)]


def _date_syntax(page: PageDigits, labelled: list[tuple[str, Comp]],
                 shapes: dict[int, int], band_h: float) -> None:
    """Tell `page` what a date's digits can be, when one number's glyphs form a date.

    Besides each group's first digit: a four-digit year whose third digit is the Persian
    zero (a dot, told by its size) is 140x, Solar or lunar Hijri, as 130x (1921-1930,
    1882-1892) and 190x are before any proof: its second digit is ۴. Homa's ۴, unseen
    by the templates, is nearest their ۳, and whole Persian pages had read "۱۳۰۲" and
    every ۴ as ۳."""
    groups: list[list[Comp]] = [[]]
    seps: set[str] = set()
    for kind, c in labelled:
        if kind == "d":
            groups[-1].append(c)
        elif kind in "/-." and groups[-1]:
            seps.add(kind)
            groups.append([])
        else:
            return
    firsts = _DATE_FIRSTS.get(tuple(len(g) for g in groups))
    if firsts is None or len(seps) != 1:
        return
    for group, allowed in zip(groups, firsts, strict=True):
        shape = shapes.get(id(group[0]))
        if shape is not None:
            page.allow(shape, allowed)
    year = groups[0] if len(groups[0]) == 4 else groups[-1]
    if year[2].h < 0.6 * band_h and (shape := shapes.get(id(year[1]))) is not None:
        page.allow(shape, "4")


def _between_numbers(words: list[Word], cl: list[int]) -> list[int]:
    """The cluster from its first number word to its last (in visual order)."""
    numbers = [k for k, i in enumerate(cl) if _is_number_word(words[i])]
    return cl[numbers[0]:numbers[-1] + 1] if numbers else cl


def _numeric_runs(words: list[Word], cl: list[int]) -> list[list[int]]:
    """The cluster's number words, in runs that no other word of it separates."""
    runs: list[list[int]] = [[]]
    for i in cl:  # in visual order
        if _is_number_word(words[i]):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _reread_cluster(
    words: list[Word], boxes: list[Box], cl: list[int], gray: Image.Image, scale: float,
    pages: dict[bool, PageDigits],
) -> tuple[str, Box, float] | None:
    """(text, box, confidence) for one cluster of words, or None to keep Tesseract's;
    `boxes` are the words' boxes grown over unclaimed print (`_grown_boxes`)."""
    box = union([boxes[i] for i in cl])
    source = "".join(words[i].text for i in cl)
    counts = _digit_counts(source)
    # Tesseract's script is only as good as its digits: where it read both scripts, or
    # read the cluster as garbage with hardly a digit in it, the glyphs say which (a
    # lost DejaVu Sans amount line, read alone, gave "و ار 0" for "۲٬۰۳۰٬۰۰۰", and Latin
    # templates read it "8٬7"). Nine Persian digits read unsurely are still Persian:
    # tried in Latin too, DejaVu Sans Bold's "۱٬۱۰۱٬۰۰۰" came out "1٬1 1".
    unsure = (min(words[i].confidence for i in cl) < _GARBLED
              and sum(counts.values()) < _SCRIPT_EVIDENCE)
    reads = []
    for latin in (False, True) if _mixed_scripts(counts) or unsure else (_is_latin(counts),):
        res = _reread_number(gray, scale, box, latin=latin, page=pages[latin])
        if res is not None and res[0]:
            reads.append((float(np.mean(res[1])), latin, res))
    if not reads:
        return None
    _mean, latin, (reread, digit_confs, ruled) = max(reads, key=lambda r: r[0])
    style = _LATIN_DIGITS if latin else _arabic_script_style(counts)
    conf = min(digit_confs)
    pure = all(_is_numberish(words[i].text) for i in cl)
    if not pure and (conf < 0.5 or not any(ch.isdigit() for ch in reread)
                     or _misplaced_mark(reread) or _THOUSANDS_AFTER_DECIMAL.search(reread)):
        # Letters taken for digits: a currency word Tesseract misread ("رال", "تتومان")
        # re-read as "۵۶٫" before "۴٬۱۱۶٬۰۰۰" leaves marks no number has. The number's
        # own words are then re-read without it (`reread_numbers`).
        return None
    tess_digits = "".join(ch for ch in to_ascii_digits(source) if ch.isdigit())
    tess_conf = _tesseract_trust(source, min(words[i].confidence for i in cl))
    fused, conf = _fuse(reread, digit_confs, tess_digits if pure else "", tess_conf, ruled)
    if fused is None:
        return None  # a confident, clean Tesseract reading the re-read contradicts
    return fused.translate(str.maketrans(_LATIN_DIGITS, style)), box, conf


def _tesseract_trust(text: str, confidence: float) -> float:
    """What Tesseract's reading of a number is worth against the re-read: its word
    confidence, unless the number mixes digits of two scripts. Then it read one glyph
    twice, once in each script ("٩۹۵۲۰۲..." for "۹۵۶۲۰۲..."), or took glyphs for
    look-alikes of another script ("171۹7٩" for "٦٦٬٩٦٩"), and its digits are out of
    step with the glyphs."""
    scripts = sum(n > 0 for n in _digit_counts(text).values())
    return min(confidence, _GARBLED) if scripts > 1 else confidence


def _mixed_scripts(counts: dict[str, int]) -> bool:
    """Whether a number holds both Latin and Arabic-script digits (`_digit_counts`). Its
    script is then the glyphs' to say: the Arabic model read "٦٦٬٩٦٩" in DejaVu Sans as
    "171۹7٩", mostly Latin, and Latin templates made it 11,919 (bench/signals.py seed
    20261213: four Arabic amounts lost so)."""
    return counts[_LATIN_DIGITS] > 0 and counts[PERSIAN_DIGITS] + counts[ARABIC_DIGITS] > 0


def _fuse(
    reread: str, confs: list[float], tess_digits: str, tess_conf: float,
    ruled_out: list[str] | None = None,
) -> tuple[str | None, float]:
    """Combine the template re-read with Tesseract's digits for one number.

    Same digits: agreement, the better confidence. Same count, some differ: per digit,
    the template wins when it is surer than Tesseract was of the word or when the
    page rules Tesseract's digit out for the glyph (`ruled_out`, per digit), Tesseract
    otherwise (Tesseract's errors are mostly separators read as digits, which changes
    the count), unless its digits make an impossible date of a possible one.
    Different counts: the re-read, unless Tesseract was confident and the re-read
    found no separator mark, or itself lost a digit to two touching glyphs; where
    Tesseract's digits line up with the re-read's glyphs, its pair of digits stands
    for each touching glyph (`_fill_touching`).
    """
    re_digits = [ch for ch in reread if ch.isdigit()]
    if not tess_digits:
        return reread, min(confs)
    if "".join(re_digits) == tess_digits:
        return reread, max(min(confs), tess_conf)
    if tess_conf >= 0.85 and _misplaced_mark(reread):
        return None, 0.0  # a sure reading, and the re-read split a digit in two
    if len(re_digits) == len(tess_digits):
        out: list[str] = []
        fused: list[float] = []
        # Tesseract misreads one shape of a font the same way each time: where the
        # templates were sure it took their "۳" for a "۲", its other "۲" on a glyph they
        # think a "۳" is that misreading again ("۲۵۲۲۰۰۰۰" for Nazli's "۲۵٬۳۳۰٬۰۰۰", the
        # templates sure of one "۳", 0.59 of the other).
        misread = {(r, t) for r, t, c in zip(re_digits, tess_digits, confs, strict=True)
                   if r != t and c >= max(_SURE_OVER_TESSERACT, tess_conf)}
        ruled = ruled_out or [""] * len(confs)
        k = 0
        for ch in reread:
            if not ch.isdigit():
                out.append(ch)
                continue
            if ch == tess_digits[k] or confs[k] >= max(0.6, tess_conf) or \
                    ((ch, tess_digits[k]) in misread and confs[k] >= 0.5) or \
                    (tess_digits[k] in ruled[k] and confs[k] >= _RULED_OUT_FLOOR):
                out.append(ch)
                fused.append(confs[k] if ch != tess_digits[k] else max(confs[k], tess_conf))
            else:
                out.append(tess_digits[k])
                fused.append(min(tess_conf, 0.7))
            k += 1
        if possible_date("".join(out)) is False and possible_date(reread):
            # Tesseract's digits make a day no calendar has ("۳۱/۰۲/۲۰۲۴" in Homa, where
            # the re-read, unsure of its "۲", had "۲۱/۰۲/۲۰۲۴"), or one no proof is dated
            # ("۱۳۰۲/۰۹/۲۲", 1923, for "۱۴۰۲/۰۹/۲۲" in Nazli): the re-read stands.
            return reread, min(confs) * 0.9
        return "".join(out), min(fused) * 0.9
    if tess_conf >= 0.85 and ((not any(ch in "٬٫/,." for ch in reread)
                               and min(confs) < _SURE_OF_EVERY_DIGIT) or (
            min(confs) <= _TOUCHING and len(re_digits) < len(tess_digits))):
        # A confident reading the re-read contradicts with no separator to show for it,
        # unless the re-read is sure of every glyph, or with a digit fewer where it saw
        # two glyphs touching ("51,847.95" re-read "51٬07.95" in Nazli Bold: the "84" one
        # glyph).
        return None, 0.0
    filled = _fill_touching(reread, confs, tess_digits)
    if filled is not None:
        rest = min((c for c in confs if c > _TOUCHING), default=1.0)
        return filled, min(rest, tess_conf, 0.7) * 0.9
    aligned = _without_extra_digit(tess_digits, "".join(re_digits))
    if aligned is not None and aligned != "".join(re_digits):
        # A digit too many in Tesseract's read is not all of it wrong: in Homa, best
        # Persian model, "۹۸۹۲۲۸۰۴۱۴۳۶" read "۹۸۹۲۲۸۰۱۴۱۴۳۶" and re-read, unsure of
        # both "۲" (0.50 and 0.53), "۹۸۹۷۷۸۰۴۱۴۳۶".
        digits, conf = _fuse(reread, confs, aligned, tess_conf, ruled_out)
        return digits, conf * 0.9
    return reread, min(confs) * 0.8


def _without_extra_digit(tess_digits: str, re_digits: str) -> str | None:
    """`tess_digits` without the one digit whose loss leaves it differing least from
    `re_digits` (one digit shorter), when that is one way and leaves at most
    _EXTRA_DIGIT_MAX_DIFFERING digits differing; None otherwise."""
    if len(tess_digits) != len(re_digits) + 1:
        return None
    ways = {tess_digits[:i] + tess_digits[i + 1:] for i in range(len(tess_digits))}
    differing = {way: sum(a != b for a, b in zip(way, re_digits, strict=True)) for way in ways}
    fewest = min(differing.values())
    best = [way for way, n in differing.items() if n == fewest]
    return best[0] if len(best) == 1 and fewest <= _EXTRA_DIGIT_MAX_DIFFERING else None


# A thousands mark after a decimal mark: no number is written so, letters re-read as
# digits are ("۵۶٫۴٬۱۱۶٬۰۰۰", `_reread_cluster`).
_THOUSANDS_AFTER_DECIMAL = re.compile(r"[٫.]\d+٬")


def _misplaced_mark(reread: str) -> bool:
    """Whether the re-read has a thousands mark where none can be: one has one to three
    digits before it and three after it. Such a mark is part of a digit split in two
    ("۳۵۳۸۹۹۱۴۴۹۴۶" re-read "۳۵۳۸۹۹۱۴۴٬۱۴۶" in Nazli: the loop of its "۹" a mark, the
    stem a "۱")."""
    for match in re.finditer("٬", reread):
        before = re.search(r"\d*$", reread[:match.start()])
        after = re.match(r"\d*", reread[match.end():])
        if not (before and after and 1 <= len(before.group()) <= 3
                and len(after.group()) == 3):
            return True
    return False


def _fill_touching(reread: str, confs: list[float], tess_digits: str) -> str | None:
    """The re-read with each glyph unsure enough to be two touching ones (`_TOUCHING`)
    replaced by the two digits Tesseract read there, when all of Tesseract's digits
    can be laid on the re-read's glyphs in order; None when they cannot, or no such
    glyph took two.

    A digit glyph takes one digit; a separator none, or one (Tesseract reads "٬" as a
    digit); a touching glyph one or two. Of the ways to lay them, the one with the
    fewest differing digits, then the fewest separators read as digits. Only the
    pairs are taken: where one digit differs, Tesseract was as often wrong as the
    templates (the "۳۴" of "۳۴٬۳۳۰٬۰۰۰" in DejaVu Sans Bold, re-read as one "۶" and
    read "۳۴۳۲۰۰۰۰" by Tesseract, gives "۳۴٬۳۳۰٬۰۰۰").
    """
    n, m = len(reread), len(tess_digits)
    # cost[i][j]: best cost of laying tess_digits[:j] on reread[:i]; took[i][j]: how
    # many digits reread[i - 1] took on that best way.
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    took = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i, (ch, conf) in enumerate(zip(reread, _per_char(reread, confs), strict=True)):
        options: tuple[tuple[int, float], ...]  # (digits taken, cost)
        if not ch.isdigit():
            options = ((0, 0.0), (1, 0.01))
        elif conf <= _TOUCHING:
            options = ((1, 0.0), (2, 0.0))
        else:
            options = ((1, 0.0),)
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            for take, extra in options:
                if j + take > m:
                    continue
                if ch.isdigit() and take == 1:
                    extra += float(tess_digits[j] != ch)
                if cost[i][j] + extra < cost[i + 1][j + take]:
                    cost[i + 1][j + take] = cost[i][j] + extra
                    took[i + 1][j + take] = take
    if cost[n][m] == inf:
        return None
    out: list[str] = []
    j = m
    for i in range(n, 0, -1):
        take = took[i][j]
        out.append(tess_digits[j - take:j] if take == 2 else reread[i - 1])
        j -= take
    filled = "".join(out[::-1])
    return filled if len(filled) > n else None


def _per_char(reread: str, confs: list[float]) -> list[float]:
    """Each character's confidence: its digit's, 1.0 for a separator."""
    digit_confs = iter(confs)
    return [next(digit_confs) if ch.isdigit() else 1.0 for ch in reread]


def _digit_counts(text: str) -> dict[str, int]:
    """How many digits `text` has of each alphabet (Latin, Persian, Arabic-Indic)."""
    return {digits: sum(ch in digits for ch in text)
            for digits in (_LATIN_DIGITS, PERSIAN_DIGITS, ARABIC_DIGITS)}


def _is_latin(counts: dict[str, int]) -> bool:
    return counts[_LATIN_DIGITS] > counts[PERSIAN_DIGITS] + counts[ARABIC_DIGITS]


def _arabic_script_style(counts: dict[str, int]) -> str:
    """Arabic-Indic or Persian digits, whichever there are more of."""
    return ARABIC_DIGITS if counts[ARABIC_DIGITS] > counts[PERSIAN_DIGITS] else PERSIAN_DIGITS


def _digit_style(text: str) -> str:
    """The digit alphabet a word mostly uses, so re-read numbers keep their script."""
    counts = _digit_counts(text)
    return _LATIN_DIGITS if _is_latin(counts) else _arabic_script_style(counts)

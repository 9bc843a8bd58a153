"""Second opinion on transaction codes (ids) that Tesseract read on a Latin page.

A random code has no dictionary context, and the English model's language model pulls
its characters towards words: "0" to "O", "1" to "I", "9" to "Y", a letter doubled.
`recheck_codes` reads each code-like word again alone (through the reader `ocr` gives
it), votes character by character, fits the reading to the code's glyphs, and decides
each look-alike from the glyph itself: strokes for 1/I/L, counters for 0/O/9, templates
(`glyphs`) for the rest. Split from `ocr`, which decides what Tesseract reads and where
numbers are re-read, because this is a step of its own with its own measurements
(`bench/codes.py`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .fields import MPESA_CODE_LENGTH, in_id_place, in_mpesa_place
from .glyphs import (
    Comp,
    DigitTemplates,
    code_templates,
    counter_span,
    glyph_components,
    roundness,
)
from .words import union

if TYPE_CHECKING:
    from .words import Box, Word


# Characters Tesseract's English model swaps inside codes (measured on rendered M-Pesa
# and receipt codes: O/0, I/1/L, S/5, Z/2, B/8, G/6 made most of the id errors; Y/9 in
# Noto Serif, Q/9 in DejaVu Sans), that templates decide among. Adding 6 and 8 to E's
# look-alikes fixed two ids and broke one in 600 (bench/signals.py --langs swa,pol,eng,
# four seeds): not done.
# I/1/L are decided by their strokes (`_bar_shape`), O/0 by their shape (`_zero_or_o`).
_CONFUSABLE = {
    "O": "O0", "0": "O0", "D": "D0", "Q": "Q09",
    "S": "S589", "5": "5S", "Z": "Z2", "2": "2Z", "B": "B8", "8": "8BS", "G": "G6", "6": "6G",
    "E": "EF", "F": "FE", "A": "A4", "4": "4A", "T": "T7", "7": "7T", "Y": "Y9", "9": "9Y",
}


def _bar_shape(mask: np.ndarray) -> str | None:
    """"1", "I", "L" or "T" from where a vertical bar's strokes reach, or None if unsure.

    Measured on DejaVu Sans (Bold), Noto Sans (Bold) and Noto Serif after JPEG and a 70%
    downscale, in units of the glyph's height: a "1" has a flag reaching 0.21-0.29 left
    of the stem at the top and nothing right of it; an "I" reaches equally both ways (0,
    or 0.09-0.16 serifs); an "L" has a foot 0.37-0.52 to the right. On nine fonts not
    used to set these (bench/RESULTS.md) the rule was wrong 6 times in 54 and unsure 7,
    the templates of other fonts it replaces wrong 12 times.

    A "T" is a bar too, its top reaching 0.25 or more both ways and its foot no further
    than a serif: read alone, "T2Q75TTN" came out "T2Q75TIN", and the "I" stood. No bar
    at all is a glyph whose full-height columns are two strokes apart (the bowl and
    stem of a Noto Serif "9", an "M"): that "9", read alone as "I", reached 0 both ways
    from the "stem" spanning it."""
    h = mask.shape[0]
    stem = np.nonzero(mask.sum(axis=0) >= 0.6 * h)[0]
    if stem.size == 0 or int(stem[-1] - stem[0]) + 1 != stem.size:
        return None
    left_edge, right_edge = int(stem.min()), int(stem.max()) + 1

    def reach(rows: np.ndarray) -> tuple[float, float]:
        xs = np.nonzero(rows.any(axis=0))[0]
        return max(0, left_edge - int(xs.min())) / h, max(0, int(xs.max()) + 1 - right_edge) / h

    top_left, top_right = reach(mask[: max(1, round(0.3 * h))])
    foot_left, foot_right = reach(mask[h - max(1, round(0.2 * h)) :])
    if foot_right >= 0.3 and foot_right - foot_left >= 0.2:
        return "L"
    if top_left >= 0.15 and top_right <= 0.03:
        return "1"
    if min(top_left, top_right) >= _T_ARM and abs(top_left - top_right) <= 0.1 and \
            max(foot_left, foot_right) <= _SERIF:
        return "T"
    if abs(top_left - top_right) <= 0.05 and max(top_left, top_right) <= _SERIF:
        return "I"
    return None


# How far, in units of a glyph's height, an "I"'s serifs reach beyond its stem at most
# (0.09-0.16 measured), and a "T"'s arms at least.
_SERIF = 0.2
_T_ARM = 0.25


def _is_code(token: str, in_id_place: bool = False) -> bool:
    """An id-like word: 6+ capitals and digits, both present; in an id's place (after
    its label) capitals alone will do, as every digit of "L5ASHJZ0" was read as a
    letter. One non-ASCII capital is allowed: the Polish model writes "Ą" into ids
    ("UD4ĄAYO6CZTXSGB"), and the re-read alone, limited to A-Z0-9, is what takes it
    out; so is one small letter ("K28JQWO5QxX" for "K28JQWO5QX"), non-ASCII too
    ("D6éGICUOWOW" for "D6GICU0W0W"). Letters without case (Persian, Arabic) are no
    code's."""
    foreign = [c for c in token if not c.isascii()]
    lower = [c for c in token if c.islower()]
    return (len(token) >= 6 and token.isalnum() and len(lower) <= 1
            and len(foreign) <= 1 and all(c.isupper() or c.islower() for c in foreign)
            and (in_id_place or any(c.isdigit() for c in token))
            and any(c.isalpha() for c in token))


CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_STRAY_MARKS = ")]}/|"
# In an id's place any sign or punctuation is a mark, read for a letter or beside one
# ("Y¥4684Y029Z", "£ERD102205", "C74BOROW(QS" in Noto, "D3VSQZWS8&xX" in DejaVu Sans
# Bold), but for what ids carry themselves; elsewhere a sign is a price's ("US$5000").
# Not "_": no id pattern takes one, and the Polish model put one into a gap between
# letters ("E2_LYGBCF" for "E2LY6BCF", Noto Sans Bold), where no glyph is.
_ID_SEPARATORS = "."
# A "/" stroke's pixels are anti-correlated in x and y: -0.87 to -0.98 in DejaVu and Noto
# (sans, serif, regular and bold) after JPEG and a 70% downscale, where no letter or
# digit goes below -0.55 (the J).
_SLASH_CORR = -0.75
# Each read of a code alone varies with its size and crop (one rendered code: three
# different strings from three crops), so they vote with the page read. Measured on 60
# English and Polish receipts and chats (bench/signals.py): ids 0.80 / 0.67 -> 0.90 /
# 0.80 with sizes 1 and 2; adding 1.5 changed nothing; page mode 7 instead of 8 was worse.
CODE_READ_SCALES = (1.0, 2.0)


def _rivals(code: str, reads: list[str]) -> list[set[str]]:
    """For each character of `code`, the other code characters that reads as long as it
    have there: where the page read and the reads alone disagree, the glyph decides."""
    same = [r.upper() for r in reads if len(r) == len(code)]
    return [{r[i] for r in same if r[i] in CODE_ALPHABET} - {ch} for i, ch in enumerate(code)]


# Characters that are a vertical bar, which `_bar_shape` tells apart.
_BAR_CHARS = "I1LT"


def _majority(core: str, others: list[str], length: int) -> str:
    """Character by character, the majority among the reads `length` characters long
    (the code's glyphs, or its known length); the page read `core` wins ties, and stands
    when no read has that length."""
    reads = [r for r in (core, *others) if len(r) == length]
    if not reads:
        return core
    base = core if len(core) == length else reads[0]
    voted = []
    for i, mine in enumerate(base):
        counts = Counter(r[i] for r in reads if r[i] in CODE_ALPHABET)
        if not counts:
            voted.append(mine)
            continue
        best, n = counts.most_common(1)[0]
        # A character no code has (the Polish model's "Ż" for a "2") never wins a tie.
        voted.append(best if n > counts[mine] or mine not in CODE_ALPHABET else mine)
    return "".join(voted)


def _nearer_read(core: str, others: list[str], count: int) -> str:
    """The reads alone when they agree on a length one character off the glyph `count`
    and the page read is further off; else `core`. The Polish model read Noto Sans
    Bold's "I1GG6OU30UBS" (twelve glyphs, one each) as "I1GG6G6OU30UBS", both reads
    alone "I11GG6OU30UBS": only theirs is near enough to fit to the glyphs."""
    lengths = {len(r) for r in others}
    if len(lengths) != 1 or abs(len(core) - count) <= 1:
        return core
    nearer = lengths.pop()
    return _majority(others[0], others[1:], nearer) if abs(nearer - count) == 1 else core


# Width over height of the widest capital letter, W in DejaVu Serif Bold: 1.55 (DejaVu
# and Noto cuts after JPEG q65, alone and at a 70% downscale). Joined pairs seen: 1.60
# ("TV" in Noto Sans) to 2.06.
_WIDEST_LETTER = 1.57
# Template confidence in W or M that makes a wide glyph one: lone W's 1.0; joined pairs
# that looked like a W 0.64-0.86.
_SURE_WIDE_LETTER = 0.9


def _a_wide_letter(templates: DigitTemplates, glyph: Comp) -> bool:
    """A glyph as wide as two joined letters that is one W or M."""
    return glyph.w <= _WIDEST_LETTER * glyph.h and \
        _by_templates(templates, glyph, CODE_ALPHABET, "", _SURE_WIDE_LETTER) in ("W", "M")


# Widths, in medians of a code's glyph widths, from which a glyph may be two letters JPEG
# joined: certainly ("YV", "KA" about twice a letter), or only when every read of the
# code says so (a narrow letter joined to another: "IT" 1.76, "TV" 1.78, "IA" 1.74, "QJ";
# on eight seeds of bench/signals.py, 2,400 Latin pages, 5 ids fixed and none broken).
_PAIR_WIDTH = 1.8
_NARROW_PAIR_WIDTH = 1.6


def _per_character(glyphs: list[Comp], reads: list[str], length: int | None = None,
                   templates: DigitTemplates | None = None) -> list[Comp | None]:
    """One entry per character: its glyph, or None for both characters of two that JPEG
    joined. `length`, when the code's length is known (an M-Pesa code's), says how many
    of the widest glyphs are pairs, when that many are wide enough to be.

    Joined kerned pairs ("YV", "KA") are about twice as wide as a letter, so glyphs
    `_PAIR_WIDTH` times the median width or wider count as two, unless one is a W or an
    M: next to narrow digits and I's those are 1.8-2.1 times the median in Noto Sans
    Bold and Noto Serif. Such a glyph is one when `templates` are sure of W or M and it
    is no wider than a W can be (`_a_wide_letter`): joined "VV", "YY", "VZ" and "TV"
    look like a W to the templates too, less surely, and are wider. When every read of
    the code (`reads`) has the length that counting only the widest of them as pairs
    gives, that count stands. More pairs than the wide glyphs give come only from
    glyphs `_NARROW_PAIR_WIDTH` wide and up (widest first), when every read needs them:
    the reads agree on an extra letter as often as not (all three reads of "RROELNW5D2"
    had an "S" before the "5"), but seldom where a glyph is that wide."""
    median_w = float(np.median([g.w for g in glyphs]))

    def pair_candidates(low: float, high: float) -> list[int]:
        return sorted((i for i, g in enumerate(glyphs) if low * median_w <= g.w < high * median_w
                       and not (templates and _a_wide_letter(templates, g))),
                      key=lambda i: -glyphs[i].w)

    wide = pair_candidates(_PAIR_WIDTH, float("inf"))
    joined = len(wide)
    lengths = {len(r) for r in reads}
    agreed = lengths.pop() - len(glyphs) if len(lengths) == 1 else None
    if length is not None and 0 <= length - len(glyphs) <= joined:
        joined = length - len(glyphs)
    elif agreed is not None and 0 <= agreed < joined:
        joined = agreed
    elif agreed is not None and agreed > joined:
        narrower = pair_candidates(_NARROW_PAIR_WIDTH, _PAIR_WIDTH)
        if agreed <= joined + len(narrower):
            wide, joined = wide + narrower, agreed
    pairs = set(wide[:joined])
    out: list[Comp | None] = []
    for i, g in enumerate(glyphs):
        out.extend([None, None] if i in pairs else [g])
    return out


def _code_glyphs(gray: Image.Image, box: Box) -> tuple[Image.Image, list[Comp], bool] | None:
    """The crop of one code, its glyphs, and whether they span its word box (from end to
    end, give or take half a glyph), from its word box in `gray`.

    Tesseract's word box can start inside the first character (measured: the box of
    "MDR0M4OPAJXI" began at the D, that of "N0H8TVKX8V" halfway through the N), and a
    read of that crop alone then drops the character and outvotes the page read. So the
    glyphs are found in a crop reaching two line heights beyond the box on each side:
    those overlapping the box, and those next to them as closely as letters are."""
    x, y, bw, bh = box
    pad, reach = max(2, round(0.2 * bh)), max(2, 2 * bh)
    left, top = max(0, x - reach), max(0, y - pad)
    wide = np.asarray(gray.crop((left, top, min(gray.width, x + bw + reach),
                                 min(gray.height, y + bh + pad))))
    if wide.size == 0:
        return None
    comps = glyph_components(wide)
    inside = [i for i, c in enumerate(comps) if c.x2 > x - left and c.x1 < x + bw - left]
    if not inside:
        return None
    tallest = max(comps[i].h for i in inside)
    # Glyphs just outside the box, as close as letters of a word are, belong to the
    # code too. Letters are 0.05-0.2 of the box's height apart ("M" to "D" in Noto Sans
    # the widest seen), a space 0.3 or more ("QA Imethibitishwa" in Noto Sans Bold: 11
    # px at a 37 px box). Before the code comes its label's colon, too short to join;
    # after it, the next word: so the reach is shorter on the right.
    first, last = min(inside), max(inside)
    while first > 0 and comps[first - 1].h >= 0.5 * tallest and \
            comps[first].x1 - comps[first - 1].x2 <= 0.3 * bh:
        first -= 1
    while last < len(comps) - 1 and comps[last + 1].h >= 0.5 * tallest and \
            comps[last + 1].x1 - comps[last].x2 <= 0.22 * bh:
        last += 1
    glyphs = [c for c in comps[first : last + 1] if c.h >= 0.5 * tallest]  # no period
    x1 = max(0, min(c.x1 for c in glyphs) - pad)
    x2 = min(wide.shape[1], max(c.x2 for c in glyphs) + pad)
    half = 0.5 * float(np.median([c.w for c in glyphs]))
    whole = x1 + pad <= x - left + half and x2 - pad >= x + bw - left - half
    return Image.fromarray(wide[:, x1:x2]), glyphs, whole


# What a mark no code has ("]", "|") costs a read laid on the glyphs (`_align_to_glyphs`),
# below the best any character could score at its glyph: it stands for a character, but
# is the likeliest extra one.
_MARK_DOUBT = 0.25


def _fit_one(scores: dict[str, float], ch: str) -> float:
    """How well character `ch` of a read fits the glyph the templates scored (`scores`).
    No scores: one of two joined glyphs, which every character fits alike but a mark."""
    if ch in CODE_ALPHABET:
        return scores.get(ch, -1.0) if scores else 0.0
    return (max(scores.values()) if scores else 0.0) - _MARK_DOUBT


def _align_to_glyphs(code: str, glyphs: list[Comp | None], templates: DigitTemplates) -> str:
    """A code read with one character too many or too few, made as long as its glyphs:
    of the reads that drop one character (or add the templates' best guess for one
    glyph), the one whose characters the templates find likest their glyphs. Every read
    of "SB2XKUM8KZ" alone and on the page gave "SB2XKUMS8KZ", of "K28JQWO5QX"
    "K28JQWO5QxX": the glyph count knows better. A None among `glyphs` is one of two
    characters JPEG joined (`_per_character`), which no character fits better than
    another; a mark fits any glyph a little worse than its likeliest character does
    (`_fit_one`), so it is the one dropped when all else is equal: "G0DU76GYY]J"
    (DejaVu Sans, "YY" joined) had lost a "Y" and kept the "]"; and a mark on a glyph
    beats a character on the wrong one: "MAVROVSZ2S]" (for "M4VR9VS2SJ") lost its "]"
    and shifted "S" onto the "J"."""
    scores = [{} if g is None else templates.scores(templates.vector(g.mask)) for g in glyphs]
    code = code.upper()
    if len(code) == len(glyphs) + 1:
        reads = [code[:j] + code[j + 1:] for j in range(len(code))]
    else:
        reads = [code[:j] + max(scores[j], key=scores[j].__getitem__) + code[j:]
                 for j in range(len(glyphs)) if scores[j]]

    def fit(read: str) -> float:
        return sum(_fit_one(sc, ch) for sc, ch in zip(scores, read, strict=True))

    return max(reads, key=fit)


# "0" against "O" by `glyphs.roundness` (measured on 558 of them, about half each, in codes in
# DejaVu Sans/Serif and Noto Sans/Serif, regular, bold, condensed and display cuts, JPEG
# q60-90, half at a 70% downscale): "0" at most 0.394, "O" at least 0.413. The exponent
# and the threshold come from a logistic fit that, each font family left out in turn,
# erred 3 times in 558. Widths against the code's digits (tabular in UI fonts) or its
# round capitals, used before, need characters to measure and overlap across fonts:
# `bench/codes.py` 0.804 / 0.833 of codes exact with them (seeds 1 / 2), 0.921 / 0.938
# with this.
_O_FROM_ROUNDNESS = 0.4


def _zero_or_o(chars: list[str], per_char: list[Comp | None]) -> None:
    """Decide each "0" or "O" of a code by its shape, in place. Tesseract reads nearly
    every "0" of a code without other digits as "O", and templates of other fonts cannot
    tell them apart."""
    for i, (ch, comp) in enumerate(zip(chars, per_char, strict=True)):
        if comp is not None and ch in "O0" and (ring := roundness(comp.mask)) is not None:
            chars[i] = "O" if ring >= _O_FROM_ROUNDNESS else "0"


# A counter spanning less of the glyph's height is a bowl ("9", "6"), not a ring: see
# `glyphs.counter_span` (at most 0.55 against at least 0.60).
_RING_MIN_SPAN = 0.575
# How sure the templates must be to overrule a read character.
_TEMPLATE_SURE = 0.6


def _by_templates(templates: DigitTemplates, glyph: Comp, allowed: str, read: str,
                  sure: float = _TEMPLATE_SURE) -> str:
    """The templates' choice for `glyph` among `allowed` when they are `sure`, else `read`."""
    best, conf = templates.classify(glyph.mask, allowed=allowed)
    return best if conf >= sure else read


# How far below the code's baseline, in units of its glyphs' height, a glyph must reach
# to be a "J" or a "Q", the only characters of a code that do: in the nine fonts of
# bench/codes.py (at a 70% downscale, JPEG q65) a "J" reaches 0.24-0.35 below it, a "Q"
# 0.14-0.35, an "I", "1", "L", "T", "O" or "7" not at all, and the templates (each font
# left out) told "J" from "Q" at confidence 1.0. DejaVu Sans' "J" of "50XIQIJD9Q" was
# read "I" by every read, and the stroke rule took its stem for a bar.
_DESCENT = 0.12


def _descends(glyph: Comp, glyphs: list[Comp | None]) -> bool:
    """Whether `glyph` reaches below the baseline of the code's `glyphs`, as a "J" or a
    "Q" does."""
    found = [g for g in glyphs if g is not None]
    baseline = float(np.median([g.y2 for g in found]))
    height = float(np.median([g.h for g in found]))
    return glyph.y2 - baseline >= _DESCENT * height


def _nine_or(templates: DigitTemplates, glyph: Comp, read: str) -> str:
    """A "9" read as "O" or "0" (`read`; the page read's language model): "9" when the
    glyph's counter is a bowl, not a ring, or the templates say so; else `read`, which
    `_zero_or_o` decides."""
    span = counter_span(glyph.mask)
    if span is not None and span < _RING_MIN_SPAN:
        return _by_templates(templates, glyph, "96", "9")
    return "9" if _by_templates(templates, glyph, "O09", read) == "9" else read


def _is_code_with_mark(core: str, id_place: bool) -> bool:
    """`_is_code`, allowing one mark a code's glyph is often read as: a "J" as ")", "]"
    or "}", a "7" as "/", a "Z" as "-" ("C-KMDD29US", Noto Sans, confidence 0.15). The
    reads alone (limited to A-Z0-9) and the templates decide it; a real "/" or "-" (a
    slash's lean, a hyphen too short to be a glyph) stays. In an id's place any sign
    or punctuation but `_ID_SEPARATORS` is a mark, and three marks will do: both J's of
    "BXK13JFIHJ" (DejaVu Sans, before "Confirmed") came out ")", the "I7" of
    "I7BCKP4VE" (DejaVu Sans, after "Nr transakcji:") "|[/"."""
    marks = [ch for ch in core if ch in _STRAY_MARKS + "-"
             or (id_place and not ch.isalnum() and ch not in _ID_SEPARATORS)]
    bare = "".join(ch for ch in core if ch not in marks)
    return len(marks) <= (3 if id_place else 1) and _is_code(bare, id_place)


def _join_split_codes(words: list[Word], gray: Image.Image, scale: float,
                      next_line: str = "") -> None:
    """Join, in place, two words of a line that are one code Tesseract split: their
    glyphs run on as closely as a word's letters (`_code_glyphs`), and together they
    are code-like. The "7" of "OSL3B7DLXZOFLM" (DejaVu Sans) was read as "/" and a word
    boundary: "OSL3B /DLXZOFLM", neither half a code to recheck; "GIJTZI10P00F" came
    out "GIJTZI1 OPOOF". Before an M-Pesa "Confirmed" (on this line or starting
    `next_line`), where a code has ten characters, two words that make ten may be as
    far apart as a tabular "1" leaves them: "1 CWVIUFEH8" in Noto Sans. A second word
    boxed (mostly) inside the first is its end read again: "F41IA5E3" boxed over all of
    "F4IA5E3ITU" (DejaVu Sans Bold), then "ITU" on its own; "JSVA8WW187" over nearly
    all of "JSVA8WW1877" (DejaVu Sans), then "7"."""
    j = 0
    while j < len(words) - 1:
        a, b = words[j], words[j + 1]
        joined = a.text + b.text.rstrip(".,:;")
        before = " ".join(v.text for v in words[:j])
        after = words[j + 2].text if j + 2 < len(words) else next_line
        known = in_mpesa_place(after) and len(joined.rstrip(".")) == MPESA_CODE_LENGTH
        if (a.text[-1:].isalnum() or a.text[-1:] in _STRAY_MARKS + "-") and \
                _is_code_with_mark(joined, in_id_place(before, after)) and \
                (_boxed_inside(b.box, a.box) or
                 _glyphs_run_on(gray, scale, a.box, b.box,
                                _KNOWN_LENGTH_GAP if known else _SPLIT_GAP)):
            words[j] = replace(a, text=a.text + b.text, box=union([a.box, b.box]),
                               confidence=min(a.confidence, b.confidence))
            del words[j + 1]
            continue
        j += 1


def _boxed_inside(inner: Box, outer: Box) -> bool:
    """Whether most of `inner`'s columns lie inside `outer`'s."""
    overlap = min(inner[0] + inner[2], outer[0] + outer[2]) - max(inner[0], outer[0])
    return overlap > 0.5 * inner[2]


# The widest gap between a split code's two halves that is no word space, in units of the
# line's height: letters are 0.05-0.23 apart ("B" to "7" in DejaVu Sans the widest seen),
# a space 0.3 or more ("QA Imethibitishwa" in Noto Sans Bold).
_SPLIT_GAP = 0.26
# Where the code's length says two words are one: a tabular "1" stands 0.35 of the
# line's height from the next letter (Noto Sans), a word space is 0.3 or more.
_KNOWN_LENGTH_GAP = 0.5


def _glyphs_run_on(gray: Image.Image, scale: float, box: Box, nxt: Box,
                   max_gap: float = _SPLIT_GAP) -> bool:
    """Whether the print of the word in `box` runs on into the next word's box `nxt`
    (boxes in input coordinates) as a word's letters do, with no wider gap between
    them than `max_gap` line heights."""
    x, y, bw, bh = (round(v * scale) for v in box)
    x2 = round((nxt[0] + nxt[2]) * scale)
    pad = max(2, round(0.2 * bh))
    left, top = max(0, x - pad), max(0, y - pad)
    band = np.asarray(gray.crop((left, top, min(gray.width, x2 + pad),
                                 min(gray.height, y + bh + pad))))
    if band.size == 0:
        return False
    comps = glyph_components(band)
    if not comps:
        return False
    tallest = max(c.h for c in comps)
    ends = sorted((c.x1, c.x2) for c in comps if c.h >= 0.5 * tallest)
    # The gap where the first word ends: print no further apart than letters.
    end = x + bw - left
    gaps = sorted((abs(a2 - end), b1 - a2) for (_, a2), (b1, _) in itertools.pairwise(ends))
    return bool(gaps) and gaps[0][0] <= 0.5 * bh and gaps[0][1] <= max_gap * bh


def _among_reads(templates: DigitTemplates, glyph: Comp, read: set[str]) -> str | None:
    """Where the reads of a code disagree (`read`: what each read there), the templates'
    choice among those characters and their look-alikes when they are sure, else None
    (the majority's character is decided as usual). Read alone, "S6RN9ADMEA4A" (Noto
    Sans) came out "S6RNIADMEAZA" twice, and the "Z" outvoted the page read's "4",
    which no look-alike group put against it. Bars among bars are for `_bar_shape`,
    "0" against "O" for `_zero_or_o`."""
    if read <= set("O0") or read <= set(_BAR_CHARS):
        return None
    allowed = "".join(sorted(set().union(*(_CONFUSABLE.get(c, c) for c in read))))
    best, conf = templates.classify(glyph.mask, allowed=allowed)
    return best if conf >= _TEMPLATE_SURE else None


def recheck_codes(lines: list[list[Word]], gray: Image.Image, scale: float,
                  read_code: Callable[[Image.Image, float], str]) -> None:
    """Second opinion on code-like words (ids).

    A transaction id has no dictionary context, and the English model's language
    model pulls "0" to "O" and "1" to "I". The word is first read again alone and
    outvoted where those reads agree (`_majority`), and a read one character long or
    short is fitted to the glyph count (`_align_to_glyphs`); then, when its glyphs
    segment one per character, each confusable character is re-decided among its
    look-alikes: a glyph reaching below the baseline is a "J" or a "Q" (`_descends`),
    where a bar's strokes reach tells "1", "I" and "L" apart (`_bar_shape`), templates
    decide the rest, and last its shape tells "0" from "O" (`_zero_or_o`). When they do
    not segment so, the reads' majority decides.
    """
    for k, words in enumerate(lines):
        # A narrow chat bubble wraps after an M-Pesa code: "Confirmed" on the next line.
        next_line = next((ln[0].text for ln in lines[k + 1:k + 2] if ln), "")
        _join_split_codes(words, gray, scale, next_line)
        for j, w in enumerate(words):
            core = page = w.text.rstrip(".,:;")
            after = words[j + 1].text if j + 1 < len(words) else next_line
            id_place = in_id_place(" ".join(v.text for v in words[:j]), after)
            length = MPESA_CODE_LENGTH if in_mpesa_place(after) else None
            if not _is_code_with_mark(core, id_place):
                continue
            suffix = w.text[len(core):]
            x, y, bw, bh = (round(v * scale) for v in w.box)
            found = _code_glyphs(gray, (x, y, bw, bh))
            if found is None:
                continue
            crop, glyphs, whole = found
            if any(g.corr <= _SLASH_CORR for g in glyphs):
                continue  # a real "/" inside the id ("FT2304/KE0045"): as read
            if "-" in core and len(glyphs) < len(core):
                continue  # a real hyphen, too short to be a glyph: as read
            alone = [read_code(crop, f) for f in CODE_READ_SCALES]
            templates = code_templates()
            per_char = _per_character(glyphs, [core, *alone], length, templates)
            core = _majority(core, alone, length or len(per_char))
            # The glyph count overrules the reads only when the glyphs span the word's
            # box (a last glyph lost at the crop's edge made "NWQJS68XH9" nine glyphs)
            # and the code's known length does not say otherwise.
            # Glyphs JPEG joined count as two characters by their width, a guess that
            # stands against the reads only when the code's known length agrees ("VW"
            # of "VWIPU18POQ", read "VWIPU18P0OQ" by all three reads): in Noto Serif
            # "AAF" of "SGCTAAF1HOM" was one glyph, taken for two, and "ADWVT0UN1XT"
            # had two joined pairs, one taken for a letter.
            guessed = any(g is None for g in per_char)
            if whole and not guessed and length is None:
                core = _nearer_read(core, alone, len(per_char))
            if whole and abs(len(core) - len(per_char)) == 1 and len(core) != length and \
                    (not guessed or len(per_char) == length):
                core = _align_to_glyphs(core, per_char, templates)
            w.text = core + suffix
            if len(per_char) != len(core) and len(glyphs) == len(core):
                per_char = list(glyphs)  # a wide capital after all, not two joined
            if len(per_char) != len(core):
                # No one-to-one look at each character: the reads decide, where the
                # reads alone agree against the page read. "QJ6GK2BAWVW" (Noto Serif,
                # two letters joined) was read "Q]6GK2BAWVW", and the "]" left it no id;
                # "Y24QUYVI" ("UYV" joined) "YZ4QUYVI", both reads alone right. Only a
                # mark was theirs to change until 2026-12-04: on 1,800 Latin pages of
                # bench/signals.py that fixed two ids more, and broke none.
                w.text = _majority(core, alone, len(core)) + suffix
                continue
            chars = list(core)
            # A read one character too long says what it saw at each glyph once fitted
            # to them: the page read "UITI3ZWRBQ2ZW" had the "3" of "UITI3WRBQ2ZW" that
            # both reads alone, the right length, took for a "B".
            reads = [_align_to_glyphs(r, per_char, templates) if len(r) == len(core) + 1
                     else r for r in (page, *alone)]
            rivals = _rivals(core, reads)
            for i, (ch, comp) in enumerate(zip(core, per_char, strict=True)):
                if comp is None:
                    continue  # one of two joined glyphs
                if _descends(comp, per_char):
                    # A "J" or a "Q", whatever it was read as: "LJUU95RL2Z" (Noto Serif)
                    # read "LIUU95RL2Z", and the templates chose "I" among "I" and "J".
                    chars[i] = _by_templates(templates, comp, "JQ", "Q" if ch == "Q" else "J")
                elif ch not in CODE_ALPHABET:
                    chars[i] = templates.classify(comp.mask, allowed=CODE_ALPHABET)[0]
                elif rivals[i] and (sure := _among_reads(templates, comp, {ch, *rivals[i]})):
                    # "O" and "0" have no "9" among their look-alikes, so a "9" read as
                    # "O" by the reads alone and "J" by the page read ("J9GHJSNB39OPD",
                    # DejaVu Sans) came out "0", then "O".
                    chars[i] = _nine_or(templates, comp, sure) if sure in "O0" else sure
                elif ch in "O0":
                    chars[i] = _nine_or(templates, comp, ch)
                elif ch in "I1L" or (rivals[i] and ch in _BAR_CHARS):
                    # Unsure strokes may not be a bar at all: the "9" of "Z9OLT8E56B",
                    # read as "I" alone, has none.
                    chars[i] = _bar_shape(comp.mask) or _by_templates(templates, comp,
                                                                      CODE_ALPHABET, ch)
                elif group := _CONFUSABLE.get(ch):
                    chars[i] = _by_templates(templates, comp, group, ch)
            _zero_or_o(chars, per_char)
            w.text = "".join(chars) + suffix

"""OCR of receipts and chat screenshots with Tesseract (through tesserocr).

Why the shape of this module:
- One `PyTessBaseAPI` per language set, page mode and thread stays loaded:
  initialising a model costs 50-300 ms, reading a phone screenshot 100-300 ms.
- The script comes from Tesseract's OSD (with a mixed-model read as fall-back), the
  language from the words of the first read: Persian vs Arabic, English vs Polish vs
  Swahili. Only Polish is read a second time (its model is needed for "zł" and the
  diacritics of names); Swahili is plain ASCII, which the English model reads as
  well. Arabic-script images are read with the Persian model alone: Debian's Arabic
  model (tessdata 4.1) has no digits 2-9, and "fas+eng" lets the English model claim
  Persian numbers.
- Debian's Persian model cannot output the thousands separator ٬ and reads it, and
  the date slash, as digits. Numbers in Arabic-script images are therefore re-read
  from pixels (`_reread_number`): connected components split a number into glyphs,
  separators are told by size, place and slant, digits by nearest templates rendered
  from the installed fonts, made consistent across the page (`glyphs.PageDigits`: one
  shape is one digit everywhere on it), and the result is fused with Tesseract's
  digits. Digits run left to right, so the visual order is also the logical one, which
  fixes Tesseract reversing the groups of a card number inside a right-to-left line.
  The glyph work (components, marks, templates) is `glyphs`; this module decides what
  to re-read and how to combine it with Tesseract.
- Codes (transaction ids) on Latin pages get a second opinion of their own (`codes`),
  for which this module reads a code alone (`_read_code`).
- Words come from Tesseract's TSV rendering, which keeps right-to-left words in
  logical order (its word iterator reverses their letters).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Tesseract parallelises with OpenMP; in a pool of single-job worker processes that
# only adds contention, and the speed goal is per core.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
import tesserocr
from PIL import Image, ImageOps

from .codes import CODE_ALPHABET, recheck_codes
from .fields import is_field_word
from .glyphs import (
    ARABIC_DIGITS,
    PERSIAN_DIGITS,
    Comp,
    PageDigits,
    classify_marks,
    code_templates,
    digit_templates,
    glyph_components,
    otsu,
)
from .normalize import (
    choose_arabic_language,
    choose_latin_language,
    has_arabic_script,
    normalize_text,
    script_counts,
    strip_bidi,
    to_ascii_digits,
)

Box = tuple[int, int, int, int]  # x, y, w, h in the input image's pixels

_TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

# Tesseract reads best with capitals 20-40 px high. Phone screenshots (1080 px wide,
# 3x density) are already there; larger images are shrunk for speed, small ones
# enlarged so that 12 px text becomes legible.
_MIN_WIDTH = 700
_MAX_WIDTH = 1400
_MAX_UPSCALE = 2.5
# A scrolling screenshot can be 20 000 px tall; OCR time grows with it. Three phone
# screens' worth is read, the rest reported as truncated.
_MAX_HEIGHT = 7500
_MIN_SIDE = 8
# Page segmentation "single uniform block" (6), not automatic layout (3): receipts and
# chats are one column, and the automatic layout analysis dropped whole lines of
# large, isolated text as non-text (measured on rendered chats: the amount line of a
# two-bubble chat lost with 3, read with 6). It also keeps a label and its value,
# printed at both ends of a row, on one line.
_PAGE_PSM = int(os.environ.get("PROOFCHECK_OCR_PSM", "6"))
# A row is part of a text band when it crosses this many strokes (twice as many sharp
# steps); a band read again on its own is kept when Tesseract's mean confidence in it
# reaches this.
_BAND_MIN_INK = 2
# A step in grey level between neighbouring pixels that is a stroke's edge, not a
# bubble's: text on a bubble differs from it by 150+, bubbles from the page by ~40.
_STROKE_STEP = 64
_LOST_LINE_MIN_CONF = 0.6
# A line Tesseract did read, but into words this unsure, is read again like a lost one:
# on generated Persian receipts "مبلغ: ۴۷۳٬۰۰۰ ریال" came out as one word "۱" of
# confidence 0 in the page and as "مبلغ: ۴۷۳۰۰۰ ریال" (0.92) alone; on a dark chat
# "مبلغ ۴۲۷٬۸۰۰ تومان واریز شد" came out as "۱۱۱" at 0.49.
_GARBLED_LINE_MAX_CONF = 0.5
# A band read this confidently is not read another way.
_SURE_BAND_CONF = 0.85

_ANY_DIGITS = set(PERSIAN_DIGITS + ARABIC_DIGITS + "0123456789")
_NUMBER_PUNCT = set("/-:.,٬٫،'")


class OcrError(RuntimeError):
    """Tesseract or its language data is missing or failed."""


@dataclass
class Word:
    text: str
    box: Box
    confidence: float  # 0..1
    line: int  # index into OcrResult.lines
    language: str = ""  # the tesseract model that produced it ("fas", "eng"...)
    reread: bool = False  # digits re-read by `_reread_number`


@dataclass
class Line:
    text: str  # words in logical (reading) order, separated by spaces
    box: Box
    words: list[Word] = field(default_factory=list)
    rtl: bool = False


@dataclass
class OcrResult:
    text: str
    languages: list[str]
    words: list[Word]
    lines: list[Line]
    script: str = ""  # "Arabic", "Latin" or "" when unknown
    took_ms: float = 0.0
    truncated: bool = False  # only the top _MAX_HEIGHT pixels (after scaling) were read
    models: list[str] = field(default_factory=list)  # the tesseract models that read it
    width: int = 0  # of the input image
    height: int = 0


def tessdata_path() -> str:
    """Where the .traineddata files are: $TESSDATA_PREFIX, else Debian's place."""
    env = os.environ.get("TESSDATA_PREFIX")
    candidates = ([env] if env else []) + list(_TESSDATA_CANDIDATES)
    for cand in candidates:
        if cand and (Path(cand) / "eng.traineddata").exists():
            return cand.rstrip("/") + "/"
    raise OcrError(
        "Tesseract language data not found; install tesseract-ocr-eng/-fas/-ara/-pol/-swa "
        "or set TESSDATA_PREFIX"
    )


_local = threading.local()


def _api(lang: str, psm: int = -1) -> tesserocr.PyTessBaseAPI:
    """A loaded engine for `lang` set to page mode `psm`, one per language and thread
    (the C++ API is not thread-safe). Page modes share the engine: a second one per mode
    loaded the same model again (+8 MiB a language)."""
    cache: dict[str, tesserocr.PyTessBaseAPI] | None = getattr(_local, "apis", None)
    if cache is None:
        cache = {}
        _local.apis = cache
    if psm < 0:
        psm = _PAGE_PSM
    api = cache.get(lang)
    if api is None:
        try:
            api = tesserocr.PyTessBaseAPI(path=tessdata_path(), lang=lang, psm=psm)
            # `_prepare` already made the text dark on light; Tesseract's per-line
            # inverted retry only costs time then.
            api.SetVariable("tessedit_do_invert", "0")
            # Sauvola (local) thresholding: a global Otsu threshold falls between a chat
            # bubble's tint and the page and loses every word inside the bubble
            # (measured on dark-theme chats: 0 of 5 bubbles read with Otsu, 5 of 5 here).
            api.SetVariable("thresholding_method", "2")
        except RuntimeError as exc:
            raise OcrError(f"cannot load Tesseract model {lang!r}: {exc}") from exc
        cache[lang] = api
    if api.GetPageSegMode() != psm:
        api.SetPageSegMode(psm)
    return api


def read_line(image: Image.Image, lang: str = "eng") -> tuple[str, float]:
    """One line of text (a status bar, a label) and Tesseract's mean confidence."""
    gray, _scale = _prepare(image)
    api = _api(lang, tesserocr.PSM.SINGLE_LINE)
    api.SetImage(gray)
    return api.GetUTF8Text().strip(), float(api.MeanTextConf())


def available_languages() -> list[str]:
    return sorted(p.stem for p in Path(tessdata_path()).glob("*.traineddata"))


# ---------------------------------------------------------------- preprocessing


def _prepare(image: Image.Image) -> tuple[Image.Image, float]:
    """Grayscale, dark text on light ground, width in Tesseract's comfortable range.

    Returns the prepared image and the factor from input to prepared coordinates.
    """
    gray = image.convert("L")
    # Dark-mode chats: Tesseract's own inversion test is per line and costs time;
    # one global decision on the median covers the common case.
    if float(np.median(np.asarray(gray.reduce(4) if min(gray.size) >= 8 else gray))) < 110:
        gray = ImageOps.invert(gray)
    width = gray.width
    scale = 1.0
    if width > _MAX_WIDTH:
        scale = _MAX_WIDTH / width
    elif width < _MIN_WIDTH:
        scale = min(_MAX_UPSCALE, _MIN_WIDTH / width)
    if scale != 1.0:
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        method = Image.Resampling.BILINEAR if scale < 1 else Image.Resampling.BICUBIC
        gray = gray.resize(size, method)
    return gray, scale


def detect_script(gray: Image.Image) -> str:
    """"Arabic", "Latin", ... from Tesseract's OSD, or "" when it cannot tell."""
    small = gray
    if gray.height > 1200:
        factor = 1200 / gray.height
        small = gray.resize((max(1, round(gray.width * factor)), 1200), Image.Resampling.BILINEAR)
    try:
        api = _api("osd", tesserocr.PSM.OSD_ONLY)
    except OcrError:
        return ""
    api.SetImage(small)
    try:
        res = api.DetectOrientationScript()
    except RuntimeError:
        return ""
    if not res:
        return ""
    return str(res.get("script_name") or "")


# ---------------------------------------------------------------- recognition


def _read(gray: Image.Image, scale: float, lang: str, psm: int = -1) -> list[list[Word]]:
    """Words grouped by text line, in reading order, boxes in input coordinates.

    Read from Tesseract's TSV rendering: its word iterator returns right-to-left
    words with their letters reversed, the TSV renderer in logical order.
    """
    api = _api(lang, psm)
    api.SetImage(gray)
    tsv = api.GetTSVText(0) or ""
    lines: list[list[Word]] = []
    current: tuple[str, str, str] | None = None
    for row in tsv.splitlines():
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        key = (cols[2], cols[3], cols[4])
        if key != current:
            lines.append([])
            current = key
        left, top, width, height = (int(v) for v in cols[6:10])
        box = (
            round(left / scale),
            round(top / scale),
            max(1, round(width / scale)),
            max(1, round(height / scale)),
        )
        conf = max(0.0, min(1.0, float(cols[10]) / 100.0))
        lines[-1].append(Word(text=text, box=box, confidence=conf, line=0, language=lang))
    return [ln for ln in lines if ln]


def _ink_bands(gray: Image.Image) -> list[tuple[int, int]]:
    """(top, bottom) of each run of rows with print, in prepared coordinates.

    A row has print where it crosses strokes: sharp steps between neighbouring pixels.
    Not dark pixels: on a chat screenshot the whole-page threshold falls between the
    bubbles and the page, and a band of "ink" was a whole bubble, too tall for a line.
    """
    a = np.asarray(gray, dtype=np.int16)
    steps = np.abs(np.diff(a, axis=1)) >= _STROKE_STEP
    rows = steps.sum(axis=1) >= 2 * _BAND_MIN_INK
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rows.astype(np.int8), [0]))))
    return [(int(top), int(bottom)) for top, bottom in zip(edges[::2], edges[1::2],
                                                           strict=True)]


def _recover_lost_lines(lines: list[list[Word]], gray: Image.Image, scale: float,
                        lang: str) -> None:
    """Read again, each on its own as sparse text, the bands of ink no word came from,
    and those whose words are all garbled.

    Tesseract's page layout (any page mode) now and then drops a whole line: measured on
    a generated Arabic receipt, the payer's line "من: ..." was missing in page modes 3,
    4 and 6 and read in 11, sparse text; cropped to its band it is still lost in modes
    6 and 7 (single line) and read in 11. So a band the height of a text line with no
    word in it is read on its own as sparse text, and what comes back confidently joins
    the lines in place. A line read as garbage (`_GARBLED_LINE_MAX_CONF`) is replaced
    by what its band alone gives, when that is confident.
    """
    heights = [w.box[3] * scale for ln in lines for w in ln]
    if not heights:
        return
    line_h = float(np.median(heights))
    found: list[list[Word]] = []
    for top, bottom in _ink_bands(gray):
        height = bottom - top
        if not 0.6 * line_h <= height <= 1.8 * line_h:
            continue  # a rule, an icon row or a picture, not one line of text
        on_band = [i for i, ln in enumerate(lines) if any(
            min(bottom, (w.box[1] + w.box[3]) * scale) - max(top, w.box[1] * scale)
            > 0.3 * height for w in ln)]
        if on_band and (len(on_band) > 1 or
                        _mean_conf([lines[on_band[0]]]) > _GARBLED_LINE_MAX_CONF):
            continue
        pad = max(2, round(0.25 * height))
        y0, y1 = max(0, top - pad), min(gray.height, bottom + pad)
        words = _read_band(gray.crop((0, y0, gray.width, y1)), scale, lang)
        if not words:
            continue
        offset = round(y0 / scale)
        for w in words:
            w.box = (w.box[0], w.box[1] + offset, w.box[2], w.box[3])
        if on_band:
            lines[on_band[0]][:] = words  # the garbled line, read well on its own
        else:
            found.append(words)
    for words in found:  # in place: before the first line that starts below it
        top = min(w.box[1] for w in words)
        at = next((i for i, ln in enumerate(lines) if min(w.box[1] for w in ln) > top),
                  len(lines))
        lines.insert(at, words)


def _read_band(band: Image.Image, scale: float, lang: str) -> list[Word]:
    """The words of one band of ink read on its own, or [] if nothing reads confidently.

    Read up to three ways, until one is sure, the most confident kept: as one block, as
    sparse text (the only mode that found a line the page layout had lost), and
    binarised here as one block. On a chat bubble cut by the band, Tesseract's own
    threshold fell between the bubble and the page and the text vanished into the bubble
    (a dark-theme amount line read as nothing in every mode), while the band's Otsu
    threshold separates the text from both; sparse text read half of a small number in
    a bubble that one block read whole.
    """
    pixels = np.asarray(band)
    best: list[Word] = []
    best_weight = 0.0
    for binarise, psm in ((False, tesserocr.PSM.SINGLE_BLOCK), (False, tesserocr.PSM.SPARSE_TEXT),
                          (True, tesserocr.PSM.SINGLE_BLOCK)):
        image = band if not binarise else \
            Image.fromarray(np.where(pixels >= otsu(pixels), 255, 0).astype(np.uint8))
        words = [w for ln in _read(image, scale, lang, psm) for w in ln]
        if _mean_conf([words]) < _LOST_LINE_MIN_CONF or \
                sum(ch.isalnum() for w in words for ch in w.text) < 2:
            continue
        # Confident characters: a sure read of half the line loses to a whole one.
        weight = sum(w.confidence * len(w.text) for w in words)
        if weight > best_weight:
            best, best_weight = words, weight
        if _mean_conf([words]) >= _SURE_BAND_CONF:
            break
    return best


def _union(boxes: list[Box]) -> Box:
    x1 = min(b[0] for b in boxes)
    y1 = min(b[1] for b in boxes)
    x2 = max(b[0] + b[2] for b in boxes)
    y2 = max(b[1] + b[3] for b in boxes)
    return (x1, y1, x2 - x1, y2 - y1)


# ---------------------------------------------------------------- number re-reading


# A number's box is grown over print next to it that no word claims, across blank gaps
# up to this share of the line's height: Tesseract often boxes only part of a long
# Persian number ("۰۰" and "۱۷" of "۱۷٬۰۸۰٬۰۰۰", the dots of "۶٬۱۳۰٬۰۰۰") and the re-read
# saw only that part. Zeros are dots a digit's width apart, so the gap is generous.
_GROW_GAP = 0.5
# Other words' boxes are widened by this share of the line's height before growing.
_CLAIM_MARGIN = 0.25


def _grown_boxes(words: list[Word], gray: Image.Image, scale: float,
                 height: float) -> list[Box]:
    """Each word's box, number words' grown over unclaimed print along the line."""
    boxes = [w.box for w in words]
    grow = [i for i, w in enumerate(words) if _is_numberish(w.text) or _maybe_number(w)]
    if not grow:
        return boxes
    top = max(0, round(min(w.box[1] for w in words) * scale))
    bottom = min(gray.height, round(max(w.box[1] + w.box[3] for w in words) * scale))
    if bottom - top < 2:
        return boxes
    band = np.asarray(gray.crop((0, top, gray.width, bottom)), dtype=np.int16)
    steps_x = np.abs(np.diff(band, axis=1)) >= _STROKE_STEP
    steps_y = np.abs(np.diff(band, axis=0)) >= _STROKE_STEP
    ink = np.zeros(band.shape, dtype=bool)
    ink[:, 1:] |= steps_x
    ink[1:, :] |= steps_y
    columns: list[bool] = (np.count_nonzero(ink, axis=0) > 0).tolist()
    # Other words' spans, widened: a letter's stroke often pokes a few pixels out of
    # Tesseract's box ("ریال" next to an amount gave the amount a leading "۱").
    margin = round(_CLAIM_MARGIN * height * scale)
    spans = [(max(0, round(w.box[0] * scale) - margin),
              min(gray.width, round((w.box[0] + w.box[2]) * scale) + margin)) for w in words]
    claimed = np.zeros(gray.width + 1, dtype=np.int32)
    for a, b in spans:
        claimed[a] += 1
        claimed[b] -= 1
    claimed = np.cumsum(claimed)[:-1]
    gap = max(2, round(_GROW_GAP * height * scale))
    for i in grow:
        x0 = max(0, round(words[i].box[0] * scale))
        x1 = min(gray.width, round((words[i].box[0] + words[i].box[2]) * scale))
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
        y0 = round(words[i].box[1] * scale)
        y1 = round((words[i].box[1] + words[i].box[3]) * scale)
        rows = np.flatnonzero(ink[:, left:right].any(axis=1))
        if rows.size:
            y0, y1 = min(y0, top + int(rows[0])), max(y1, top + int(rows[-1]) + 1)
        boxes[i] = (round(left / scale), round(y0 / scale), max(1, round((right - left) / scale)),
                    max(1, round((y1 - y0) / scale)))
    return boxes


def _is_numberish(text: str) -> bool:
    # Tesseract ends some right-to-left numbers with a right-to-left mark.
    text = strip_bidi(text)
    digits = sum(ch in _ANY_DIGITS for ch in text)
    other = sum(ch not in _ANY_DIGITS and ch not in _NUMBER_PUNCT for ch in text)
    return digits >= 1 and other == 0


def _maybe_number(word: Word) -> bool:
    """A doubtful word with a digit in it: long Persian numbers are often read as a mix
    of digits and letters ("۵ع۱بعع!ب" for "۵۴۱۶۴۴۶۶"). Re-read, kept only if every
    glyph then matches a digit template well."""
    return word.confidence < 0.8 and any(ch in _ANY_DIGITS for ch in word.text)


def _number_glyphs(
    gray: Image.Image, scale: float, box: Box
) -> tuple[list[tuple[str, Comp]], float] | None:
    """The glyphs of one number's box, labelled by `classify_marks`, and the digits' height;
    None when nothing there is tall enough to be a digit."""
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
    return classify_marks(comps, band_top, band_h), band_h


def _reread_number(
    gray: Image.Image, scale: float, box: Box, latin: bool = False,
    page: PageDigits | None = None,
) -> tuple[str, list[float]] | None:
    """Re-read one number (amount, date, card, id) from pixels; None if it is not one.

    Returns the number in visual order with ASCII digits and canonical separators,
    and one confidence per digit. `box` is in input coordinates, `gray` is the prepared
    image. `page`, when given, classifies the digits consistently with the page's others.
    """
    glyphs = _number_glyphs(gray, scale, box)
    if glyphs is None:
        return None
    labelled, band_h = glyphs
    templates = digit_templates(latin)
    out = ""
    confs: list[float] = []
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
            else:
                digit, conf = (page.classify(c.mask, band_h) if page is not None
                               else templates.classify(c.mask))
                if c.w > 1.3 * band_h:
                    conf = min(conf, _TOUCHING)  # two glyphs touching: one digit is missing
                out += digit
                confs.append(conf)
        elif out and out[-1] not in _SEP_CHARS:
            out += _canonical_sep(kind)  # of two marks in a row, the first counts
        prev = c
    out = out.rstrip(_SEP_CHARS + " ")
    if not confs:
        return None
    return out, confs


# A date's groups as digit counts, and what the first digit of each group can be: Solar
# Hijri years are 13xx/14xx and Gregorian ones 19xx/20xx; months start with 0 or 1, days
# with 0-3. Day-month-year and month-day-year both write 2-2-4, so there neither of the
# first two groups is taken for the month.
_DATE_FIRSTS: dict[tuple[int, ...], tuple[str, str, str]] = {
    (2, 2, 4): ("0123", "0123", "12"),
    (4, 2, 2): ("12", "01", "0123"),
}


_SEP_CHARS = "٬٫/-:.,"
# The confidence of a re-read digit that is two glyphs touching, one of them unread.
_TOUCHING = 0.2
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


def _reread_numbers(lines: list[list[Word]], gray: Image.Image, scale: float) -> None:
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
            kind = _is_numberish(w.text) or _maybe_number(w)
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
        clusters = [r for r in runs if any(_is_numberish(words[i].text) or _maybe_number(words[i])
                                           for i in r)]
        replace: dict[int, Word] = {}
        drop: set[int] = set()
        for cl in clusters:
            res = _reread_cluster(words, boxes, cl, gray, scale, pages)
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


def _page_digits(lines: list[list[Word]], grown: list[list[Box]], gray: Image.Image,
                 scale: float) -> dict[bool, PageDigits]:
    """Page-consistent digit classifiers (Latin and Arabic-script) from the digits of
    every number-like word on the page, each seen in its grown box (`_grown_boxes`), as
    it is re-read."""
    pages = {latin: PageDigits(digit_templates(latin)) for latin in (False, True)}
    for words, boxes in zip(lines, grown, strict=True):
        for w, box in zip(words, boxes, strict=True):
            if not (_is_numberish(w.text) or _maybe_number(w)):
                continue
            glyphs = _number_glyphs(gray, scale, box)
            if glyphs is None:
                continue
            labelled, band_h = glyphs
            latin = _digit_style(w.text) == "0123456789"
            page = pages[latin]
            digits = [c for kind, c in labelled if kind == "d"
                      and (c.h >= 0.6 * band_h or not latin)]  # a Latin zero is full height
            read = [ch for ch in to_ascii_digits(w.text) if ch.isdigit()]
            aligned = len(read) == len(digits)
            shapes: dict[int, int] = {}  # id of a glyph -> its shape
            for k, c in enumerate(digits):
                if c.h >= 0.6 * band_h:
                    shape = page.observe(c.mask, band_h, read[k] if aligned else "",
                                         w.confidence)
                    if shape is not None:
                        shapes[id(c)] = shape
            _date_syntax(page, labelled, shapes)
    for page in pages.values():
        page.resolve()
    return pages


def _date_syntax(page: PageDigits, labelled: list[tuple[str, Comp]],
                 shapes: dict[int, int]) -> None:
    """Tell `page` what a date's digits can be, when one number's glyphs form a date."""
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


def _numeric_runs(words: list[Word], cl: list[int]) -> list[list[int]]:
    """The cluster's number words, in runs that no other word of it separates."""
    runs: list[list[int]] = [[]]
    for i in cl:  # in visual order
        if _is_numberish(words[i].text) or _maybe_number(words[i]):
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
    box = _union([boxes[i] for i in cl])
    source = "".join(words[i].text for i in cl)
    style = _digit_style(source)
    latin = style == "0123456789"
    res = _reread_number(gray, scale, box, latin=latin, page=pages[latin])
    if res is None or not res[0]:
        return None
    reread, digit_confs = res
    conf = min(digit_confs)
    pure = all(_is_numberish(words[i].text) for i in cl)
    if not pure and (conf < 0.5 or not any(ch.isdigit() for ch in reread)):
        return None
    tess_digits = "".join(ch for ch in to_ascii_digits(source) if ch.isdigit())
    tess_conf = _tesseract_trust(source, min(words[i].confidence for i in cl))
    fused, conf = _fuse(reread, digit_confs, tess_digits if pure else "", tess_conf)
    if fused is None:
        return None  # a confident, clean Tesseract reading the re-read contradicts
    return fused.translate(str.maketrans("0123456789", style)), box, conf


def _tesseract_trust(text: str, confidence: float) -> float:
    """What Tesseract's reading of a number is worth against the re-read: its word
    confidence, unless the number mixes Persian and Arabic-Indic digits. Then it read
    one glyph twice, once in each script ("٩۹۵۲۰۲..." for "۹۵۶۲۰۲..."), and its
    digits are out of step with the glyphs."""
    if any(ch in PERSIAN_DIGITS for ch in text) and any(ch in ARABIC_DIGITS for ch in text):
        return min(confidence, _GARBLED)
    return confidence


def _fuse(
    reread: str, confs: list[float], tess_digits: str, tess_conf: float
) -> tuple[str | None, float]:
    """Combine the template re-read with Tesseract's digits for one number.

    Same digits: agreement, the better confidence. Same count, some differ: per digit,
    the template wins when it is surer than Tesseract was of the word, Tesseract
    otherwise (Tesseract's errors are mostly separators read as digits, which changes
    the count). Different counts: the re-read, unless Tesseract was confident and the
    re-read found no separator mark, or itself lost a digit to two touching glyphs;
    where Tesseract's digits line up with the re-read's glyphs, its pair of digits
    stands for each touching glyph (`_fill_touching`).
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
        k = 0
        for ch in reread:
            if not ch.isdigit():
                out.append(ch)
                continue
            if ch == tess_digits[k] or confs[k] >= max(0.6, tess_conf):
                out.append(ch)
                fused.append(confs[k] if ch != tess_digits[k] else max(confs[k], tess_conf))
            else:
                out.append(tess_digits[k])
                fused.append(min(tess_conf, 0.7))
            k += 1
        return "".join(out), min(fused) * 0.9
    if tess_conf >= 0.85 and (not any(ch in "٬٫/,." for ch in reread) or (
            min(confs) <= _TOUCHING and len(re_digits) < len(tess_digits))):
        # A confident reading the re-read contradicts with no separator to show for it,
        # or with a digit fewer where it saw two glyphs touching ("51,847.95" re-read
        # "51٬07.95" in Nazli Bold: the "84" one glyph).
        return None, 0.0
    filled = _fill_touching(reread, confs, tess_digits)
    if filled is not None:
        rest = min((c for c in confs if c > _TOUCHING), default=1.0)
        return filled, min(rest, tess_conf, 0.7) * 0.9
    return reread, min(confs) * 0.8


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


def _read_code(crop: Image.Image, factor: float) -> str:
    """The crop of one code read alone as a line of A-Z0-9, at `factor` its size: the
    reader `codes.recheck_codes` votes with."""
    if factor != 1.0:
        crop = crop.resize((max(1, round(crop.width * factor)),
                            max(1, round(crop.height * factor))), Image.Resampling.BICUBIC)
    api = _api("eng", tesserocr.PSM.SINGLE_WORD)
    api.SetVariable("tessedit_char_whitelist", CODE_ALPHABET)
    try:
        api.SetImage(crop)
        return "".join(api.GetUTF8Text().split())
    finally:
        api.SetVariable("tessedit_char_whitelist", "")


def _digit_style(text: str) -> str:
    """The digit alphabet a word mostly uses, so re-read numbers keep their script."""
    persian = sum(ch in PERSIAN_DIGITS for ch in text)
    arabic = sum(ch in ARABIC_DIGITS for ch in text)
    latin = sum(ch.isascii() and ch.isdigit() for ch in text)
    if latin > persian + arabic:
        return "0123456789"
    return ARABIC_DIGITS if arabic > persian else PERSIAN_DIGITS


def _mean_conf(lines: list[list[Word]]) -> float:
    confs = [w.confidence for ln in lines for w in ln]
    return float(np.mean(confs)) if confs else 0.0


def _flat_text(lines: list[list[Word]]) -> str:
    return "\n".join(" ".join(w.text for w in ln) for ln in lines)


def warm_up() -> None:
    """Load the Tesseract models and build the digit templates now, not on the first
    check: a worker calls this at start-up (about 1 s), a benchmark before timing."""
    for lang in ("eng", "fas", "pol"):
        _api(lang)
    _api("osd", tesserocr.PSM.OSD_ONLY)
    digit_templates(False)
    digit_templates(True)
    code_templates()


def _read_auto(gray: Image.Image, scale: float) -> tuple[list[list[Word]], str, str, list[str]]:
    """Pick the script and model, read: (lines, script, language, models used)."""
    script = detect_script(gray)
    if script not in ("Arabic", "Latin"):
        # OSD needs a fair amount of text; fall back to the letters of a first read by
        # a model that knows both scripts.
        counts = script_counts(_flat_text(_read(gray, scale, "fas+eng")))
        script = "Arabic" if counts["arabic"] > counts["latin"] else "Latin"
    if script == "Latin":
        lines = _read(gray, scale, "eng")
        if _mean_conf(lines) < 0.75:
            # OSD calls some Arabic receipts with Latin digits "Latin"; the English
            # model then returns garbage with a low confidence.
            alt = _read(gray, scale, "fas")
            if _mean_conf(alt) > _mean_conf(lines) + 0.05 and has_arabic_script(_flat_text(alt)):
                return alt, "Arabic", choose_arabic_language(_flat_text(alt)), ["fas"]
        main = choose_latin_language(_flat_text(lines))
        if main == "pol":
            # Polish diacritics (ł in "zł", names) need the Polish model; Swahili is
            # plain ASCII, which the English model reads as well as the Swahili one.
            return _read(gray, scale, "pol"), "Latin", "pol", ["pol"]
        return lines, "Latin", main, ["eng"]
    # The Persian model alone, for Arabic too: Debian's Arabic model has no digits
    # 2-9, and with "+eng" the English model claims Persian numbers (measured:
    # "۴۳۶۶۸۶" read as "APPYPIGYPO"). Persian covers the Arabic letters but a few
    # (إ ؤ), which only names lose.
    lines = _read(gray, scale, "fas")
    return lines, "Arabic", choose_arabic_language(_flat_text(lines)), ["fas"]


def read_text(image: Image.Image, *, languages: list[str] | None = None) -> OcrResult:
    """OCR one image. `languages` (tesseract codes) skips detection when given.

    Raises OcrError when Tesseract or its data is missing.
    """
    start = time.perf_counter()
    if min(image.size) < _MIN_SIDE:
        return OcrResult(text="", languages=[], words=[], lines=[], took_ms=0.0,
                         width=image.width, height=image.height)
    gray, scale = _prepare(image)
    truncated = gray.height > _MAX_HEIGHT
    if truncated:
        gray = gray.crop((0, 0, gray.width, _MAX_HEIGHT))
    if languages:
        lang = "+".join(languages)
        lines = _read(gray, scale, lang)
        script = "Arabic" if has_arabic_script(_flat_text(lines)) else "Latin"
        main = languages[0]
        models = list(languages)
    else:
        lines, script, main, models = _read_auto(gray, scale)
    _recover_lost_lines(lines, gray, scale, "+".join(models))
    if script == "Arabic":
        _reread_numbers(lines, gray, scale)
    else:
        recheck_codes(lines, gray, scale, _read_code)
    result_lines: list[Line] = []
    words: list[Word] = []
    for idx, ln in enumerate(lines):
        for w in ln:
            w.line = idx
        text = " ".join(w.text for w in ln)
        result_lines.append(
            Line(text=text, box=_union([w.box for w in ln]), words=ln, rtl=has_arabic_script(text))
        )
        words.extend(ln)
    full = "\n".join(ln.text for ln in result_lines)
    langs = [main]
    counts = script_counts(normalize_text(full))
    if main in ("fas", "ara") and counts["latin"] >= 4:
        langs.append("eng")
    return OcrResult(
        text=full, languages=langs, words=words, lines=result_lines, script=script,
        took_ms=(time.perf_counter() - start) * 1000.0, truncated=truncated, models=models,
        width=image.width, height=image.height,
    )

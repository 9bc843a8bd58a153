"""OCR of receipts and chat screenshots with Tesseract (through tesserocr).

Why the shape of this module:
- One `PyTessBaseAPI` per language set, page mode and thread stays loaded:
  initialising a model costs 50-300 ms, reading a phone screenshot 100-300 ms.
- The script comes from the English model's confidence in its read of the page (a
  Persian-model read where it is low), the language from the words of that read:
  Persian vs Arabic, English vs Polish vs Swahili. Only Polish is read a second
  time (its model is needed for "zł" and the diacritics of names); Swahili is plain
  ASCII, which the English model reads as well. Arabic-script images are read with
  a Persian model alone: Debian's Arabic model (tessdata 4.1) has no digits 2-9,
  and "fas+eng" lets the English model claim Persian numbers. Persian pages are read
  with tessdata_best's Persian model where the set-up fetched it (`tessmodels`),
  Arabic ones with Debian's.
- Debian's Persian model cannot output the thousands separator ٬ and reads it, and
  the date slash, as digits. Numbers are therefore re-read from pixels and fused with
  Tesseract's digits (`numbers`); the glyph work (components, marks, templates) is
  `glyphs`. This module reads the page, finds and re-reads lost lines, and assembles
  the result.
- Codes (transaction ids) on Latin pages get a second opinion of their own (`codes`),
  for which this module reads a code alone (`_read_code`).
- Words come from Tesseract's TSV rendering, which keeps right-to-left words in
  logical order (its word iterator reverses their letters).
"""

from __future__ import annotations

import os
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
from .glyphs import STROKE_STEP, code_templates, digit_templates, otsu
from .normalize import (
    choose_arabic_language,
    choose_latin_language,
    has_arabic_script,
    normalize_text,
    script_counts,
)
from .numbers import reread_numbers
from .tessmodels import persian_best_dir
from .words import Box, Word, union

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
_LOST_LINE_MIN_CONF = 0.6
# A line Tesseract did read, but into words this unsure, is read again like a lost one:
# on generated Persian receipts "مبلغ: ۴۷۳٬۰۰۰ ریال" came out as one word "۱" of
# confidence 0 in the page and as "مبلغ: ۴۷۳۰۰۰ ریال" (0.92) alone; on a dark chat
# "مبلغ ۴۲۷٬۸۰۰ تومان واریز شد" came out as "۱۱۱" at 0.49.
_GARBLED_LINE_MAX_CONF = 0.5
# A word whose box is this many times wider than its characters' count times its
# height has swallowed print: in Gandom, "ساعت" came with a 250 px box over the date
# before it (1.84), and the date was lost; read with the best Persian model, with a
# 189 px box (1.58). Of 1,474 words of 3+ characters on 80 generated pages in all five
# languages (either Persian model), all but three misreads (1.70-2.61) stayed under 1.26
# (status-bar pairs like "25" are wider).
_SWALLOWED_WIDTH = 1.5
# A label or currency word read this surely makes a lost line's band read worth keeping
# however unsure the rest (`_sure_field_word`).
_SURE_LABEL = 0.85
# A band read this confidently is not read another way.
_SURE_BAND_CONF = 0.85
# Below this mean confidence the English model's read of a page may be of another
# script, and the Persian model reads it too (`_read_auto`).
_LATIN_MIN_CONF = 0.75


class OcrError(RuntimeError):
    """Tesseract or its language data is missing or failed."""


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


# The name this module gives tessdata_best's Persian model (`tessmodels`), which is
# "fas" in a directory of its own.
PERSIAN_BEST = "fas_best"


def _persian_model() -> str:
    """The model Persian pages are read with: the best one where it is installed."""
    return PERSIAN_BEST if persian_best_dir() else "fas"


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
            best = persian_best_dir() if lang == PERSIAN_BEST else None
            api = tesserocr.PyTessBaseAPI(path=best or tessdata_path(),
                                          lang="fas" if lang == PERSIAN_BEST else lang,
                                          psm=psm)
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
    steps = np.abs(np.diff(a, axis=1)) >= STROKE_STEP
    rows = steps.sum(axis=1) >= 2 * _BAND_MIN_INK
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rows.astype(np.int8), [0]))))
    return [(int(top), int(bottom)) for top, bottom in zip(edges[::2], edges[1::2],
                                                           strict=True)]


def _recover_lost_lines(lines: list[list[Word]], gray: Image.Image, scale: float,
                        lang: str) -> None:
    """Read again, each on its own as sparse text, the bands of ink no word came from,
    those whose words are all garbled, and those where a word swallowed print.

    Tesseract's page layout (any page mode) now and then drops a whole line: measured on
    a generated Arabic receipt, the payer's line "من: ..." was missing in page modes 3,
    4 and 6 and read in 11, sparse text; cropped to its band it is still lost in modes
    6 and 7 (single line) and read in 11. So a band the height of a text line with no
    word in it is read on its own as sparse text, and what comes back confidently joins
    the lines in place. A line read as garbage (`_GARBLED_LINE_MAX_CONF`) is replaced
    by what its band alone gives, when that is confident; a line with a word far wider
    than its text (`_swallowed_print`), when its band alone reads more characters.
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
        if len(on_band) > 1:
            continue
        line = lines[on_band[0]] if on_band else []
        garbled = bool(line) and _mean_conf([line]) <= _GARBLED_LINE_MAX_CONF
        swallowed = bool(line) and not garbled and _swallowed_print(line)
        if line and not (garbled or swallowed):
            continue
        pad = max(2, round(0.25 * height))
        y0, y1 = max(0, top - pad), min(gray.height, bottom + pad)
        words = _read_band(gray.crop((0, y0, gray.width, y1)), scale, lang)
        if not words:
            continue
        offset = round(y0 / scale)
        for w in words:
            w.box = (w.box[0], w.box[1] + offset, w.box[2], w.box[3])
        if swallowed and _alnum_count(words) <= _alnum_count(line):
            continue
        if line:
            line[:] = words  # the garbled or swallowing line, read well on its own
        else:
            found.append(words)
    for words in found:  # in place: before the first line that starts below it
        top = min(w.box[1] for w in words)
        at = next((i for i, ln in enumerate(lines) if min(w.box[1] for w in ln) > top),
                  len(lines))
        lines.insert(at, words)


def _swallowed_print(line: list[Word]) -> bool:
    """Whether a word of the line has a box far wider than its text (`_SWALLOWED_WIDTH`)."""
    return any(len(w.text) >= 3 and w.box[2] > _SWALLOWED_WIDTH * w.box[3] * len(w.text)
               for w in line)


def _sure_field_word(words: list[Word]) -> bool:
    """Whether a label or currency word among `words` was read surely: the line is that
    field's, however garbled its number, which the glyph re-read is for (`numbers`). A
    DejaVu Sans amount line, lost from the page, read alone as "مبلغ: و ار 0 ریال" with
    "مبلغ:" at 0.91 and the rest under 0.5."""
    return any(w.confidence >= _SURE_LABEL and is_field_word(w.text) for w in words)


def _alnum_count(words: list[Word]) -> int:
    return sum(ch.isalnum() for w in words for ch in w.text)


def _read_band(band: Image.Image, scale: float, lang: str) -> list[Word]:
    """The words of one band of ink read on its own, or [] if nothing reads confidently
    (or with a sure label or currency word: `_sure_field_word`).

    Read up to four ways, until one is sure, the most confident kept: as one block, as
    sparse text (the only mode that found a line the page layout had lost), binarised
    here as one block, and twice the size as one block. On a chat bubble cut by the
    band, Tesseract's own threshold fell between the bubble and the page and the text
    vanished into the bubble (a dark-theme amount line read as nothing in every mode),
    while the band's Otsu threshold separates the text from both; sparse text read half
    of a small number in a bubble that one block read whole. A Parastoo Bold amount line
    gave no word at all the first three ways, and its four words at twice the size.
    """
    pixels = np.asarray(band)
    best: list[Word] = []
    best_weight = 0.0
    for binarise, psm, zoom in ((False, tesserocr.PSM.SINGLE_BLOCK, 1),
                                (False, tesserocr.PSM.SPARSE_TEXT, 1),
                                (True, tesserocr.PSM.SINGLE_BLOCK, 1),
                                (False, tesserocr.PSM.SINGLE_BLOCK, 2)):
        image = band if not binarise else \
            Image.fromarray(np.where(pixels >= otsu(pixels), 255, 0).astype(np.uint8))
        if zoom != 1:
            image = image.resize((image.width * zoom, image.height * zoom),
                                 Image.Resampling.BICUBIC)
        words = [w for ln in _read(image, scale * zoom, lang, psm) for w in ln]
        if (_mean_conf([words]) < _LOST_LINE_MIN_CONF and not _sure_field_word(words)) \
                or _alnum_count(words) < 2:
            continue
        # Confident characters: a sure read of half the line loses to a whole one.
        weight = sum(w.confidence * len(w.text) for w in words)
        if weight > best_weight:
            best, best_weight = words, weight
        if _mean_conf([words]) >= _SURE_BAND_CONF:
            break
    return best


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


def _mean_conf(lines: list[list[Word]]) -> float:
    confs = [w.confidence for ln in lines for w in ln]
    return float(np.mean(confs)) if confs else 0.0


def _flat_text(lines: list[list[Word]]) -> str:
    return "\n".join(" ".join(w.text for w in ln) for ln in lines)


def warm_up() -> None:
    """Load the Tesseract models and build the digit templates now, not on the first
    check: a worker calls this at start-up, a benchmark before timing. About 10 s of CPU
    the first time in an environment, 0.4 s once the templates are on disk
    (`templatecache`; `bench/digits.py --warm-up`)."""
    for lang in {"eng", "fas", "pol", _persian_model()}:
        _api(lang)
    digit_templates(False)
    digit_templates(True)
    code_templates()


def _read_auto(gray: Image.Image, scale: float) -> tuple[list[list[Word]], str, str, list[str]]:
    """Pick the script and model, read: (lines, script, language, models used).

    The English model reads first: on Latin pages that is the read wanted, and on
    Arabic-script pages it returns garbage at a low confidence (0.18-0.59 over 40
    Persian and Arabic pages, 0.85-0.96 over 40 Latin ones of bench/signals.py), so the
    Persian model reads those. Tesseract's script detection (OSD) had decided it before
    at 165 ms a Persian or Arabic page and 377 ms a Latin one, more than a read."""
    lines = _read(gray, scale, "eng")
    if _mean_conf(lines) < _LATIN_MIN_CONF:
        persian = _persian_model()
        alt = _read(gray, scale, persian)
        if _mean_conf(alt) > _mean_conf(lines) + 0.05 and has_arabic_script(_flat_text(alt)):
            # A Persian model alone, for Arabic too: Debian's Arabic model has no
            # digits 2-9, and with "+eng" the English model claims Persian numbers
            # (measured: "۴۳۶۶۸۶" read as "APPYPIGYPO"). Persian covers the Arabic
            # letters but a few (إ ؤ), which only names lose.
            language = choose_arabic_language(_flat_text(alt))
            if language == "ara" and persian == PERSIAN_BEST:
                # The best Persian model misreads Arabic currency words ("درهه"):
                # on 300 Arabic pages it lost 9 amounts, Debian's model 2 (though it
                # read 6 ids more right).
                persian = "fas"
                alt = _read(gray, scale, persian)
            return alt, "Arabic", language, [persian]
    main = choose_latin_language(_flat_text(lines))
    if main == "pol":
        # Polish diacritics (ł in "zł", names) need the Polish model; Swahili is plain
        # ASCII, which the English model reads as well as the Swahili one.
        return _read(gray, scale, "pol"), "Latin", "pol", ["pol"]
    return lines, "Latin", main, ["eng"]


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
        reread_numbers(lines, gray, scale)
    else:
        recheck_codes(lines, gray, scale, _read_code)
    result_lines: list[Line] = []
    words: list[Word] = []
    for idx, ln in enumerate(lines):
        for w in ln:
            w.line = idx
        text = " ".join(w.text for w in ln)
        result_lines.append(
            Line(text=text, box=union([w.box for w in ln]), words=ln, rtl=has_arabic_script(text))
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

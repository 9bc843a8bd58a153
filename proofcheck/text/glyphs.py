"""Glyphs of printed numbers and codes: connected components, the marks between digits,
and nearest-template classifiers rendered from the installed fonts.

Pure image work, no Tesseract: `ocr` cuts numbers and codes into glyphs with these and
decides their characters, Tesseract's reading being one voice among others there.
"""

from __future__ import annotations

import io
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from proofcheck import memo
from proofcheck.text import templatecache, webfonts

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
# A step in grey level between neighbouring pixels that is a stroke's edge, not a
# bubble's: text on a bubble differs from it by 150+, bubbles from the page by ~40.
STROKE_STEP = 64


@dataclass
class Comp:
    """A connected component of ink: its box in the crop, how its pixels' x and y
    correlate (a slash leans), and its mask."""

    x1: int
    y1: int
    x2: int
    y2: int
    corr: float
    mask: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((1, 1), dtype=bool))
    cut: bool = False  # cut from a wider component (touching glyphs), not found whole

    @property
    def w(self) -> int:
        return self.x2 - self.x1

    @property
    def h(self) -> int:
        return self.y2 - self.y1


# Pixels touching by an edge or a corner are one component.
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def components(binary: np.ndarray) -> list[Comp]:
    labels, count = ndimage.label(binary, structure=_EIGHT_CONNECTED)
    comps: list[Comp] = []
    if count == 0:
        return comps
    for idx, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        comps.append(_comp(labels[sl] == idx, sl[1].start, sl[0].start))
    return comps


def _comp(mask: np.ndarray, x0: int, y0: int) -> Comp:
    """The component of `mask`'s ink (a box around it at (x0, y0)), trimmed to it."""
    ys, xs = np.nonzero(mask)
    corr = 0.0
    if xs.size > 2 and xs.std() > 0 and ys.std() > 0:
        corr = float(np.corrcoef(xs, ys)[0, 1])
    top, left = int(ys.min()), int(xs.min())
    bottom, right = int(ys.max()) + 1, int(xs.max()) + 1
    return Comp(x0 + left, y0 + top, x0 + right, y0 + bottom, corr,
                mask[top:bottom, left:right])


def otsu(values: np.ndarray) -> float:
    hist = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 128.0
    omega = np.cumsum(hist) / total
    mu = np.cumsum(hist * np.arange(256)) / total
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (mu_t * omega - mu) ** 2 / (omega * (1 - omega))
    sigma = np.nan_to_num(sigma)
    return float(np.argmax(sigma))


def classify_marks(comps: list[Comp], band_top: float, band_h: float) -> list[tuple[str, Comp]]:
    """Label each component: "d" digit, or the separator it is ("/", "-", ":", ...).

    Thresholds come from measuring digits and separators in five Persian/Arabic fonts
    (Nazli, Homa, DejaVu Sans, Noto Sans Arabic, Nazli Bold): the Persian zero is a
    small blob at mid height, ٬ a small mark at the top (or the bottom in Noto), the
    slash and ٫ strongly anti-correlated in x and y (a "/" stroke), "." low and round.
    """
    out: list[tuple[str, Comp]] = []
    used: set[int] = set()
    for i, c in enumerate(comps):
        if i in used:
            continue
        rel_h = c.h / band_h
        cy = ((c.y1 + c.y2) / 2 - band_top) / band_h
        if 0.5 <= rel_h < 0.9 and cy < 0.4 and 0.8 <= c.w / max(1, c.h) <= 1.4:
            out.append(("*", c))  # masked card digits: a mark high up, as wide as tall
            continue
        if rel_h >= 0.6:
            if c.corr <= -0.8 and rel_h >= 0.88:
                out.append(("/", c))
            elif _is_tall_decimal_mark(c, band_top, band_h):
                out.append(("٫", c))
            else:
                out.append(("d", c))
            continue
        # Two small blobs one above the other: a colon.
        partner = None
        for j in range(i + 1, min(len(comps), i + 3)):
            o = comps[j]
            if j in used or o.h / band_h >= 0.6:
                continue
            overlap = min(c.x2, o.x2) - max(c.x1, o.x1)
            stacked = abs((o.y1 + o.y2) - (c.y1 + c.y2)) / 2 > 0.25 * band_h
            if overlap > 0.4 * min(c.w, o.w) and stacked:
                partner = j
                break
        if partner is not None:
            used.add(partner)
            out.append((":", c))
            continue
        if c.w >= 2.2 * c.h and 0.3 <= cy <= 0.8:
            out.append(("-", c))
        elif 0.38 <= cy <= 0.78 and 0.55 <= c.w / max(1, c.h) <= 1.8:
            out.append(("d", c))  # the Persian zero
        elif cy < 0.38:
            out.append(("٬", c))
        elif c.h > 1.3 * c.w:
            out.append((",", c))
        else:
            out.append((".", c))
    return out


def _is_tall_decimal_mark(c: Comp, band_top: float, band_h: float) -> bool:
    """Whether `c` is a ٫ drawn most of a digit's height: a stroke leaning like a "/",
    lower than the digits' middle and shorter than them."""
    cy = ((c.y1 + c.y2) / 2 - band_top) / band_h
    return c.corr <= -0.7 and cy > 0.62 and 0.6 <= c.h / band_h < 0.88


# A glyph this many digits' heights wide is more than one digit, or a digit with a mark
# touching it (`part_decimal_marks`); Homa's digits are 0.6-0.9 of their height wide.
_WIDER_THAN_A_DIGIT = 1.1
# How much of a glyph's height, from the bottom, may be lifted to part a ٫ from it.
_MARK_JOINT_ROWS = 0.3


def part_decimal_marks(comps: list[Comp], band_top: float, band_h: float) -> list[Comp]:
    """`comps` with every glyph that is a digit and the ٫ after it, drawn touching, cut in
    two. Homa's ٫ is nearly as wide as a digit and reaches under the one before it:
    shrunk and compressed, "٦٫" came out one glyph, read "١" (4 of 400 Arabic amounts on
    two seeds of bench/signals.py). A glyph is cut only where lifting its bottom rows
    parts it in two and the right part is a ٫ to `classify_marks`."""
    out: list[Comp] = []
    for c in comps:
        parts = (_digit_and_mark(c, band_top, band_h)
                 if c.w > _WIDER_THAN_A_DIGIT * band_h and c.h >= 0.8 * band_h else None)
        out += parts or [c]
    return out


def _digit_and_mark(c: Comp, band_top: float, band_h: float) -> list[Comp] | None:
    """`c` as a digit and a ٫ to the right of it, touching at the bottom; None if not."""
    for lifted in range(1, max(2, round(_MARK_JOINT_ROWS * c.h)) + 1):
        labels, count = ndimage.label(c.mask[: c.h - lifted], structure=_EIGHT_CONNECTED)
        sizes = np.bincount(labels.ravel())[1:]
        if count < 2 or np.sort(sizes)[-2] < 0.15 * c.mask.sum():
            continue  # one piece yet, or a speck beside it
        columns = {int(i) + 1: np.nonzero((labels == int(i) + 1).any(axis=0))[0]
                   for i in np.argsort(sizes)[-2:]}  # of the two biggest pieces
        left, right = sorted(columns, key=lambda piece: columns[piece].mean())
        mark = np.zeros_like(c.mask)
        mark[: c.h - lifted] = labels == right
        mark[c.h - lifted :] = c.mask[c.h - lifted :] & (np.arange(c.w) > columns[left].max())
        digit = c.mask & ~mark
        if not digit.any() or not mark.any():
            return None
        parts = [_comp(digit, c.x1, c.y1), _comp(mark, c.x1, c.y1)]
        if parts[0].h >= 0.8 * band_h and _is_tall_decimal_mark(parts[1], band_top, band_h):
            return parts
        return None
    return None


TEMPLATE_FONTS = (
    "farsiweb/nazli.ttf", "farsiweb/nazlib.ttf", "farsiweb/homa.ttf", "farsiweb/titr.ttf",
    "dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSansCondensed.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "noto/NotoSansArabic-Regular.ttf", "noto/NotoSansArabic-Bold.ttf",
    "noto/NotoNaskhArabic-Regular.ttf", "noto/NotoNaskhArabic-Bold.ttf",
    "noto/NotoKufiArabic-Regular.ttf", "noto/NotoKufiArabic-Bold.ttf",
    "opentype/fonts-hosny-amiri/Amiri-Regular.ttf", "opentype/fonts-hosny-amiri/Amiri-Bold.ttf",
    "opentype/lateef/Lateef-Regular.ttf", "opentype/lateef/Lateef-Bold.ttf",
    "truetype/scheherazade/Scheherazade-Regular.ttf",
    "truetype/scheherazade/Scheherazade-Bold.ttf",
    "truetype/kacst/KacstOffice.ttf", "truetype/kacst/KacstBook.ttf",
    "truetype/kacst/KacstScreen.ttf", "truetype/fonts-arabeyes/ae_AlArabiya.ttf",
    "truetype/fonts-arabeyes/ae_Arab.ttf", "truetype/fonts-arabeyes/ae_Salem.ttf",
    "truetype/freefarsi/FreeFarsi.ttf", "truetype/freefarsi/FreeFarsi-Bold.ttf",
    "truetype/freefarsi/FreeFarsi-Mono.ttf",
    "opentype/fonts-hosny-thabit/Thabit.ttf", "opentype/fonts-hosny-thabit/Thabit-Bold.ttf",
    "opentype/lemonada/Lemonada-Regular.otf", "opentype/lemonada/Lemonada-Bold.otf",
    "truetype/harmattan/Harmattan-Regular.ttf", "truetype/harmattan/Harmattan-Bold.ttf",
    "truetype/unikurdweb/Unikuweb.ttf", "truetype/alkalami/Alkalami-Regular.ttf",
    *webfonts.template_names(),
)
_NO_SUCH_GLYPH = "\U0010fffd"  # a private-use code point no font draws
FONT_ROOTS = ("/usr/share/fonts/truetype", "/usr/local/share/fonts", "/usr/share/fonts",
              str(webfonts.font_root()))
_GLYPH = 20


def font_path(rel: str) -> Path | None:
    """A template font's file: `rel` under the first font root that has it."""
    return next((Path(r) / rel for r in FONT_ROOTS if (Path(r) / rel).exists()), None)


def drawable(path: Path, chars: str) -> str:
    """The characters of `chars` the font at `path` has: for a code point it lacks it
    draws what it draws for any (a box, or nothing)."""
    probe = ImageFont.truetype(str(path), 36)
    missing = bytes(probe.getmask(_NO_SUCH_GLYPH))
    return "".join(ch for ch in chars if bytes(probe.getmask(ch)) != missing)


def glyph_vector(mask: np.ndarray) -> np.ndarray:
    """A glyph as a unit vector: its bitmap centred in a square, scaled to 20x20."""
    h, w = mask.shape
    side = max(h, w)
    canvas = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = mask.astype(np.uint8) * 255
    small = Image.fromarray(canvas).resize((_GLYPH, _GLYPH), Image.Resampling.BILINEAR)
    vec = np.asarray(small, dtype=np.float32).ravel() / 255.0
    vec = vec - vec.mean()
    norm = float(np.linalg.norm(vec)) or 1.0
    # The aspect ratio separates the thin ۱ from everything else even when blurred.
    return np.concatenate([vec / norm, [0.5 * np.log(w / h)]]).astype(np.float32)


def top_prongs(mask: np.ndarray) -> np.ndarray:
    """Share of the top 35% rows crossing 1, 2 and 3+ strokes: the teeth that tell ۲ from
    ۳ (and ۴ from ۳), which the whole-glyph bitmap of an unseen font blurs together."""
    top = mask[: max(1, round(0.35 * mask.shape[0]))].astype(np.int8)
    crossings = (np.diff(np.pad(top, ((0, 0), (1, 0))), axis=1) == 1).sum(axis=1)
    return np.array([np.mean(crossings == 1), np.mean(crossings == 2),
                     np.mean(crossings >= 3)], dtype=np.float32)


def _counter(mask: np.ndarray) -> tuple[int, int] | None:
    """Width and height of a glyph's counter (its largest hole), None without one."""
    filled = ndimage.binary_fill_holes(mask)
    labels, count = ndimage.label(filled & ~mask)
    if count == 0:
        return None
    ys, xs = np.nonzero(labels == int(np.argmax(np.bincount(labels.ravel())[1:])) + 1)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def roundness(mask: np.ndarray) -> float | None:
    """How round a ring is: the glyph's width over its height to the power 1.3, times the
    same ratio of its counter (the largest hole); None without a hole. "O" is round,
    "0" narrow and its counter narrower still, in every font measured; see
    `codes._zero_or_o`."""
    counter = _counter(mask)
    if counter is None:
        return None
    h, w = mask.shape
    return float((w / h) ** 1.3 * counter[0] / counter[1])


def counter_span(mask: np.ndarray) -> float | None:
    """The share of a glyph's height its counter spans, None without one: a ring's
    ("O", "0") 0.60-0.92, a bowl's ("9", "6") 0.27-0.55, in DejaVu and Noto, sans and
    serif, regular, bold and condensed, after JPEG q60-90 and half at a 70% downscale
    (214 of each)."""
    counter = _counter(mask)
    return None if counter is None else counter[1] / mask.shape[0]


# Weight of `top_prongs` next to the unit glyph vector for Persian/Arabic digits.
# Whole numbers right on held-out fonts (numbers rendered alone, 300 per script, two
# seeds): Persian 0.807/0.780 -> 0.857/0.850, Arabic 0.820/0.807 -> 0.860/0.853; 0.3
# and 1.0 were worse than 0.6 (0.830 and 0.760 Persian).
_PRONG_WEIGHT = 0.6


LATIN_TEMPLATE_FONTS = (
    "dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSansMono.ttf",
    "noto/NotoSans-Regular.ttf", "noto/NotoSans-Bold.ttf", "noto/NotoSerif-Regular.ttf",
    "farsiweb/homa.ttf", "farsiweb/nazli.ttf",
)
# Codes are read on Latin pages, in serif faces too. Noto Serif held out had left the
# templates no serif "5", "B" or "D", and its ids came out with "S", "8" and "O" for
# them. Liberation Serif and FreeSerif: 18 -> 14 wrong ids in 600 Latin receipts and
# chats, none newly wrong; with four sans families as well (Liberation Sans, Roboto,
# Open Sans, Lato), 15 (bench/RESULTS.md). Not for the Latin digits of Persian and
# Arabic pages, in those pages' fonts: a Nazli Bold "6" came out "8".
CODE_TEMPLATE_FONTS = (
    *LATIN_TEMPLATE_FONTS,
    "liberation2/LiberationSerif-Regular.ttf", "liberation2/LiberationSerif-Bold.ttf",
    "freefont/FreeSerif.ttf",
)
# Font files (substrings of their paths) left out of the templates: a benchmark hook
# for held-out-font evaluation, so that accuracy is never measured on the very fonts
# the templates were rendered from.
_template_exclusions: tuple[str, ...] = ()


def set_template_exclusions(substrings: tuple[str, ...]) -> None:
    """Leave fonts whose path contains any of `substrings` out of the digit templates."""
    global _template_exclusions
    _template_exclusions = tuple(substrings)


class DigitTemplates:
    """Nearest-template digit classifier over glyphs rendered from installed fonts.

    The Debian Persian model misreads isolated digits (measured: "۱" -> "۷", "۲۵۰" ->
    "۱۳۵۰") and Latin digits inside Persian text ("675670827405" -> "575670827405"),
    but digits are simple, single connected shapes, so templates rendered from the
    installed Persian/Arabic and Latin fonts classify them reliably. The Persian zero
    is told by its size and place, before this classifier.
    """

    def __init__(self, glyphs: dict[str, str], fonts: tuple[str, ...],
                 prong_weight: float = 0.0, cached: bool = False) -> None:
        """Templates of `glyphs` (character -> label) in each of `fonts` found; with
        `cached`, loaded from the disk cache when there (`templatecache`), else rendered
        and stored there."""
        self.prong_weight = prong_weight
        paths = [path for path in map(font_path, fonts) if path is not None]
        name = templatecache.key({"glyphs": sorted(glyphs.items()),
                                  "prong_weight": prong_weight,
                                  "degraded": _DEGRADED_RENDERS, "size": _GLYPH},
                                 paths) if cached else ""
        found = templatecache.load(name) if cached else None
        if found is None:
            found = self._render(glyphs, paths)
            if cached:
                templatecache.save(name, *found)
        self.matrix, self.labels = found
        # The rows grouped by label, for each label's best row in one reduction: a
        # Python loop over the ~4,600 rows took 0.7 ms a glyph, this 0.3 ms (every digit
        # glyph of a page is scored).
        labels = np.array(self.labels, dtype=object)
        self._names = sorted(set(self.labels))
        self._by_label = np.argsort(labels, kind="stable")
        self._starts = np.searchsorted(labels[self._by_label],
                                       np.array(self._names, dtype=object))

    def _render(self, glyphs: dict[str, str], paths: list[Path]) -> tuple[np.ndarray, list[str]]:
        """The template vectors and their labels, rendered from the fonts at `paths`."""
        vectors: list[np.ndarray] = []
        labels: list[str] = []
        for path in paths:
            # Only what the font has: Kacst and Arabeyes have no Persian digits, Unikurd
            # only some.
            has = drawable(path, "".join(glyphs))
            drawn = {ch: label for ch, label in glyphs.items() if ch in has}
            # Small sizes too: after a 70% downscale and JPEG a digit is ~20 px high
            # and loses the detail that tells ۲ from ۳.
            for size in (18, 24, 36, 56):
                font = ImageFont.truetype(str(path), size)
                for ch, label in drawn.items():
                    canvas = Image.new("L", (size * 2, size * 2), 0)
                    ImageDraw.Draw(canvas).text((size // 2, size // 4), ch, font=font, fill=255)
                    comps = merge_stacked(components(np.asarray(canvas) > 127))
                    if not comps:
                        continue
                    big = max(comps, key=lambda c: c.w * c.h)
                    # Bolder and lighter variants: stroke weight is what differs most
                    # between fonts, and between a JPEG and its binarisation.
                    variants = [big.mask]
                    if size >= 36:
                        variants.append(ndimage.binary_dilation(big.mask))
                        eroded = ndimage.binary_erosion(big.mask)
                        if eroded.sum() > 0.3 * big.mask.sum():
                            variants.append(eroded)
                    for mask in variants:
                        vectors.append(self.vector(mask))
                        labels.append(label)
            for size, factor, quality in _DEGRADED_RENDERS:
                font = ImageFont.truetype(str(path), size)
                for ch, label in drawn.items():
                    degraded = _degraded_glyph(font, ch, factor, quality)
                    if degraded is not None:
                        vectors.append(self.vector(degraded))
                        labels.append(label)
        # Without a font there is nothing to score against (`scores` gives {}).
        matrix = np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        return matrix, labels

    # A page's digit classifier observes each digit, and the re-read then classifies the
    # same glyph (`numbers`): remembered for a few pages' glyphs, not computed twice.
    @memo.by_identity(512)
    def vector(self, mask: np.ndarray) -> np.ndarray:
        """A glyph mask as the vector the templates are compared in."""
        if not self.prong_weight:
            return glyph_vector(mask)
        return np.concatenate([glyph_vector(mask), self.prong_weight * top_prongs(mask)])

    # The same glyph's vector is scored when the page observes it, when the page or the
    # re-read classifies it, and when Tesseract's reads are laid on it: a 5,800-row
    # product, 9 MB of templates streamed each time.
    @memo.by_identity(512)
    def scores(self, vec: np.ndarray) -> dict[str, float]:
        """Each label's best similarity to a glyph vector (from `vector`); callers must
        not change the dict, which later calls with the same vector share."""
        if not self._names:
            return {}
        best = np.maximum.reduceat((self.matrix @ vec)[self._by_label], self._starts)
        return dict(zip(self._names, best.tolist(), strict=True))

    def classify(self, mask: np.ndarray, allowed: str = "") -> tuple[str, float]:
        """(label, confidence 0..1) for one glyph mask, among `allowed` labels if given."""
        return self.classify_vector(self.vector(mask), allowed)

    def classify_vector(self, vec: np.ndarray, allowed: str = "") -> tuple[str, float]:
        """`classify` for a glyph already made a vector (`vector`): the label with the
        best score, its confidence from its margin over the next label and its score."""
        scores = self.scores(vec)
        if allowed:
            scores = {lab: sc for lab, sc in scores.items() if lab in allowed}
        if not scores:
            return "?", 0.0
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        top = scores[ranked[0]]
        runner = scores[ranked[1]] if len(ranked) > 1 else -1.0
        margin = top - runner
        conf = max(0.0, min(1.0, 0.5 + 4.0 * margin)) * max(0.0, min(1.0, (top - 0.3) / 0.5))
        return ranked[0], conf


# Glyphs as re-posted screenshots carry them: rendered, shrunk, JPEG-compressed and cut
# by Otsu's threshold like the page (size in px, downscale factor, JPEG quality).
_DEGRADED_RENDERS: tuple[tuple[int, float, int], ...] = ((40, 0.7, 70), (30, 1.0, 65))


def degraded_print(font: ImageFont.FreeTypeFont, text: str, factor: float,
                   quality: int) -> np.ndarray:
    """`text` printed dark on light, scaled by `factor` and saved as a JPEG of
    `quality`: the grey crop a re-posted screenshot gives of it."""
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    pad = 10
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=0)
    if factor != 1.0:
        img = img.resize((max(1, round(img.width * factor)), max(1, round(img.height * factor))),
                         Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("L"))


def _degraded_glyph(font: ImageFont.FreeTypeFont, ch: str, factor: float,
                    quality: int) -> np.ndarray | None:
    """The mask of `ch` cut from a degraded print, None when nothing is cut."""
    comps = glyph_components(degraded_print(font, ch, factor, quality))
    return max(comps, key=lambda c: c.w * c.h).mask if comps else None


_templates: dict[str, DigitTemplates] = {}
_templates_lock = threading.Lock()


def code_templates() -> DigitTemplates:
    """Templates of Latin capitals and digits, for the confusable characters of codes."""
    excluded = _template_exclusions
    key = "code|" + ",".join(excluded)
    with _templates_lock:
        if key not in _templates:
            fonts = tuple(f for f in CODE_TEMPLATE_FONTS if not any(x in f for x in excluded))
            glyphs = {ch: ch for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
            _templates[key] = DigitTemplates(glyphs, fonts, cached=not excluded)
        return _templates[key]


def digit_templates(latin: bool) -> DigitTemplates:
    excluded = _template_exclusions
    key = ("latin" if latin else "arabic") + "|" + ",".join(excluded)
    with _templates_lock:
        if key not in _templates:
            candidates: tuple[str, ...] = LATIN_TEMPLATE_FONTS if latin else TEMPLATE_FONTS
            fonts = tuple(f for f in candidates if not any(x in f for x in excluded))
            if latin:
                glyphs = {str(d): str(d) for d in range(10)}
            else:
                glyphs = {PERSIAN_DIGITS[d]: str(d) for d in range(1, 10)}
                glyphs.update({ARABIC_DIGITS[d]: str(d) for d in range(1, 10)})
            # Held-out sets (benchmarks) are not cached: one file per family left out.
            _templates[key] = DigitTemplates(glyphs, fonts,
                                              prong_weight=0.0 if latin else _PRONG_WEIGHT,
                                              cached=not excluded)
        return _templates[key]


def glyph_components(crop: np.ndarray) -> list[Comp]:
    """The glyphs of a grey crop around some print, left to right: its dark components
    of 4+ pixels, with pieces stacked over one another joined, and without what touches
    the crop's left or right edge (pieces of neighbouring words reaching into it)."""
    comps = [c for c in components(crop < otsu(crop))
             if c.w * c.h >= 4 and c.x1 > 0 and c.x2 < crop.shape[1]]
    return merge_stacked(comps)


def merge_stacked(comps: list[Comp]) -> list[Comp]:
    """Join a small piece lying over or under a bigger glyph (the bar of a "5" in some
    fonts) into it; separators never overlap a digit horizontally, so they stay."""
    comps = sorted(comps, key=lambda c: -(c.w * c.h))
    out: list[Comp] = []
    for c in comps:
        host = next(
            (o for o in out if min(c.x2, o.x2) - max(c.x1, o.x1) >= 0.6 * c.w and c.h < o.h), None
        )
        if host is None:
            out.append(c)
            continue
        x1, y1 = min(c.x1, host.x1), min(c.y1, host.y1)
        x2, y2 = max(c.x2, host.x2), max(c.y2, host.y2)
        mask = np.zeros((y2 - y1, x2 - x1), dtype=bool)
        mask[host.y1 - y1 : host.y2 - y1, host.x1 - x1 : host.x2 - x1] |= host.mask
        mask[c.y1 - y1 : c.y2 - y1, c.x1 - x1 : c.x2 - x1] |= c.mask
        merged = Comp(x1, y1, x2, y2, host.corr, mask)
        out[out.index(host)] = merged
    return sorted(out, key=lambda c: c.x1)




class PageDigits:
    """The digit classifier for one page: templates, made consistent across the page.

    Within one font every rendering of a digit has (nearly) the same shape, so what is
    learnt about a shape anywhere on the page holds everywhere on it. On a font the
    templates have not seen, the nearest template is often wrong for one shape: Homa's
    ۲ has two prongs on top like a ۷ and came out ۷ in 48 of 54 wrong digits (numbers
    alone, Homa left out of the templates). Three kinds of evidence correct a shape: a
    date's syntax limits its labels (a year starts with 1 or 2, a month with 0 or 1, a
    day with 0-3); Tesseract's reads of it, wherever its digits can be laid on the
    word's glyphs (`numbers._read_per_glyph`), add to its templates' scores; and
    elimination assigns the labels, surest shape first, each taking its best label that
    no distinct shape of its height holds (two such shapes are two digits, `_distinct`),
    nor a shape the templates are sure of (`_sure`) unless it may be another cut of
    that digit (`_another_cut`). A shape only ever moves to a label its templates find
    nearly as good as their best. The labels of sure shapes are ruled out for every
    other shape of their height (`ruled_out`).
    (Applied one after the other as hard rules, these had let a day's syntax pick ۳ over
    the ۲ Tesseract read.)
    """

    SAME = 0.9        # one digit of one font: >= 0.96 measured across sizes and JPEG noise
    DISTINCT = 0.8    # bold and regular cuts of one digit: >= 0.82 measured
    HEIGHT_RATIO = 1.2
    REACH = 0.15      # how far below its best a shape's new label may score
    SYNTAX_REACH = 0.2
    # Per Tesseract reading, weighted by its word's confidence. Tuned on a third seed
    # (7): Persian date/id 0.96/0.92 at 0.05, 0.98/0.96 at 0.2 and at 0.35; unchanged on
    # the benchmark's seed.
    VOTE_WEIGHT = 0.2
    MOVED_CONF = 0.7  # a label decided by the page, not by the templates
    # A shape Tesseract read as its label, over the page, this much more (in summed word
    # confidence) than as any other label is that digit with at least SUPPORTED_CONF,
    # however unsure the templates: a DejaVu Sans Bold ۴ the templates gave 0.63 lost to
    # Tesseract's "۳" at 0.7 in a date, while six other words read the shape as ۴.
    SUPPORT_VOTES = 2.0
    SUPPORTED_CONF = 0.85
    # A shape whose best template scores this much above its next is sure of its label:
    # Homa's ۷ 0.39-0.47 ahead at 15-24 px after JPEG, where its ۲, ۳ and ۴ are within
    # 0.1 of each other.
    SURE_MARGIN = 0.2

    def __init__(self, templates: DigitTemplates) -> None:
        self.templates = templates
        self.vectors: list[np.ndarray] = []   # one per shape
        self.scores: list[dict[str, float]] = []
        self.heights: list[float] = []
        self.firsts: list[str] = []  # each shape's nearest template
        self.labels: list[str] = []
        self.votes: list[defaultdict[str, float]] = []  # Tesseract's readings of each shape
        self.allowed: dict[int, set[str]] = {}  # what dates' syntax lets a shape be
        self.ruled: list[str] = []  # per shape, what `resolve` rules out (`ruled_out`)

    def observe(self, mask: np.ndarray, band_h: float, read_as: str = "",
                weight: float = 0.0) -> int | None:
        """One digit glyph of the page and what Tesseract read it as (if known): its shape
        (None without templates: no font to render them from)."""
        vec = self.templates.vector(mask)
        scores = self.templates.scores(vec)
        if not scores:
            return None
        first = max(scores, key=scores.__getitem__)
        shape = self._shape_of(vec, band_h, first)
        if shape is None:
            self.vectors.append(vec)
            self.scores.append(scores)
            self.heights.append(band_h)
            self.firsts.append(first)
            self.labels.append(first)
            self.votes.append(defaultdict(float))
            shape = len(self.vectors) - 1
        if read_as in scores:
            self.votes[shape][read_as] += weight
        return shape

    def allow(self, shape: int, labels: str) -> None:
        """A date's syntax says `shape` is one of `labels`."""
        self.allowed[shape] = self.allowed.get(shape, set(labels)) & set(labels)

    def _shape_of(self, vec: np.ndarray, band_h: float, first: str) -> int | None:
        """The shape a glyph is another rendering of: as tall, nearly the same bitmap,
        and the same nearest template (in some fonts ۹ is a ۱ with a small loop)."""
        best, best_sim = None, self.SAME
        for i, other in enumerate(self.vectors):
            if self.firsts[i] != first or not self._same_height(self.heights[i], band_h):
                continue
            sim = float(other @ vec)
            if sim >= best_sim:
                best, best_sim = i, sim
        return best

    def _same_height(self, a: float, b: float) -> bool:
        return max(a, b) <= self.HEIGHT_RATIO * min(a, b)

    def _candidates(self, i: int) -> dict[str, float]:
        """The labels shape `i` may take, with its score for each: its templates' score
        plus Tesseract's votes, within reach of the templates' best, and only those a
        date's syntax allows (when some of them are within a wider reach)."""
        scores = self.scores[i]
        base = scores[self.firsts[i]]
        labels = [lab for lab in self.allowed.get(i, ())
                  if scores.get(lab, -2.0) >= base - self.SYNTAX_REACH]
        if not labels:
            labels = [lab for lab, sc in scores.items() if sc >= base - self.REACH]
        return {lab: scores[lab] + self.VOTE_WEIGHT * self.votes[i][lab] for lab in labels}

    def resolve(self) -> None:
        """Label every shape: surest first, each with its best candidate label that no
        clearly different or surely read shape of its height already holds (or its best,
        if all are)."""
        candidates = [self._candidates(i) for i in range(len(self.vectors))]

        def margin(i: int) -> float:
            ranked = sorted(candidates[i].values(), reverse=True)
            return ranked[0] - ranked[1] if len(ranked) > 1 else float("inf")

        sure: dict[int, bool] = {}  # the shapes labelled so far
        for i in sorted(range(len(self.vectors)), key=margin, reverse=True):
            taken = {self.labels[j] for j in sure
                     if self._same_height(self.heights[i], self.heights[j])
                     and (self._distinct(i, j)
                          or (sure[j] and not self._another_cut(i, self.labels[j])))}
            ranked = sorted(candidates[i], key=candidates[i].__getitem__, reverse=True)
            self.labels[i] = next((lab for lab in ranked if lab not in taken), ranked[0])
            sure[i] = self._sure(i)
        self.ruled = ["".join(sorted({
            self.labels[j] for j in sure
            if j != i and sure[j] and self.labels[j] != self.labels[i]
            and self._same_height(self.heights[i], self.heights[j])}))
            for i in range(len(self.vectors))]

    def _distinct(self, i: int, j: int) -> bool:
        """Whether shapes `i` and `j` are two digits, not two cuts of one: clearly
        different bitmaps, or not one shape and nearest to different templates. Nazli's
        ۲ and ۳ are 0.80-0.92 alike; Tesseract read the ۳ as ۲ across a receipt, its
        votes moved the ۳ to ۲, and every ۳ of the amount and id came out ۲."""
        sim = float(self.vectors[i] @ self.vectors[j])
        return sim < self.DISTINCT or (sim < self.SAME and self.firsts[i] != self.firsts[j])

    def ruled_out(self, mask: np.ndarray, band_h: float) -> str:
        """The labels a glyph `band_h` tall cannot have, once `resolve` ran: those of
        other shapes of its height that the templates are sure of (`_sure`). Tesseract
        read Homa's ۲ as ۷ in ids, where the page's ۷ is another shape, far nearer the
        ۷ templates than any other."""
        vec = self.templates.vector(mask)
        shape = self._shape_of(vec, band_h, self.templates.classify_vector(vec)[0])
        return self.ruled[shape] if shape is not None and shape < len(self.ruled) else ""

    def _another_cut(self, i: int, label: str) -> bool:
        """Whether shape `i`, alike a shape sure of `label`, may be another cut of that
        digit: nearest its templates too, and read as it by Tesseract more than as any
        other label. Nazli's ۳ is as alike its ۲ but nearer the ۳ templates; one read
        of it as ۲ by Tesseract (which takes Nazli's ۳ for ۲) had made it a ۲."""
        votes = self.votes[i]
        return self.firsts[i] == label and votes.get(label, 0.0) > 0 \
            and votes[label] == max(votes.values())

    def _sure(self, i: int) -> bool:
        """Whether shape `i` has its templates' label, far ahead of the next one."""
        ranked = sorted(self.scores[i].values(), reverse=True)
        return self.labels[i] == self.firsts[i] and (
            len(ranked) < 2 or ranked[0] - ranked[1] >= self.SURE_MARGIN)

    def classify(self, mask: np.ndarray, band_h: float) -> tuple[str, float]:
        """(label, confidence) of a glyph `band_h` tall: its shape's label, the templates'
        unless `resolve` moved it (confidence then at most MOVED_CONF), raised to
        SUPPORTED_CONF where Tesseract's reads of the shape back that label, moved or not
        (Homa's ۲, moved from ۷ by reads of it as ۲ across the page, lost an id to one
        read as ۳ at MOVED_CONF)."""
        vec = self.templates.vector(mask)
        label, conf = self.templates.classify_vector(vec)
        shape = self._shape_of(vec, band_h, label)
        if shape is None:
            return label, conf
        if self.labels[shape] != label:
            label, conf = self.labels[shape], min(conf, self.MOVED_CONF)
        votes = self.votes[shape]
        against = max((v for lab, v in votes.items() if lab != label), default=0.0)
        if votes.get(label, 0.0) - against >= self.SUPPORT_VOTES:
            conf = max(conf, self.SUPPORTED_CONF)
        return label, conf

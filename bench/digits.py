"""Digit glyph benchmark: the templates' classifier alone, on fonts it has not seen.

Renders numbers (4-8 digits) in every installed template font at the sizes proof text
comes in, degrades them like a re-posted screenshot (half downscaled to 70%, JPEG
quality 60-90), cuts them into glyphs the way the OCR does (`glyph_components`) and
classifies each glyph with templates built without that font's family
(leave-one-family-out). Prints per script and per font the share of glyphs and of
whole numbers right, the glyph confusions, and how long the templates take to build.
Only glyphs that segment into as many components as digits are scored (the rest are
counted apart): this measures the classifier, not the cutting.

    .venv/bin/python bench/digits.py                       # 40 numbers a font
    .venv/bin/python bench/digits.py --per-font 20 --seed 2 --scripts persian

With `--baseline`, each script is first run with the templates as they were before
2026-12-03 (clean renders of the Debian fonts only: no degraded renders, no fetched web
fonts), in the same process, on the same numbers.

With `--warm-up`, it measures instead what a new worker process pays before its first
page (`ocr.warm_up`: Tesseract models and every template set), in fresh processes: with
an empty template cache (`proofcheck.text.templatecache`), then with the cache it left.

Prints figures; asserts nothing. `bench/signals.py` measures the whole reading.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from signals import font_family

from proofcheck.text import glyphs, webfonts
from proofcheck.text.glyphs import (
    ARABIC_DIGITS,
    LATIN_TEMPLATE_FONTS,
    PERSIAN_DIGITS,
    TEMPLATE_FONTS,
    degraded_print,
    drawable,
    font_path,
    glyph_components,
    set_template_exclusions,
)

SCRIPTS = {
    "persian": (PERSIAN_DIGITS, TEMPLATE_FONTS, False),
    "arabic": (ARABIC_DIGITS, TEMPLATE_FONTS, False),
    "latin": ("0123456789", LATIN_TEMPLATE_FONTS, True),
}


@contextlib.contextmanager
def baseline_templates() -> Iterator[None]:
    """The templates before 2026-12-03: no degraded renders, no fetched web fonts."""
    saved = glyphs._DEGRADED_RENDERS, glyphs.TEMPLATE_FONTS
    web = set(webfonts.template_names())
    glyphs._DEGRADED_RENDERS = ()
    glyphs.TEMPLATE_FONTS = tuple(f for f in glyphs.TEMPLATE_FONTS if f not in web)
    glyphs._templates.clear()
    try:
        yield
    finally:
        glyphs._DEGRADED_RENDERS, glyphs.TEMPLATE_FONTS = saved
        glyphs._templates.clear()


def run_script(name: str, per_font: int, seed: int, only: tuple[str, ...], title: str) -> None:
    digits, fonts, latin = SCRIPTS[name]
    alphabet = digits if latin else digits[1:]  # the Persian zero is told by size, not shape
    rng = random.Random(seed)
    glyphs_right = glyphs_total = numbers_right = numbers_total = unsegmented = 0
    confusions: Counter[tuple[str, str]] = Counter()
    build_times: list[float] = []
    rows: list[str] = []
    for rel in fonts:
        path = font_path(rel)
        if only and not any(x in rel for x in only):
            continue
        if path is None or drawable(path, alphabet) != alphabet:
            continue
        set_template_exclusions((font_family(rel),))
        t0 = time.process_time()
        templates = glyphs.digit_templates(latin)
        built = time.process_time() - t0
        if built > 0.01:  # not a family whose templates an earlier cut already built
            build_times.append(built)
        f_right = f_total = f_numbers = f_count = 0
        for _ in range(per_font):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 8)))
            font = ImageFont.truetype(str(path), rng.choice((38, 42, 46)))
            factor = 0.7 if rng.random() < 0.5 else 1.0
            comps = glyph_components(degraded_print(font, text, factor, rng.randint(60, 90)))
            if len(comps) != len(text):
                unsegmented += 1
                continue
            labels = [templates.classify(c.mask)[0] for c in comps]
            truth = [str(alphabet.index(ch) + (0 if latin else 1)) for ch in text]
            right = sum(a == b for a, b in zip(labels, truth, strict=True))
            confusions.update((t, lab) for t, lab in zip(truth, labels, strict=True) if t != lab)
            f_right += right
            f_total += len(truth)
            f_numbers += right == len(truth)
            f_count += 1
        glyphs_right += f_right
        glyphs_total += f_total
        numbers_right += f_numbers
        numbers_total += f_count
        if f_count:
            rows.append(f"| {rel} | {f_right / f_total:.3f} | {f_numbers / f_count:.3f} "
                        f"| {f_count} |")
    set_template_exclusions(())
    print(f"\n## {name} digits, leave-one-family-out, seed {seed}: {title}")
    print("| font | glyphs right | numbers right | numbers |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"| **all** | **{glyphs_right / max(1, glyphs_total):.3f}** | "
          f"**{numbers_right / max(1, numbers_total):.3f}** | {numbers_total} |")
    print(f"numbers not cut into one component a digit (not scored): {unsegmented}")
    print("commonest confusions (truth -> read): "
          + ", ".join(f"{t}->{r} x{n}" for (t, r), n in confusions.most_common(8)))
    if build_times:
        print(f"templates built in {np.median(build_times):.2f} s CPU "
              f"(median of {len(build_times)} builds)")


_WARM_UP = """
import sys, time
from pathlib import Path
from proofcheck.text import ocr, templatecache
templatecache.cache_dir = lambda: Path(sys.argv[1])
start = time.process_time()
ocr.warm_up()
print(time.process_time() - start)
"""


def warm_up_times(rounds: int) -> None:
    """CPU seconds of `ocr.warm_up` in fresh processes, without and with the cache."""
    import subprocess
    import tempfile

    def one(folder: str) -> float:
        out = subprocess.run([sys.executable, "-c", _WARM_UP, folder], check=True,
                             capture_output=True, text=True, cwd=Path(__file__).parents[1])
        return float(out.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as folder:
        cold = [one(tempfile.mkdtemp(dir=folder)) for _ in range(rounds)]
        warm = [one(folder + "/warm") for _ in range(rounds + 1)][1:]  # the first fills it
    print(f"warm_up CPU per new process, median of {rounds}: empty cache "
          f"{np.median(cold):.2f} s, filled cache {np.median(warm):.2f} s "
          f"(ratio {np.median(warm) / np.median(cold):.3f})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-font", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scripts", default=",".join(SCRIPTS))
    ap.add_argument("--fonts", default="", help="only fonts whose path contains one of these")
    ap.add_argument("--baseline", action="store_true",
                    help="run the templates before 2026-12-03 first, for comparison")
    ap.add_argument("--warm-up", action="store_true",
                    help="measure a new process's warm-up with and without the template cache")
    args = ap.parse_args(argv)
    if args.warm_up:
        warm_up_times(3)
        return
    only = tuple(filter(None, args.fonts.split(",")))
    for name in args.scripts.split(","):
        if args.baseline:
            with baseline_templates():
                run_script(name, args.per_font, args.seed, only, "baseline templates")
        run_script(name, args.per_font, args.seed, only, "templates as built")


if __name__ == "__main__":
    main()

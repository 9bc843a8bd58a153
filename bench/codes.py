"""Id-reading benchmark: transaction codes alone, where "0" and "O" are hardest.

Renders pages of "Ref: CODE" lines (8-12 characters of A-Z and digits, every code with
an "0" or an "O", half of them with no digit but 0 and 1) in nine Latin fonts, four of
them not among bench/signals.py's, degrades each page as bench/signals.py does (JPEG
q60-90, half downscaled to 70%), reads it with `read_text` (digit templates without the
font being read) and prints the share of codes read exactly and of their "0" and "O"
characters read right. Prints figures; asserts nothing.

    .venv/bin/python bench/codes.py --pages 60 --seed 1 [--show-failures]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import argparse
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from signals import FONT_DIR, degrade, font_family

from proofcheck.text.glyphs import set_template_exclusions
from proofcheck.text.ocr import read_text, warm_up

FONTS = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "noto/NotoSans-Regular.ttf",
         "noto/NotoSans-Bold.ttf", "noto/NotoSerif-Regular.ttf", "dejavu/DejaVuSerif.ttf",
         "noto/NotoSansDisplay-Regular.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf",
         "noto/NotoSerif-Bold.ttf")
LETTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ"


def make_code(rng: random.Random) -> str | None:
    digits = "01" if rng.random() < 0.5 else "0123456789"
    chars = [rng.choice(LETTERS + digits) for _ in range(rng.randint(8, 12))]
    chars[rng.randrange(len(chars))] = rng.choice("O0")
    if not any(c.isdigit() for c in chars):
        chars[rng.randrange(len(chars))] = "0"
    return "".join(chars) if sum(c.isalpha() for c in chars) >= 2 else None


def closest(code: str, words: list[str]) -> str | None:
    """The word read for `code`: as long, and at most three characters off."""
    return next((w for w in words if len(w) == len(code)
                 and sum(a == b for a, b in zip(w, code, strict=True)) >= len(code) - 3), None)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=60, help="pages of four codes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    warm_up()
    exact = total = zero_o_right = zero_o_total = 0
    for _ in range(args.pages):
        font_rel = rng.choice(FONTS)
        codes = [c for c in (make_code(rng) for _ in range(4)) if c]
        face = ImageFont.truetype(str(FONT_DIR / font_rel), rng.choice((38, 42, 46)))
        page = Image.new("RGB", (1080, 900), "white")
        draw = ImageDraw.Draw(page)
        for i, code in enumerate(codes):
            draw.text((80, 100 + 180 * i), f"Ref: {code}", font=face, fill=(20, 20, 20))
        img, note = degrade(rng, page)
        set_template_exclusions((font_family(font_rel),))
        words = [w.text.rstrip(".,:;") for w in read_text(img).words]
        for code in codes:
            got = closest(code, words)
            total += 1
            exact += got == code
            if got is not None:
                pairs = [(a, b) for a, b in zip(code, got, strict=True) if a in "O0"]
                zero_o_total += len(pairs)
                zero_o_right += sum(a == b for a, b in pairs)
            if args.show_failures and got != code:
                print(f"  {code} read {got}  [{Path(font_rel).stem} {note}]")
    print(f"Id benchmark, seed {args.seed}: {total} codes on {args.pages} pages; "
          f"read exactly {exact}/{total} = {exact / total:.3f}; "
          f"their 0 and O characters right {zero_o_right}/{zero_o_total} = "
          f"{zero_o_right / max(1, zero_o_total):.3f}")


if __name__ == "__main__":
    main()

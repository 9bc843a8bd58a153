"""Build the near-duplicate benchmark's image set under bench/data/ (git-ignored).

Two sources:
- real images nobody on the team made: scikit-image's sample images and the Debian
  wallpaper and documentation-screenshot packages (install them first, as root:
  `apt-get update && apt-get install -y ukui-wallpapers mate-backgrounds
  lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 gimp-help-en`);
- rendered phone screenshots: messenger chats in three app styles and bank transfer
  receipts of three banks, many per style, so that every screenshot has same-style
  neighbours with different content (the hard negatives).

The renderers are importable (`render_chat`, `render_receipt`, `repaint_amount`) so
the benchmark can make edited copies. Usage:
    .venv/bin/python bench/build_dataset.py [--real 200] [--chats 30] [--receipts 30]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DATA = Path(__file__).resolve().parent / "data"
REAL_DIRS = [
    Path("/usr/share/backgrounds"),
    Path("/usr/share/wallpapers"),
    Path("/usr/share/gimp/2.0/help/en/images"),
    Path("/usr/share/gimp/help/en/images"),
    Path("/usr/share/doc/gimp-help/html/images"),
]
W, H = 1080, 2340
WORDS = [
    "hi", "hello", "thanks", "sent", "received", "payment", "order", "parcel", "today",
    "tomorrow", "price", "size", "color", "delivery", "address", "please", "ok", "great",
    "perfect", "when", "where", "tracking", "number", "box", "quality", "original",
    "discount", "money", "transfer", "card", "bank", "confirm", "waiting", "shipped",
    "arrived", "love", "it", "dear", "friend", "seller", "customer", "product", "cream",
    "bag", "shoes", "dress", "watch", "phone", "recommend",
]
APP_STYLES = {
    "greenapp": {"bar": (7, 94, 84), "bg": (236, 229, 221), "out": (220, 248, 198),
                 "in": (255, 255, 255), "text": (20, 20, 20)},
    "blueapp": {"bar": (82, 136, 193), "bg": (200, 214, 228), "out": (239, 253, 222),
                "in": (255, 255, 255), "text": (0, 0, 0)},
    "darkapp": {"bar": (32, 32, 36), "bg": (16, 16, 18), "out": (55, 105, 230),
                "in": (48, 48, 52), "text": (240, 240, 240)},
}
BANKS = {
    "northbank": ((18, 72, 140), "North Bank"),
    "citrus": ((240, 130, 20), "Citrus Pay"),
    "emerald": ((20, 140, 90), "Emerald Savings"),
}


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _status_bar(draw: ImageDraw.ImageDraw, rng: random.Random, fg: tuple[int, int, int],
                bg: tuple[int, int, int]) -> None:
    draw.rectangle((0, 0, W, 90), fill=bg)
    draw.text((50, 22), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}", fill=fg,
              font=font(44))
    for i in range(3):
        draw.rectangle((860 + 28 * i, 60 - 12 * i, 878 + 28 * i, 66), fill=fg)
    draw.rectangle((960, 30, 1030, 64), outline=fg, width=4)
    draw.rectangle((966, 36, 966 + rng.randint(10, 58), 58), fill=fg)


def _nav_bar(draw: ImageDraw.ImageDraw, fg: tuple[int, int, int],
             bg: tuple[int, int, int]) -> None:
    draw.rectangle((0, H - 110, W, H), fill=bg)
    draw.rectangle((390, H - 62, 690, H - 50), fill=fg)


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def _wrap(text: str, width_chars: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width_chars and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


def render_chat(seed: int, style: str) -> Image.Image:
    """A messenger chat screenshot; same `style` with another seed is a hard negative."""
    rng = random.Random(seed)
    st = APP_STYLES[style]
    img = Image.new("RGB", (W, H), st["bg"])
    draw = ImageDraw.Draw(img)
    white = (255, 255, 255)
    _status_bar(draw, rng, white, st["bar"])
    draw.rectangle((0, 90, W, 260), fill=st["bar"])
    draw.ellipse((110, 115, 230, 235), fill=tuple(rng.randint(60, 220) for _ in range(3)))
    draw.text((260, 125), f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
              fill=white, font=font(52))
    draw.text((260, 190), "online", fill=white, font=font(34))
    draw.text((40, 145), "<", fill=white, font=font(60))
    y = 300
    f = font(42)
    while y < H - 420:
        outgoing = rng.random() < 0.5
        lines = _wrap(_sentence(rng, 2, 22), 30)
        bw = max(int(draw.textlength(line, font=f)) for line in lines) + 150
        bh = 56 * len(lines) + 60
        x0 = W - 40 - bw if outgoing else 40
        draw.rounded_rectangle((x0, y, x0 + bw, y + bh), radius=28,
                               fill=st["out"] if outgoing else st["in"])
        for i, line in enumerate(lines):
            draw.text((x0 + 30, y + 20 + 56 * i), line, fill=st["text"], font=f)
        draw.text((x0 + bw - 110, y + bh - 40), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}",
                  fill=(120, 120, 120), font=font(28))
        y += bh + rng.randint(20, 60)
    draw.rectangle((0, H - 260, W, H - 110), fill=st["bg"])
    draw.rounded_rectangle((30, H - 240, W - 170, H - 130), radius=55, fill=st["in"])
    draw.text((90, H - 212), "Message", fill=(140, 140, 140), font=font(44))
    draw.ellipse((W - 150, H - 245, W - 30, H - 125), fill=st["bar"])
    _nav_bar(draw, (200, 200, 200), (0, 0, 0))
    return img


def _amount(rng: random.Random) -> str:
    return f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}"


AMOUNT_BOX = (80, 700, 1000, 860)  # where render_receipt writes the amount


def render_receipt(seed: int, bank: str) -> Image.Image:
    """A bank transfer receipt; same `bank` with another seed is a hard negative."""
    rng = random.Random(seed)
    color, name = BANKS[bank]
    img = Image.new("RGB", (W, H), (246, 247, 250))
    draw = ImageDraw.Draw(img)
    _status_bar(draw, rng, (0, 0, 0), (246, 247, 250))
    draw.rectangle((0, 90, W, 330), fill=color)
    draw.ellipse((60, 140, 200, 280), fill=(255, 255, 255))
    draw.text((90, 175), name[0], fill=color, font=font(70))
    draw.text((240, 170), name, fill=(255, 255, 255), font=font(64))
    draw.ellipse((440, 400, 640, 600), fill=(40, 180, 90))
    draw.line((490, 500, 530, 545, 600, 455), fill=(255, 255, 255), width=18)
    draw.text((300, 620), "Transfer successful", fill=(30, 30, 30), font=font(54))
    draw_amount(draw, _amount(rng))
    fields = [
        ("From", f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"),
        ("To", f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"),
        ("Card", f"**** **** **** {rng.randint(1000, 9999)}"),
        ("Date", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                 f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"),
        ("Reference", f"{rng.randint(10**9, 10**10 - 1)}"),
        ("Tracking", f"TX{rng.randint(10**7, 10**8 - 1)}"),
        ("Fee", f"{rng.randint(0, 9)}.{rng.randint(0, 99):02d}"),
    ]
    draw.rounded_rectangle((50, 920, W - 50, 1900), radius=30, fill=(255, 255, 255))
    for i, (label, value) in enumerate(fields):
        y = 970 + 130 * i
        draw.text((100, y), label, fill=(120, 120, 130), font=font(40))
        draw.text((W - 100 - draw.textlength(value, font=font(44)), y), value,
                  fill=(20, 20, 30), font=font(44))
        if i < len(fields) - 1:
            draw.line((100, y + 90, W - 100, y + 90), fill=(230, 230, 235), width=3)
    draw.rounded_rectangle((120, 2000, W - 120, 2130), radius=60, fill=color)
    draw.text((390, 2035), "Share receipt", fill=(255, 255, 255), font=font(48))
    _nav_bar(draw, (60, 60, 60), (246, 247, 250))
    return img


def draw_amount(draw: ImageDraw.ImageDraw, amount: str) -> None:
    x0, y0, x1, _y1 = AMOUNT_BOX
    draw.rectangle(AMOUNT_BOX, fill=(246, 247, 250))
    text = f"{amount} USD"
    f = font(96)
    draw.text(((x0 + x1 - draw.textlength(text, font=f)) / 2, y0 + 20), text,
              fill=(10, 10, 20), font=f)


def repaint_amount(img: Image.Image, seed: int) -> Image.Image:
    """The receipt with its amount repainted: the classic edited proof."""
    out = img.copy()
    draw_amount(ImageDraw.Draw(out), _amount(random.Random(seed + 7919)))
    return out


def paste_into_phone(img: Image.Image, rng: random.Random) -> Image.Image:
    """A re-screenshot: the picture pasted as large as fits into another phone's
    screen (90-100% of that), letterboxed in black or white, under a new status bar and
    over a home bar, at 720 x 1560."""
    pw, ph = 1080, 2340
    scale = min(pw / img.width, (ph - 300) / img.height) * rng.uniform(0.9, 1.0)
    inner = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                       Image.Resampling.BILINEAR)
    bg = rng.choice([(0, 0, 0), (255, 255, 255)])
    out = Image.new("RGB", (pw, ph), bg)
    out.paste(inner, ((pw - inner.width) // 2, (ph - inner.height) // 2))
    draw = ImageDraw.Draw(out)
    fg = (255 - bg[0],) * 3
    draw.rectangle((0, 0, pw, 80), fill=bg)
    draw.text((40, 18), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}", fill=fg, font=font(40))
    draw.rectangle((950, 25, 1030, 58), outline=fg, width=4)
    draw.rectangle((0, ph - 100, pw, ph), fill=bg)
    draw.rectangle((400, ph - 55, 680, ph - 45), fill=fg)
    return out.resize((720, 1560), Image.Resampling.BILINEAR)


def real_image_paths() -> Iterator[Path]:
    seen: set[str] = set()
    for root in REAL_DIRS:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"} and path.is_file():
                key = path.name.lower()
                if key not in seen:
                    seen.add(key)
                    yield path


def skimage_images() -> Iterator[tuple[str, np.ndarray]]:
    from skimage import data

    for name in ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon",
                 "page", "text", "horse", "hubble_deep_field", "immunohistochemistry",
                 "retina", "motorcycle_left", "colorwheel", "grass", "gravel", "brick",
                 "logo", "clock", "checkerboard", "cell", "microaneurysms", "shepp_logan_phantom"):
        try:
            arr = getattr(data, name)()
        except Exception:
            continue
        if isinstance(arr, tuple):
            arr = arr[0]
        yield name, np.asarray(arr)


class _Dedup:
    """Refuses a picture already taken: the packages ship some wallpapers twice, at
    other sizes, which would count as false matches between 'different' originals."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def fresh(self, img: Image.Image) -> bool:
        import imagehash

        h = int(str(imagehash.phash(img.convert("RGB"))), 16)
        if any((h ^ other).bit_count() <= 8 for other in self.seen):
            return False
        self.seen.append(h)
        return True


def _blank(img: Image.Image) -> bool:
    return float(np.asarray(img.convert("L"), dtype=np.float32).std()) < 1.0


def _flattened(img: Image.Image) -> Image.Image:
    """The picture in RGB. Some wallpapers (MATE's Silk, Spring and Waves) are white
    paint whose whole picture is its alpha channel, meant to be drawn over the desktop's
    colour: dropping the alpha, as a plain conversion does, left blank white pages
    (Silk was one of the originals until 2026-12-05). Those are drawn over black."""
    rgb = img.convert("RGB")
    if "A" in img.getbands() or "transparency" in img.info:
        rgba = img.convert("RGBA")
        if _blank(rgb) and not _blank(rgba.getchannel("A")):
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            rgb = Image.alpha_composite(black, rgba).convert("RGB")
    return rgb


def _save(img: Image.Image, path: Path) -> None:
    img = img.convert("RGB")
    if max(img.size) > 1600:
        img.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    img.save(path, quality=95) if path.suffix == ".jpg" else img.save(path)


def build(real: int, chats: int, receipts: int) -> None:
    out = DATA / "originals"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    n = 0
    dedup = _Dedup()
    for name, arr in skimage_images():
        if arr.ndim == 2 or arr.ndim == 3:
            if arr.dtype != np.uint8:
                arr = arr.astype(np.float64)
                arr = (255 * (arr - arr.min()) / max(1e-9, float(arr.max() - arr.min())))
                arr = arr.astype(np.uint8)
            if min(arr.shape[:2]) >= 64 and dedup.fresh(Image.fromarray(arr)):
                _save(Image.fromarray(arr), out / f"real_skimage_{name}.png")
                n += 1
    for path in real_image_paths():
        if n >= real:
            break
        try:
            with Image.open(path) as im:
                # A blank page is nobody's proof, and a copy of every other one.
                if min(im.size) < 200 or _blank(picture := _flattened(im)) or (
                        not dedup.fresh(picture)):
                    continue
                _save(picture, out / f"real_{n:04d}_{path.stem[:40]}.jpg")
                n += 1
        except OSError:
            continue
    styles = list(APP_STYLES)
    for i in range(chats):
        style = styles[i % len(styles)]
        _save(render_chat(1000 + i, style), out / f"chat_{style}_{i:03d}.png")
    banks = list(BANKS)
    for i in range(receipts):
        bank = banks[i % len(banks)]
        _save(render_receipt(2000 + i, bank), out / f"receipt_{bank}_{i:03d}.png")
    print(f"{n} real images, {chats} chats, {receipts} receipts in {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--real", type=int, default=200, help="max real images")
    ap.add_argument("--chats", type=int, default=30)
    ap.add_argument("--receipts", type=int, default=30)
    args = ap.parse_args()
    build(args.real, args.chats, args.receipts)


if __name__ == "__main__":
    main()

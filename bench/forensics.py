"""Quality and speed of the forensic signals on generated cases; prints figures.

    .venv/bin/python bench/forensics.py [--n 5]

Every case is made here (proofcheck.forensics.synth), so the figures measure the
methods on clean synthetic data: an upper bound for real uploads, and a regression
check for the thresholds written in the modules.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from proofcheck.forensics import ela, exif, jpeg, run_all, screenshot, synth
from proofcheck.imaging import decode

MAX_PIXELS = 50_000_000


def _resave(data: bytes, quality: int) -> bytes:
    return synth.jpeg_bytes(Image.open(io.BytesIO(data)).convert("RGB"), quality)


def double_compression(n: int) -> None:
    print("\n## JPEG double compression (photos 640x480 .. 1600x1200)")
    sizes = [(640, 480), (768, 576), (1024, 768), (1600, 1200)]
    for qs in [(60,), (70,), (80,), (90,), (95,), (90, 70), (70, 90), (60, 85), (85, 75),
               (95, 75), (80, 80)]:
        hits, scores, prim = 0, [], []
        for si, (w, h) in enumerate(sizes):
            for seed in range(n):
                data = synth.jpeg_bytes(synth.photo(w, h, 5000 + 37 * seed + si), qs[0])
                if len(qs) > 1:
                    data = _resave(data, qs[1])
                dq = jpeg.analyse(data, decode(data, MAX_PIXELS))["double_compression"]
                hits += bool(dq.get("detected"))
                scores.append(dq.get("score", 0.0))
                if dq.get("primary_quality"):
                    prim.append(dq["primary_quality"])
        label = f"single q{qs[0]}" if len(qs) == 1 else f"q{qs[0]} -> q{qs[1]}"
        print(f"{label:14s} detected {hits:3d}/{len(scores)}  "
              f"score {min(scores):.2f}..{max(scores):.2f}  "
              f"primary quality {sorted(set(prim)) or '-'}")


def thumbnails(n: int) -> None:
    print("\n## EXIF thumbnail vs main image")
    sizes = [(1600, 1200), (1200, 1600), (1920, 1080), (1280, 960)]
    results: dict[str, list[dict]] = {"untouched": [], "edited 2%": [], "cropped 20%": []}
    for seed in range(n * 4):
        w, h = sizes[seed % 4]
        img = synth.photo(w, h, seed)
        spec = synth.ExifSpec(make="samsung", model="SM-G991B", pixel_size=(w, h),
                              thumbnail=synth.thumbnail_jpeg(img))
        ex = synth.exif_bytes(spec)
        edited = img.copy()
        d = ImageDraw.Draw(edited)
        x0, y0 = (seed * 97) % (w - w // 5), (seed * 53) % (h - h // 10)
        d.rectangle((x0, y0, x0 + w // 5, y0 + h // 10), fill=(250, 250, 250))
        d.text((x0 + 10, y0 + 5), "999,000", fill=(0, 0, 0), font=synth.font(h // 20))
        for key, im in (("untouched", img), ("edited 2%", edited),
                        ("cropped 20%", img.crop((0, 0, int(w * 0.8), h)))):
            data = synth.jpeg_bytes(im, 92, exif=ex)
            results[key].append(exif.analyse(data, decode(data, MAX_PIXELS), None)["thumbnail"])
    for key, rows in results.items():
        ok = sum(1 for r in rows if r.get("matches"))
        blocks = [r["max_block_diff"] for r in rows if "max_block_diff" in r]
        span = f"worst block {min(blocks):.1f}..{max(blocks):.1f}" if blocks else "shape differs"
        print(f"{key:12s} matches {ok:3d}/{len(rows)}  {span}")


def ela_ghosts(n: int) -> None:
    print("\n## ELA ghosts: receipt amount retyped after the bank app's save")

    def inside(o: dict, box: tuple[int, int, int, int]) -> bool:
        x, y, w, h = o["box"]
        cx, cy = x + w / 2, y + h / 2
        return box[0] - 10 <= cx <= box[2] + 10 and box[1] - 10 <= cy <= box[3] + 10

    for first, final in ((75, "png"), (85, "png"), (70, 90), (80, 95), (75, 75), (None, "png")):
        found = wrong = false_flags = 0
        for seed in range(n * 2):
            rc = synth.receipt(seed + 100)
            base = rc.image
            if first:
                base = Image.open(io.BytesIO(synth.jpeg_bytes(base, first))).convert("RGB")
            edited = synth.edit_text(base, rc.amount_box, "9,250,000 IRR", 56)

            def enc(im: Image.Image, final: object = final) -> bytes:
                return synth.png_bytes(im) if final == "png" else synth.jpeg_bytes(im, int(final))

            e, c = enc(edited), enc(base)
            res = ela.analyse(e, decode(e, MAX_PIXELS), None)
            hits = [o for o in res.get("outliers", []) if inside(o, rc.amount_box)]
            found += bool(hits)
            wrong += len(res.get("outliers", [])) - len(hits)
            false_flags += bool(ela.analyse(c, decode(c, MAX_PIXELS), None)["flags"])
        label = f"q{first} -> {final}" if first else f"never JPEG -> {final}"
        print(f"{label:16s} edit found {found:2d}/{n * 2}  wrong boxes {wrong}  "
              f"untouched flagged {false_flags}/{n * 2}")


def _hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def ela_chats(n: int) -> None:
    print("\n## ELA ghosts on chat screenshots (platform JPEG q80, then PNG)")
    flagged = found = wrong = 0
    for seed in range(n * 3):
        shot = synth.phone_screenshot(720, 1600, seed=200 + seed, dark=seed % 3 == 0)
        once = Image.open(io.BytesIO(synth.jpeg_bytes(shot, 80))).convert("RGB")
        data = synth.png_bytes(once)
        flagged += bool(ela.analyse(data, decode(data, MAX_PIXELS), None)["flags"])
        gray = np.asarray(once.convert("L"), dtype=np.float32)
        boxes = [b for b in ela.find_text_boxes(ela._gradient(gray)) if b[1] > 200 and b[3] < 1400]
        x0, y0, x1, y1 = boxes[len(boxes) // 2]
        edited = once.copy()
        d = ImageDraw.Draw(edited)
        d.rectangle((x0, y0, x1, y1), fill=edited.getpixel((x0 - 3, y0 - 3)))
        ink = (235, 235, 235) if seed % 3 == 0 else (30, 30, 30)
        d.text((x0 + 2, y0), "paid 500$", fill=ink, font=synth.font(y1 - y0))
        data = synth.png_bytes(edited)
        res = ela.analyse(data, decode(data, MAX_PIXELS), None)
        hits = [o for o in res.get("outliers", []) if abs(o["box"][1] - y0) < 15]
        found += bool(hits)
        wrong += len(res.get("outliers", [])) - len(hits)
    print(f"untouched flagged {flagged}/{n * 3}; retyped bubble found {found}/{n * 3}, "
          f"wrong boxes {wrong}")


def screenshots(n: int) -> None:
    print("\n## Screenshot anatomy")
    found = nav_ok = total = 0
    worst64 = worst256 = 0
    for size in ((1080, 2340), (1170, 2532), (720, 1600), (1440, 3200)):
        for dark in (False, True):
            for nav in ("gesture", "buttons", None):
                for seed in range(max(1, n // 2)):
                    img = synth.phone_screenshot(*size, seed=seed, dark=dark, nav=nav)
                    data = synth.png_bytes(img)
                    r = screenshot.analyse(data, decode(data, MAX_PIXELS), None)
                    total += 1
                    found += r["status_bar"]["present"]
                    nav_ok += r["navigation_bar"] == nav
                    copy = synth.jpeg_bytes(img, 75)
                    r2 = screenshot.analyse(copy, decode(copy, MAX_PIXELS), None)
                    a, b = r["status_bar"], r2["status_bar"]
                    if a.get("dhash") and b.get("dhash"):
                        worst64 = max(worst64, _hamming(a["dhash"], b["dhash"]))
                        worst256 = max(worst256, _hamming(a["dhash256"], b["dhash256"]))
    print(f"status bar found {found}/{total}, navigation bar right {nav_ok}/{total}; "
          f"after a JPEG q75 copy the hashes moved by at most {worst64}/64 and "
          f"{worst256}/256 bits")
    false_bar = 0
    others = [synth.photo(1080, 2340, s) for s in range(n)]
    others += [synth.receipt(s).image for s in range(n)]
    for img in others:
        data = synth.jpeg_bytes(img, 85)
        bar = screenshot.analyse(data, decode(data, MAX_PIXELS), None)["status_bar"]
        false_bar += bar["present"]
    print(f"status bar claimed on photos/receipts: {false_bar}/{len(others)}")


def speed() -> None:
    print("\n## Time per image (run_all, median of 3; heat-map separately)")
    cases: dict[str, Callable[[], bytes]] = {
        "screenshot PNG 1080x2340": lambda: synth.png_bytes(synth.phone_screenshot(seed=1)),
        "screenshot JPEG 1080x2340": lambda: synth.jpeg_bytes(synth.phone_screenshot(seed=1), 85),
        "receipt PNG 720x1100": lambda: synth.png_bytes(synth.receipt(1).image),
        "photo JPEG 4032x3024": lambda: synth.jpeg_bytes(synth.photo(4032, 3024, 1), 92),
    }
    for name, make in cases.items():
        data = make()
        decoded = decode(data, MAX_PIXELS)
        runs = [run_all(data, decoded, None) for _ in range(3)]
        per = {k: statistics.median(r[k]["took_ms"] for r in runs) for k in runs[0]}
        start = time.perf_counter()
        ela.heatmap_png(data, decoded)
        heat = (time.perf_counter() - start) * 1000
        parts = ", ".join(f"{k} {v:.0f}" for k, v in per.items())
        print(f"{name:26s} total {sum(per.values()):5.0f} ms ({parts}); heat-map {heat:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5, help="seeds per case")
    args = parser.parse_args()
    double_compression(args.n)
    thumbnails(args.n)
    ela_ghosts(args.n)
    ela_chats(args.n)
    screenshots(args.n)
    speed()


if __name__ == "__main__":
    main()

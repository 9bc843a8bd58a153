"""Text-signal benchmark: field extraction accuracy and OCR time on rendered proof.

Renders receipts and chat screenshots (1080x2340, phone-like: status bar, cards,
bubbles, light and dark themes) in Persian, Arabic, Swahili, Polish and English with
known amounts, dates and transaction ids, degrades them like a re-posted screenshot
(JPEG quality 60-90, half of them downscaled to 70%), runs `read_text` +
`extract_fields` and prints per language the exact-match rate of the primary amount
(value and currency), date and transaction id, plus OCR time per image.

    .venv/bin/python bench/signals.py              # 50 images per language
    .venv/bin/python bench/signals.py --per-lang 10 --seed 3 --show-failures

Digit templates are built without the font family being read (held-out fonts), so the
figures estimate accuracy on unseen fonts; `--in-template-fonts` shows the optimistic
case. Persian pages are read with the best Persian model where the set-up fetched it
(`proofcheck.text.tessmodels`); `PROOFCHECK_TESSDATA_BEST= .venv/bin/python
bench/signals.py` reads them with Debian's, for comparison. Prints figures; asserts
nothing. Times are CPU time of one thread (OMP_THREAD_LIMIT=1), plus wall time and the
machine's load average.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import argparse
import io
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import jdatetime
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofcheck.text import webfonts
from proofcheck.text.fields import extract_fields, primary
from proofcheck.text.glyphs import set_template_exclusions
from proofcheck.text.ocr import read_text, warm_up
from proofcheck.text.postdate import CONFIDENT_DATE

FONT_DIR = Path("/usr/share/fonts/truetype")
ARABIC_FONTS = ("farsiweb/nazli.ttf", "farsiweb/nazlib.ttf", "farsiweb/homa.ttf",
                "dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf")
# What Iranian apps print in (fetched at set-up): absolute paths, which FONT_DIR / path keeps.
WEB_FONTS = tuple(str(webfonts.font_root() / name) for name in webfonts.template_names())
LATIN_FONTS = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "noto/NotoSans-Regular.ttf",
               "noto/NotoSans-Bold.ttf", "noto/NotoSerif-Regular.ttf")
LANGS = ("fas", "ara", "swa", "pol", "eng")
W, H = 1080, 2340
LRI, PDI = "\u2066", "\u2069"  # apps isolate card numbers so they stay left to right
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
AR = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

FA_NAMES = ("علی رضایی", "مریم احمدی", "حسین محمدی", "زهرا کریمی", "رضا حسینی", "فاطمه موسوی",
            "محمد جعفری", "سارا نوری", "امیر قاسمی", "نرگس صادقی")
AR_NAMES = ("محمد العتيبي", "أحمد السيد", "فاطمة الزهراء", "خالد المنصوري", "سارة عبدالله",
            "يوسف الحربي", "نورة القحطاني", "عمر الشمري")
SW_NAMES = ("JOHN DOE", "ASHA JUMA", "PETER KAMAU", "MARY WANJIKU", "HASSAN ALLY", "GRACE MUSA",
            "JUMA BAKARI", "AMINA SALIM")
PL_NAMES = ("Jan Kowalski", "Anna Nowak", "Piotr Wiśniewski", "Katarzyna Wójcik",
            "Tomasz Lewandowski",
            "Agnieszka Zielińska")
EN_NAMES = ("John Smith", "Emily Brown", "Michael Johnson", "Sarah Davis", "David Wilson")


@dataclass
class Sample:
    lang: str
    kind: str  # "receipt" or "chat"
    image: Image.Image
    truth: dict[str, str]  # amount, currency, date, transaction_id
    lines: list[str] = field(default_factory=list)
    font: str = ""


def font_family(rel: str) -> str:
    """The substring that names a font's family among the template fonts."""
    name = rel.split("/")[-1].lower()
    for fam in ("nazli", "homa", "dejavu", "notosans-", "notoserif"):
        if fam in name:
            names = {"dejavu": "DejaVu", "notosans-": "NotoSans-", "notoserif": "NotoSerif"}
            return names.get(fam, fam)
    return re.sub(r"(-(Regular|Bold|Mono))+$", "", Path(rel).stem)  # "Sahel-Bold" -> "Sahel"


def _font(rel: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / rel), size, layout_engine=ImageFont.Layout.RAQM)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def _code(rng: random.Random, n: int, first_letter: bool = True) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    while True:
        chars = [rng.choice(alphabet) for _ in range(n)]
        if first_letter:
            chars[0] = rng.choice(alphabet[:26])
        code = "".join(chars)
        if sum(c.isdigit() for c in code) >= 2 and sum(c.isalpha() for c in code) >= 2:
            return code


def _gdate(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(2023, 2026), rng.randint(1, 12), rng.randint(1, 28)


# ---------------------------------------------------------------- content per language


def _persian(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str]]:
    unit, cur = rng.choice((("ریال", "IRR"), ("تومان", "IRT")))
    amount = rng.randint(1, 5000) * rng.choice((1000, 10000, 100))
    jy, jm, jd = rng.randint(1401, 1404), rng.randint(1, 12), rng.randint(1, 29)
    date = jdatetime.date(jy, jm, jd).togregorian().isoformat()
    tid = str(rng.randint(10**5, 10**12))
    amt = _group(amount, "٬").translate(FA)
    jdate = f"{jy}/{jm:02d}/{jd:02d}".translate(FA)
    hhmm = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}".translate(FA)
    label = rng.choice(("شماره پیگیری", "کد رهگیری", "شماره مرجع"))
    card = f"{rng.randint(5000, 6999)}-{rng.randint(10, 99)}**-****-{rng.randint(1000, 9999)}"
    card = card.translate(FA)
    payer, payee = rng.sample(FA_NAMES, 2)
    if kind == "receipt":
        lines = [rng.choice(("رسید انتقال وجه", "انتقال کارت به کارت", "تراکنش موفق")),
                 f"مبلغ: {amt} {unit}", f"تاریخ: {jdate}", f"ساعت: {hhmm}",
                 f"{label}: {tid.translate(FA)}", f"از: {payer}", f"به: {payee}",
                 f"کارت مقصد: {LRI}{card}{PDI}"]
    else:
        lines = ["سلام وقت بخیر", f"مبلغ {amt} {unit} واریز شد", f"تاریخ {jdate} ساعت {hhmm}",
                 f"{label}: {tid.translate(FA)}", "ممنون از خرید شما"]
    return lines, {"amount": str(amount), "currency": cur, "date": date, "transaction_id": tid}


def _arabic(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str]]:
    unit, cur = rng.choice((("ريال سعودي", "SAR"), ("درهم", "AED"), ("جنيه", "EGP")))
    whole = rng.randint(1, 90000)
    cents = rng.choice((0, rng.randint(1, 99)))
    indic = rng.random() < 0.5
    y, m, d = _gdate(rng)
    tid = str(rng.randint(10**6, 10**12))
    if indic:
        amt = _group(whole, "٬").translate(AR) + (f"٫{cents:02d}".translate(AR) if cents else "")
        dstr = f"{d:02d}/{m:02d}/{y}".translate(AR)
        tstr = tid.translate(AR)
    else:
        amt = _group(whole, ",") + (f".{cents:02d}" if cents else "")
        dstr = f"{d:02d}/{m:02d}/{y}"
        tstr = tid
    value = str(whole) + (f".{cents:02d}" if cents else "")
    payee = rng.choice(AR_NAMES)
    if kind == "receipt":
        lines = ["تم التحويل بنجاح", f"المبلغ: {amt} {unit}", f"التاريخ: {dstr}",
                 f"رقم العملية: {tstr}", f"إلى: {payee}", "شكرا لاستخدامكم خدماتنا"]
    else:
        lines = ["السلام عليكم", f"تم تحويل {amt} {unit}", f"بتاريخ {dstr}",
                 f"رقم العملية: {tstr}", "شكرا لك"]
    return lines, {"amount": value, "currency": cur, "date": f"{y:04d}-{m:02d}-{d:02d}",
                   "transaction_id": tid}


def _mpesa_amount(rng: random.Random) -> tuple[str, str]:
    n = rng.randint(10, 250000)
    cents = rng.choice((0, 0, rng.randint(1, 99)))
    return f"{_group(n, ',')}.{cents:02d}", f"{n}.{cents:02d}"


def _swahili(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str]]:
    cur_word, cur = rng.choice((("Ksh", "KES"), ("Tsh", "TZS")))
    shown, value = _mpesa_amount(rng)
    y, m, d = _gdate(rng)
    code = _code(rng, 10, first_letter=cur == "KES")
    name = rng.choice(SW_NAMES)
    phone = "07" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    bal, _ = _mpesa_amount(rng)
    hh, mm = rng.randint(1, 12), rng.randint(0, 59)
    text = (f"{code} Imethibitishwa. {cur_word}{shown} imetumwa kwa {name} {phone} tarehe "
            f"{d}/{m}/{y % 100} saa {hh}:{mm:02d} {rng.choice(('AM', 'PM'))}. "
            f"Salio lako la M-PESA ni {cur_word}{bal}. Gharama ya muamala ni {cur_word}0.00.")
    lines = [text] if kind == "chat" else ["M-PESA", *_split_sentences(text)]
    return lines, {"amount": value, "currency": cur, "date": f"{y:04d}-{m:02d}-{d:02d}",
                   "transaction_id": code}


def _english(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str]]:
    y, m, d = _gdate(rng)
    if kind == "chat":
        shown, value = _mpesa_amount(rng)
        code = _code(rng, 10)
        bal, _ = _mpesa_amount(rng)
        name = rng.choice(SW_NAMES)
        phone = "07" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        text = (f"{code} Confirmed. Ksh{shown} sent to {name} {phone} on {d}/{m}/{y % 100} at "
                f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(('AM', 'PM'))}. "
                f"New M-PESA balance is Ksh{bal}. Transaction cost, Ksh23.00.")
        return [text], {"amount": value, "currency": "KES", "date": f"{y:04d}-{m:02d}-{d:02d}",
                        "transaction_id": code}
    sym, cur = rng.choice((("$", "USD"), ("€", "EUR")))
    n, cents = rng.randint(1, 20000), rng.randint(0, 99)
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")[m - 1]
    code = _code(rng, rng.randint(8, 12))
    lines = ["Payment successful", f"Amount: {sym}{_group(n, ',')}.{cents:02d}",
             f"Date: {month} {d}, {y}", f"Time: {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
             f"Transaction ID: {code}", f"To: {rng.choice(EN_NAMES)}", "Thank you for your order"]
    return lines, {"amount": f"{n}.{cents:02d}", "currency": cur,
                   "date": f"{y:04d}-{m:02d}-{d:02d}", "transaction_id": code}


def _polish(rng: random.Random, kind: str) -> tuple[list[str], dict[str, str]]:
    n, cents = rng.randint(1, 50000), rng.randint(0, 99)
    shown = f"{_group(n, ' ')},{cents:02d} zł"
    y, m, d = _gdate(rng)
    code = _code(rng, rng.randint(8, 14))
    name = rng.choice(PL_NAMES)
    if kind == "receipt":
        lines = ["Potwierdzenie przelewu", f"Kwota: {shown}", f"Data: {d:02d}.{m:02d}.{y}",
                 f"Nr transakcji: {code}", f"Odbiorca: {name}", "Tytuł: zapłata za zamówienie"]
    else:
        lines = ["Dzień dobry, przelew wysłany", f"Kwota {shown}", f"dnia {d:02d}.{m:02d}.{y}",
                 f"Nr transakcji: {code}", "Pozdrawiam"]
    return lines, {"amount": f"{n}.{cents:02d}", "currency": "PLN",
                   "date": f"{y:04d}-{m:02d}-{d:02d}", "transaction_id": code}


CONTENT = {"fas": _persian, "ara": _arabic, "swa": _swahili, "pol": _polish, "eng": _english}


def _split_sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(". ") if s.strip()]


# ---------------------------------------------------------------- rendering


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, rtl: bool) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        cand = (cur + " " + w).strip()
        if font.getlength(cand, direction="rtl" if rtl else "ltr") <= width or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def render(rng: random.Random, lang: str, kind: str,
           arabic_fonts: tuple[str, ...] = ARABIC_FONTS) -> Sample:
    lines, truth = CONTENT[lang](rng, kind)
    rtl = lang in ("fas", "ara")
    dark = kind == "chat" and rng.random() < 0.4
    bg, fg = ((18, 18, 18), (235, 235, 235)) if dark else ((255, 255, 255), (20, 20, 20))
    img = Image.new("RGB", (W, H), bg)
    draw = ImageDraw.Draw(img)
    fonts = arabic_fonts if rtl else LATIN_FONTS
    font_rel = rng.choice(fonts)
    font = _font(font_rel, rng.choice((38, 42, 46)))
    small = _font("dejavu/DejaVuSans.ttf", 34)
    # Status bar: clock, network, battery, as on any phone screenshot.
    draw.text((60, 30), f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", font=small, fill=fg)
    draw.text((W - 260, 30), f"4G {rng.randint(5, 100)}%", font=small, fill=fg)
    y = 200
    if kind == "receipt":
        card_bg = (40, 40, 40) if dark else (245, 247, 250)
        draw.rectangle((40, 160, W - 40, 160 + 130 * len(lines) + 80), fill=card_bg)
        y = 220
        for ln in lines:
            for part in _wrap(ln, font, W - 200, rtl):
                _line(draw, part, font, y, rtl, fg)
                y += int(font.size * 2.3)
    else:
        bubble = (220, 248, 198) if not dark else (5, 80, 70)
        for ln in lines:
            parts = _wrap(ln, font, W - 320, rtl)
            h = int(font.size * 1.6) * len(parts) + 40
            x1, x2 = (200, W - 60) if rtl else (60, W - 200)
            draw.rounded_rectangle((x1, y, x2, y + h), radius=28, fill=bubble)
            yy = y + 20
            for part in parts:
                if rtl:
                    draw.text((x2 - 30, yy), part, font=font, fill=fg, anchor="ra", direction="rtl")
                else:
                    draw.text((x1 + 30, yy), part, font=font, fill=fg)
                yy += int(font.size * 1.6)
            y += h + 40
    return Sample(lang=lang, kind=kind, image=img, truth=truth, lines=lines, font=font_rel)


def _line(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, y: int, rtl: bool,
          fg: tuple[int, int, int]) -> None:
    if rtl:
        draw.text((W - 100, y), text, font=font, fill=fg, anchor="ra", direction="rtl")
    else:
        draw.text((100, y), text, font=font, fill=fg)


def degrade(rng: random.Random, img: Image.Image) -> tuple[Image.Image, str]:
    """What re-posting does: maybe a 70% downscale, then JPEG at quality 60-90."""
    note = ""
    if rng.random() < 0.5:
        img = img.resize((round(img.width * 0.7), round(img.height * 0.7)), Image.BILINEAR)
        note = "70% "
    q = rng.randint(60, 90)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out, f"{note}q{q}"


# ---------------------------------------------------------------- the benchmark


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-lang", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--langs", default=",".join(LANGS))
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--web-fonts", action="store_true",
                    help="print Persian and Arabic pages in the fetched Persian web fonts "
                         "(proofcheck.text.webfonts), held out like the others")
    ap.add_argument("--in-template-fonts", action="store_true",
                    help="let the digit templates include the font being read (optimistic)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    warm_up()  # load models outside the timings
    langs = [lang for lang in args.langs.split(",") if lang]
    rows = []
    all_times: list[float] = []
    all_cpu: list[float] = []
    full_cpu: list[float] = []
    # The primary date's confidence, by whether its value is right: what the rule on a
    # proof dated after its post (`proofcheck.text.postdate`) trusts a date from.
    date_confidence: dict[bool, list[float]] = {True: [], False: []}
    for lang in langs:
        hits = {"amount": 0, "date": 0, "transaction_id": 0, "language": 0}
        times: list[float] = []
        cpus: list[float] = []
        for i in range(args.per_lang):
            kind = "receipt" if i % 2 == 0 else "chat"
            sample = render(rng, lang, kind, WEB_FONTS if args.web_fonts else ARABIC_FONTS)
            img, note = degrade(rng, sample.image)
            # Held-out fonts: the digit templates never include the family being read.
            set_template_exclusions(() if args.in_template_fonts else (font_family(sample.font),))
            warm_up()
            t0, c0 = time.perf_counter(), time.process_time()
            ocr = read_text(img)
            took = time.perf_counter() - t0
            cpu = time.process_time() - c0
            fields = extract_fields(ocr)
            times.append(took)
            cpus.append(cpu)
            if not note.startswith("70%"):
                full_cpu.append(cpu)
            got = {t: primary(fields, t) for t in ("amount", "date", "transaction_id")}
            ok = {
                "amount": got["amount"] is not None
                and got["amount"].value == sample.truth["amount"]
                and got["amount"].currency == sample.truth["currency"],
                "date": got["date"] is not None and got["date"].value == sample.truth["date"],
                "transaction_id": got["transaction_id"] is not None
                and got["transaction_id"].value == sample.truth["transaction_id"],
                "language": bool(ocr.languages) and ocr.languages[0] == lang,
            }
            for k, v in ok.items():
                hits[k] += int(v)
            if got["date"] is not None:
                date_confidence[ok["date"]].append(got["date"].confidence)
            if args.show_failures and not all(ok.values()):
                failed = [k for k, v in ok.items() if not v]
                print(f"--- {lang} {kind} {note} {Path(sample.font).stem} failed: {failed}")
                print(f"    truth {sample.truth}")
                print(f"    got   { {k: (f.value, f.currency) if f and k == 'amount' else (f.value if f else None) for k, f in got.items()} }")  # noqa: E501
                print("    text  " + ocr.text.replace("\n", " | ")[:400])
        all_times.extend(times)
        all_cpu.extend(cpus)
        n = args.per_lang
        rates = (hits[k] / n for k in ("amount", "date", "transaction_id", "language"))
        rows.append((lang, n, *rates, statistics.median(cpus) * 1000, max(cpus) * 1000,
                     statistics.median(times) * 1000))
    print(f"Text signals bench: {sum(r[1] for r in rows)} rendered receipts and chats, "
          f"seed {args.seed}, JPEG q60-90, half downscaled to 70%")
    print(f"{'lang':6} {'n':>4} {'amount':>7} {'date':>6} {'id':>6} {'lang-id':>7} "
          f"{'cpu med ms':>10} {'cpu max ms':>10} {'wall med ms':>11}")
    for lang, n, a, d, t, lg, med, mx, wall in rows:
        print(f"{lang:6} {n:4d} {a:7.3f} {d:6.3f} {t:6.3f} {lg:7.3f} {med:10.0f} {mx:10.0f} "
              f"{wall:11.0f}")
    if all_times:
        full = statistics.median(full_cpu) * 1000 if full_cpu else float("nan")
        cpu_all = statistics.median(all_cpu) * 1000
        print(f"median OCR CPU time per image (one thread): all {cpu_all:.0f} ms, "
              f"full-size 1080x2340 only {full:.0f} ms; median wall time "
              f"{statistics.median(all_times) * 1000:.0f} ms "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for right, label in ((True, "right"), (False, "wrong")):
        confs = date_confidence[right]
        if confs:
            print(f"{label} dates: {len(confs)}, confidence median {statistics.median(confs):.2f}, "
                  f"min {min(confs):.2f}; at or above {CONFIDENT_DATE} (the post-date rule's "
                  f"floor): {sum(c >= CONFIDENT_DATE for c in confs)}")


if __name__ == "__main__":
    main()

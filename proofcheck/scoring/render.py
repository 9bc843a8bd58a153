"""Drawing the synthetic corpus's proof: receipts, chats, parcel photos, status bars.

Everything is drawn with Pillow from installed fonts (Debian `fonts-noto-core`,
`fonts-farsiweb`, `fonts-dejavu-core`) with RAQM layout, so Persian and Arabic are
shaped and ordered right to left as a phone would show them. Looks (bank templates,
messenger styles) are drawn from the scenario's random generator, so another seed
gives other templates and the model cannot learn one generator's palette.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jdatetime
from PIL import Image, ImageDraw, ImageFont

from proofcheck.forensics.synth import ExifSpec, exif_bytes, insert_segment, thumbnail_jpeg

FONT_DIR = Path("/usr/share/fonts/truetype")
ARABIC_FONTS = ("farsiweb/nazli.ttf", "farsiweb/nazlib.ttf", "farsiweb/homa.ttf",
                "noto/NotoNaskhArabic-Regular.ttf", "noto/NotoSansArabic-Regular.ttf",
                "noto/NotoKufiArabic-Regular.ttf", "dejavu/DejaVuSans.ttf")
LATIN_FONTS = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf", "noto/NotoSans-Regular.ttf",
               "noto/NotoSans-Bold.ttf", "noto/NotoSerif-Regular.ttf",
               "dejavu/DejaVuSansCondensed.ttf")
LANGS = ("fas", "ara", "swa", "pol", "eng")
RTL = frozenset({"fas", "ara"})
W = 720  # phone screenshots at 2x density: wide enough for OCR without upscaling
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

FIRST = {
    "fas": ("علی", "مریم", "حسین", "زهرا", "رضا", "فاطمه", "محمد", "سارا", "امیر", "نرگس",
            "مهدی", "لیلا", "کاوه", "نازنین", "بهرام", "پریسا"),
    "ara": ("محمد", "أحمد", "فاطمة", "خالد", "سارة", "يوسف", "نورة", "عمر", "ليلى", "حسن",
            "مريم", "سلمان"),
    "swa": ("JOHN", "ASHA", "PETER", "MARY", "HASSAN", "GRACE", "JUMA", "AMINA", "SAID",
            "NEEMA", "BARAKA", "ZAWADI"),
    "pol": ("Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Marek", "Ewa",
            "Paweł", "Magdalena", "Krzysztof", "Zofia"),
    "eng": ("John", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Olivia",
            "Daniel", "Grace", "Ryan", "Chloe"),
}
SURNAMES = {
    "fas": ("رضایی", "احمدی", "محمدی", "کریمی", "حسینی", "موسوی", "جعفری", "نوری", "قاسمی",
            "صادقی", "تهرانی", "شریفی", "یزدانی", "کاظمی"),
    "ara": ("العتيبي", "السيد", "المنصوري", "عبدالله", "الحربي", "القحطاني", "الشمري",
            "الزهراني", "النعيمي", "الكعبي"),
    "swa": ("KAMAU", "WANJIKU", "ALLY", "MUSA", "BAKARI", "SALIM", "OTIENO", "MWANGI", "NJOROGE",
            "ODHIAMBO", "KIPROTICH", "MOHAMED"),
    "pol": ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Lewandowski", "Zieliński",
            "Kamiński", "Szymański", "Woźniak", "Dąbrowski", "Mazur", "Krawczyk"),
    "eng": ("Smith", "Brown", "Johnson", "Davis", "Wilson", "Taylor", "Clark", "Walker",
            "Hall", "Young", "King", "Wright"),
}
CURRENCY = {"fas": (("تومان", 1000), ("ریال", 10000)), "ara": (("ريال", 10), ("درهم", 10)),
            "swa": (("Ksh", 10), ("Tsh", 100)), "pol": (("zł", 1),), "eng": (("$", 1), ("€", 1))}
LABELS = {
    "fas": {"title": ("رسید انتقال وجه", "انتقال کارت به کارت", "تراکنش موفق"),
            "amount": "مبلغ", "date": "تاریخ", "time": "ساعت",
            "id": ("شماره پیگیری", "کد رهگیری", "شماره مرجع"), "from": "از", "to": "به"},
    "ara": {"title": ("تم التحويل بنجاح", "إيصال تحويل", "عملية ناجحة"), "amount": "المبلغ",
            "date": "التاريخ", "time": "الوقت", "id": ("رقم العملية", "رقم المرجع"),
            "from": "من", "to": "إلى"},
    "swa": {"title": ("M-PESA", "Muamala umekamilika", "Risiti ya malipo"), "amount": "Kiasi",
            "date": "Tarehe", "time": "Saa", "id": ("Kumbukumbu", "Namba ya muamala"),
            "from": "Kutoka", "to": "Kwa"},
    "pol": {"title": ("Potwierdzenie przelewu", "Przelew wykonany", "BLIK: płatność przyjęta"),
            "amount": "Kwota", "date": "Data", "time": "Godzina",
            "id": ("Nr transakcji", "Numer referencyjny"), "from": "Nadawca", "to": "Odbiorca"},
    "eng": {"title": ("Payment received", "Transfer successful", "Money in"),
            "amount": "Amount", "date": "Date", "time": "Time",
            "id": ("Transaction ID", "Reference"), "from": "From", "to": "To"},
}
CHAT_LINES = {
    "fas": ("سلام وقت بخیر", "سفارشم رسید خیلی ممنون", "کیفیتش عالی بود", "واریز کردم",
            "دستتون درد نکنه", "بسته سالم رسید", "بازم سفارش میدم", "خیلی خوش‌قول بودید",
            "رنگش دقیقا همون بود", "ممنون از پیگیری", "عالیه", "مرسی بابت تخفیف"),
    "ara": ("السلام عليكم", "وصلني الطلب شكرا", "الجودة ممتازة", "تم التحويل", "بارك الله فيك",
            "الطلب وصل سليم", "سأطلب مرة أخرى", "خدمة رائعة", "شكرا على السرعة", "ممتاز جدا"),
    "swa": ("Habari yako", "Mzigo umefika salama", "Asante sana", "Nimetuma pesa",
            "Bidhaa ni nzuri sana", "Nitaagiza tena", "Huduma bora kabisa", "Nimeipokea leo",
            "Karibu tena", "Rangi ni nzuri"),
    "pol": ("Dzień dobry", "Paczka dotarła, dziękuję", "Świetna jakość", "Przelew wysłany",
            "Polecam serdecznie", "Zamówię jeszcze raz", "Szybka wysyłka", "Wszystko w porządku",
            "Kolor idealny", "Dziękuję za rabat"),
    "eng": ("Hi there", "Got my order, thank you", "Quality is amazing", "Payment sent",
            "Highly recommend", "Will order again", "Fast delivery", "Everything was perfect",
            "Love the colour", "Thanks for the discount"),
}


@lru_cache(maxsize=128)
def font(rel: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / rel), size, layout_engine=ImageFont.Layout.RAQM)


def available_fonts(lang: str) -> tuple[str, ...]:
    names = ARABIC_FONTS if lang in RTL else LATIN_FONTS
    found = tuple(n for n in names if (FONT_DIR / n).exists())
    if not found:
        raise RuntimeError("fonts missing: apt-get install fonts-noto-core fonts-farsiweb "
                           "fonts-dejavu-core")
    return found


def _rgb(rng: random.Random, lo: int, hi: int) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


@dataclass(frozen=True)
class ReceiptTemplate:
    """One bank's or mobile-money app's receipt screen."""

    name: str
    header: tuple[int, int, int]
    background: tuple[int, int, int]
    ink: tuple[int, int, int]
    font_index: int
    size: int
    header_h: int
    spacing: int
    two_column: bool  # label at one edge, value at the other (else "label: value")
    card: bool  # values on a white card with a border


@dataclass(frozen=True)
class ChatStyle:
    """One messenger's look."""

    name: str
    background: tuple[int, int, int]
    bar: tuple[int, int, int]
    incoming: tuple[int, int, int]
    outgoing: tuple[int, int, int]
    ink: tuple[int, int, int]
    font_index: int
    size: int
    radius: int


@dataclass(frozen=True)
class StatusBar:
    """A phone's status bar: identical values give identical pixels."""

    clock: str
    battery: float
    dark: bool
    signal: int
    wifi: bool


def receipt_templates(rng: random.Random, n: int) -> list[ReceiptTemplate]:
    out = []
    for i in range(n):
        dark_ink = rng.random() < 0.85
        out.append(ReceiptTemplate(
            name=f"bank{i}", header=_rgb(rng, 10, 170),
            background=_rgb(rng, 235, 255) if dark_ink else _rgb(rng, 20, 45),
            ink=_rgb(rng, 10, 50) if dark_ink else _rgb(rng, 215, 245),
            font_index=rng.randrange(8), size=rng.randint(24, 32),
            header_h=rng.randint(90, 200), spacing=rng.randint(58, 84),
            two_column=rng.random() < 0.55, card=rng.random() < 0.5))
    return out


def chat_styles(rng: random.Random, n: int) -> list[ChatStyle]:
    out = []
    for i in range(n):
        dark = rng.random() < 0.3
        out.append(ChatStyle(
            name=f"messenger{i}",
            background=_rgb(rng, 10, 40) if dark else _rgb(rng, 215, 250),
            bar=_rgb(rng, 20, 140), incoming=_rgb(rng, 40, 70) if dark else _rgb(rng, 235, 255),
            outgoing=(rng.randint(30, 90), rng.randint(90, 160), rng.randint(60, 140))
            if dark else _rgb(rng, 190, 240),
            ink=(235, 235, 235) if dark else (25, 25, 25), font_index=rng.randrange(8),
            size=rng.randint(24, 30), radius=rng.randint(6, 26)))
    return out


def status_bar(rng: random.Random, when: dt.datetime, dark: bool | None = None) -> StatusBar:
    return StatusBar(clock=f"{when.hour:02d}:{when.minute:02d}",
                     battery=round(rng.uniform(0.08, 1.0), 2),
                     dark=rng.random() < 0.3 if dark is None else dark,
                     signal=rng.randint(1, 4), wifi=rng.random() < 0.6)


def draw_status_bar(img: Image.Image, bar: StatusBar, bg: tuple[int, int, int]) -> int:
    """Draw the bar over the top of `img`; give its height."""
    d = ImageDraw.Draw(img)
    h = 48
    fill = (20, 20, 20) if bar.dark else (250, 250, 250)
    ink = (235, 235, 235) if bar.dark else (20, 20, 20)
    d.rectangle((0, 0, img.width, h), fill=fill if bg == (0, 0, 0) else bg)
    d.text((24, 10), bar.clock, font=font("dejavu/DejaVuSans-Bold.ttf", 24), fill=ink)
    right = img.width - 24
    d.rectangle((right - 44, 14, right - 4, 34), outline=ink, width=2)
    d.rectangle((right - 41, 17, right - 41 + round(34 * bar.battery), 31), fill=ink)
    d.rectangle((right - 3, 20, right, 28), fill=ink)
    x = right - 100
    for i in range(4):
        top = 34 - 5 * (i + 1)
        d.rectangle((x + 8 * i, top, x + 8 * i + 5, 34), fill=ink if i < bar.signal else
                    (128, 128, 128))
    if bar.wifi:
        d.pieslice((right - 150, 12, right - 118, 44), 225, 315, fill=ink)
    return h


@dataclass
class Receipt:
    """What one receipt says. `amount`, `payer` and `date_text` are what edits change."""

    lang: str
    amount: int
    currency: str
    payer: str
    payee: str
    when: dt.datetime
    txid: str
    title: str
    id_label: str


def money(lang: str, amount: int, currency: str) -> str:
    grouped = f"{amount:,}"
    if lang == "fas":
        return f"{grouped.replace(',', '٬').translate(FA_DIGITS)} {currency}"
    if lang == "ara":
        return f"{grouped} {currency}"
    if lang == "pol":
        return f"{grouped.replace(',', ' ')},00 {currency}"
    if lang == "swa":
        return f"{currency} {grouped}.00"
    return f"{currency}{grouped}.00"


def date_text(lang: str, when: dt.datetime) -> str:
    if lang == "fas":
        j = jdatetime.date.fromgregorian(date=when.date())
        return f"{j.year}/{j.month:02d}/{j.day:02d}".translate(FA_DIGITS)
    if lang == "ara":
        return f"{when.day:02d}/{when.month:02d}/{when.year}"
    if lang == "pol":
        return f"{when.day:02d}.{when.month:02d}.{when.year}"
    if lang == "swa":
        return f"{when.day}/{when.month}/{when.year % 100}"
    return when.strftime("%b %d, %Y")


def receipt_lines(r: Receipt) -> list[tuple[str, str, str]]:
    """(key, label, value) rows; the key names what an edit may change."""
    lab = LABELS[r.lang]
    clock = f"{r.when.hour:02d}:{r.when.minute:02d}"
    txid = r.txid.translate(FA_DIGITS) if r.lang == "fas" else r.txid
    if r.lang == "fas":
        clock = clock.translate(FA_DIGITS)
    return [("amount", str(lab["amount"]), money(r.lang, r.amount, r.currency)),
            ("date", str(lab["date"]), date_text(r.lang, r.when)),
            ("time", str(lab["time"]), clock),
            ("id", r.id_label, txid),
            ("payer", str(lab["from"]), r.payer),
            ("payee", str(lab["to"]), r.payee)]


def _text(d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str,
          f: ImageFont.FreeTypeFont, fill: tuple[int, int, int], rtl: bool,
          anchor: str = "la") -> tuple[int, int, int, int]:
    direction = "rtl" if rtl else "ltr"
    d.text(xy, text, font=f, fill=fill, direction=direction, anchor=anchor)
    box = d.textbbox(xy, text, font=f, direction=direction, anchor=anchor)
    return (int(box[0]), int(box[1]), int(box[2]), int(box[3]))


@dataclass
class Rendered:
    image: Image.Image
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


def render_receipt(r: Receipt, t: ReceiptTemplate, bar: StatusBar | None,
                   height: int = 1280) -> Rendered:
    img = Image.new("RGB", (W, height), t.background)
    d = ImageDraw.Draw(img)
    fonts = available_fonts(r.lang)
    f = font(fonts[t.font_index % len(fonts)], t.size)
    big = font(fonts[t.font_index % len(fonts)], t.size + 14)
    rtl = r.lang in RTL
    top = draw_status_bar(img, bar, t.header) if bar else 0
    d.rectangle((0, top, W, top + t.header_h), fill=t.header)
    _text(d, (W / 2, top + t.header_h / 2), r.title, big, (255, 255, 255), rtl, "mm")
    y = top + t.header_h + 50
    if t.card:
        d.rounded_rectangle((30, y - 20, W - 30, y + t.spacing * 6 + 10), 18,
                            fill=tuple(min(255, c + 12) for c in t.background),
                            outline=t.header, width=2)
    boxes: dict[str, tuple[int, int, int, int]] = {}
    start, end = (W - 60, 60) if rtl else (60, W - 60)
    for key, label, value in receipt_lines(r):
        if t.two_column:
            _text(d, (start, y), label, f, t.ink, rtl, "ra" if rtl else "la")
            boxes[key] = _text(d, (end, y), value, f, t.ink, rtl, "la" if rtl else "ra")
        else:
            line = f"{label}: {value}"
            boxes[key] = _text(d, (start, y), line, f, t.ink, rtl, "ra" if rtl else "la")
        y += t.spacing
    d.rectangle((0, height - 90, W, height), fill=t.header)
    return Rendered(img, boxes)


def render_chat(lines: list[tuple[bool, str]], lang: str, contact: str, s: ChatStyle,
                bar: StatusBar | None, height: int = 1280) -> Rendered:
    """`lines`: (outgoing, text); the contact's name sits in the app bar."""
    img = Image.new("RGB", (W, height), s.background)
    d = ImageDraw.Draw(img)
    fonts = available_fonts(lang)
    f = font(fonts[s.font_index % len(fonts)], s.size)
    rtl = lang in RTL
    top = draw_status_bar(img, bar, s.bar) if bar else 0
    d.rectangle((0, top, W, top + 96), fill=s.bar)
    d.ellipse((20, top + 18, 80, top + 78), fill=tuple(min(255, c + 60) for c in s.bar))
    _text(d, (100, top + 48), contact, f, (255, 255, 255), rtl, "lm")
    y = top + 130
    for outgoing, text in lines:
        width = int(f.getlength(text, direction="rtl" if rtl else "ltr")) + 40
        width = min(width, W - 140)
        x0 = W - 30 - width if outgoing else 30
        colour = s.outgoing if outgoing else s.incoming
        d.rounded_rectangle((x0, y, x0 + width, y + s.size + 36), s.radius, fill=colour)
        _text(d, (x0 + width / 2, y + (s.size + 36) / 2), text, f, s.ink, rtl, "mm")
        y += s.size + 58
        if y > height - 150:
            break
    return Rendered(img, {})


def repaint(base: Rendered, changed: Rendered, key: str, rng: random.Random) -> Image.Image:
    """The classic receipt edit: one field's box covered and re-typed, a little off."""
    box = base.boxes[key]
    box2 = changed.boxes[key]
    left = min(box[0], box2[0]) - 6
    top = min(box[1], box2[1]) - 6
    right, bottom = max(box[2], box2[2]) + 6, max(box[3], box2[3]) + 6
    out = base.image.copy()
    patch = changed.image.crop((left, top, right, bottom))
    dx, dy = rng.randint(-3, 3), rng.randint(-2, 2)  # hand placement is never exact
    out.paste(patch, (left + dx, top + dy))
    return out


def parcel_photo(source: Image.Image, tile: int, rng: random.Random, lang: str,
                 label: bool) -> Image.Image:
    """One quarter of a real photograph (so two accounts never share pixels), with a
    shipping label for parcels."""
    w, h = source.size
    qx, qy = tile % 2, tile // 2
    box = (qx * w // 2, qy * h // 2, (qx + 1) * w // 2, (qy + 1) * h // 2)
    img = source.crop(box).convert("RGB")
    side = rng.choice(((720, 720), (720, 900), (900, 720)))
    img = img.resize(side, Image.Resampling.LANCZOS)
    if label:
        d = ImageDraw.Draw(img)
        lw, lh = rng.randint(260, 360), rng.randint(150, 210)
        x, y = rng.randint(20, side[0] - lw - 20), rng.randint(20, side[1] - lh - 20)
        d.rectangle((x, y, x + lw, y + lh), fill=(245, 243, 235), outline=(60, 60, 60), width=2)
        fonts = available_fonts(lang)
        f = font(fonts[0], 22)
        name = f"{rng.choice(FIRST[lang])} {rng.choice(SURNAMES[lang])}"
        rtl = lang in RTL
        anchor = "ra" if rtl else "la"
        xx = x + lw - 14 if rtl else x + 14
        _text(d, (xx, y + 16), name, f, (20, 20, 20), rtl, anchor)
        code = "".join(rng.choice("0123456789") for _ in range(12))
        _text(d, (x + 14, y + 60), code, font("dejavu/DejaVuSansMono.ttf", 22), (20, 20, 20),
              False)
        for i in range(24):
            bw = rng.choice((2, 3, 5))
            d.rectangle((x + 14 + i * 9, y + 100, x + 14 + i * 9 + bw, y + lh - 16),
                        fill=(10, 10, 10))
    return img


def encode_png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def encode_jpeg(img: Image.Image, quality: int, exif: ExifSpec | None = None) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    data = out.getvalue()
    if exif is not None:
        if exif.thumbnail is None:
            exif.thumbnail = thumbnail_jpeg(img)
        data = insert_segment(data, 0xE1, exif_bytes(exif))
    return data


def exif_time(when: dt.datetime) -> str:
    return when.strftime("%Y:%m:%d %H:%M:%S")

"""`proofcheck synth`: a labelled scenario of seller accounts and their posted proof.

There is no public labelled data for fake social proof, so it is generated: accounts
(honest, and six kinds of fraud) post receipts, chats, parcel and product photos over
months, each post with a time, caption and kind, and ground truth per image and per
account. Honest accounts share bank templates and messenger looks (the model must not
learn "same look = fraud"), sometimes post in bursts on a sale day, and sometimes run
their product photos through a phone editor. Everything that could become a shortcut
(templates, languages, transforms, timings, photo sources) is drawn from the seed.

Layout of a scenario folder:
    scenario.json   accounts and posts in submission order, with labels
    images/         one file per post (PNG or JPEG, as the account would upload it)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from proofcheck.forensics.synth import ExifSpec
from proofcheck.scoring import render as R

GENERATOR = "proofcheck-synth/1"
FRAUD_TYPES = ("stolen", "edited", "template", "recycled", "relatives", "editor")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
# Stock photographs from Debian packages; `skimage` adds scikit-image's sample data.
DEFAULT_PHOTO_DIRS = ("/usr/share/backgrounds", "/usr/share/wallpapers", "skimage")
EDITORS = ("Adobe Photoshop 25.1 (Windows)", "PicsArt", "Canva", "GIMP 2.10.36",
           "Adobe Photoshop CC 2019 (Macintosh)", "Pixlr", "Photopea", "Snapseed 2.0")
BENIGN_EDITORS = ("Snapseed 2.0", "VSCO", "Adobe Lightroom 9.0 (Android)")
CAMERAS = (("samsung", "SM-A536B"), ("Apple", "iPhone 13"), ("Xiaomi", "Redmi Note 12"),
           ("Google", "Pixel 7a"), ("TECNO", "TECNO KI5k"), ("HUAWEI", "P30 lite"))
CAPTIONS = {
    "fas": ("سفارش {n} ارسال شد", "رضایت مشتری عزیز از {p}", "{p} موجود شد", "ارسال امروز 📦",
            "نظر مشتری درباره {p}", "واریزی امروز ممنون از اعتماد", "پک جدید {p}"),
    "ara": ("تم شحن الطلب {n}", "رأي عميلتنا في {p}", "وصل {p} الجديد", "شحن اليوم 📦",
            "شكرا لثقتكم", "تحويل اليوم من عميل"),
    "swa": ("Oda {n} imetumwa", "Maoni ya mteja kuhusu {p}", "{p} mpya zimefika",
            "Mzigo wa leo 📦", "Asante kwa kuniamini", "Malipo ya leo"),
    "pol": ("Zamówienie {n} wysłane", "Opinia klientki o {p}", "Nowa dostawa: {p}",
            "Dzisiejsza wysyłka 📦", "Dziękujemy za zaufanie", "Wpłata od klienta"),
    "eng": ("Order {n} shipped", "What our customer says about the {p}", "New {p} in stock",
            "Today's parcels 📦", "Thank you for trusting us", "Payment from a happy client"),
}
PRODUCTS = ("bags", "scarves", "shoes", "serum", "watches", "honey", "perfume", "rugs")
# The one line a fraud account pastes under every post, with a different emoji.
SAME_VOICE = ("Another happy customer! 100% trusted seller {e}", "مشتری راضی دیگر، اعتماد کنید {e}",
              "عميل سعيد آخر، ثقة مضمونة {e}", "Mteja mwingine ameridhika {e}",
              "Kolejna zadowolona klientka {e}")
EMOJI = ("🙏", "✅", "💯", "❤️", "🔥", "⭐")
BASE_TIME = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@dataclass
class Post:
    file: str
    account: str
    post_id: str
    posted_at: dt.datetime
    caption: str
    kind: str
    label: int
    fraud_type: str | None
    data: bytes = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        return {"file": self.file, "account": self.account, "post_id": self.post_id,
                "posted_at": self.posted_at.isoformat(), "caption": self.caption,
                "kind": self.kind, "label": self.label, "fraud_type": self.fraud_type,
                **self.extra}


@dataclass
class Proof:
    """A rendered receipt or chat kept for reuse (stolen, edited) by other accounts."""

    post: Post
    image: Image.Image
    receipt: R.Receipt | None = None
    template: R.ReceiptTemplate | None = None
    bar: R.StatusBar | None = None


@dataclass
class AccountPlan:
    name: str
    type: str  # "honest" or one of FRAUD_TYPES
    lang: str
    owner: str
    template: R.ReceiptTemplate
    style: R.ChatStyle
    start: dt.datetime
    posts: list[Post] = field(default_factory=list)


def photo_sources(dirs: Sequence[str], half: str | None = None) -> list[Path | str]:
    """Stock photographs, optionally one of two disjoint halves (by a hash of the name),
    so training and evaluation scenarios can be drawn from different photographs."""
    found: list[Path | str] = []
    for d in dirs:
        if d == "skimage":
            try:
                import skimage.data
            except ImportError:
                continue
            root = Path(skimage.data.__file__).parent
            found += [p for p in sorted(root.iterdir()) if p.suffix in (".png", ".jpg")
                      and p.stat().st_size > 60_000]
            continue
        root = Path(d)
        if root.is_dir():
            found += sorted(p for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES
                            and p.stat().st_size > 60_000)
    if half in ("a", "b"):
        found = [p for p in found
                 if (hashlib.sha1(Path(p).name.encode()).digest()[0] % 2 == 0) == (half == "a")]
    return found


class Generator:
    def __init__(self, seed: int, accounts: int, photos: Sequence[Path | str]) -> None:
        if not photos:
            raise ValueError("no source photographs found (apt-get install mate-backgrounds "
                             "ukui-wallpapers, or pass --photos-from DIR)")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_accounts = accounts
        self.templates = R.receipt_templates(self.rng, self.rng.randint(5, 9))
        self.styles = R.chat_styles(self.rng, self.rng.randint(3, 6))
        tiles = [(p, q) for p in photos for q in range(4)]
        self.rng.shuffle(tiles)
        self.tiles = tiles
        self.photo_cache: dict[str, Image.Image] = {}
        self.proofs: list[Proof] = []  # honest receipts/chats/photos others may steal
        self.counter = 0

    # -------------------------------------------------------------- building blocks

    def _file(self, data: bytes) -> str:
        self.counter += 1
        ext = "jpg" if data[:2] == b"\xff\xd8" else "png"
        return f"p{self.counter:05d}.{ext}"

    def _post(self, acc: AccountPlan, when: dt.datetime, kind: str, data: bytes, label: int,
              fraud: str | None, caption: str | None = None) -> Post:
        post = Post(file=self._file(data), account=acc.name,
                    post_id=f"{acc.name.split('@')[-1]}-{len(acc.posts) + 1}", posted_at=when,
                    caption=caption if caption is not None else self._caption(acc), kind=kind,
                    label=label, fraud_type=fraud, data=data)
        acc.posts.append(post)
        return post

    def _caption(self, acc: AccountPlan) -> str:
        text = self.rng.choice(CAPTIONS[acc.lang])
        return text.format(n=self.rng.randint(100, 999), p=self.rng.choice(PRODUCTS))

    def _same_voice(self, acc: AccountPlan) -> str:
        line = SAME_VOICE[LANG_INDEX.get(acc.lang, 0)]
        return line.format(e=self.rng.choice(EMOJI))

    def _name(self, lang: str, surname: str | None = None) -> str:
        return f"{self.rng.choice(R.FIRST[lang])} {surname or self.rng.choice(R.SURNAMES[lang])}"

    def _amount(self, lang: str, round_small: bool) -> tuple[int, str]:
        currency, unit = self.rng.choice(R.CURRENCY[lang])
        if round_small:
            return self.rng.choice((5, 10, 20, 50)) * 10 * unit // 10 * 10, currency
        # Shop prices: odd hundreds and thousands, times a quantity.
        price = self.rng.randint(13, 480) * unit + self.rng.choice((0, 0, 5, 9)) * unit // 10
        return price * self.rng.randint(1, 4), currency

    def _txid(self, lang: str) -> str:
        if lang in ("swa", "eng", "pol"):
            letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
            return "".join(self.rng.choice(letters + "0123456789") for _ in range(10))
        return str(self.rng.randint(10**9, 10**12))

    def _receipt(self, acc: AccountPlan, when: dt.datetime, payer: str | None = None,
                 round_small: bool = False) -> R.Receipt:
        lab = R.LABELS[acc.lang]
        amount, currency = self._amount(acc.lang, round_small)
        paid = when - dt.timedelta(minutes=self.rng.randint(5, 60 * 48))
        return R.Receipt(lang=acc.lang, amount=amount, currency=currency,
                         payer=payer or self._name(acc.lang), payee=acc.owner, when=paid,
                         txid=self._txid(acc.lang), title=self.rng.choice(lab["title"]),
                         id_label=self.rng.choice(lab["id"]))

    def _bar(self, when: dt.datetime) -> R.StatusBar:
        shot = when - dt.timedelta(minutes=self.rng.randint(1, 600))
        return R.status_bar(self.rng, shot)

    def _chat_lines(self, lang: str, fixed: list[str] | None = None) -> list[tuple[bool, str]]:
        pool = R.CHAT_LINES[lang]
        texts = fixed or self.rng.sample(pool, self.rng.randint(3, 6))
        return [(i % 2 == 1 if self.rng.random() < 0.8 else self.rng.random() < 0.5, t)
                for i, t in enumerate(texts)]

    def _screenshot_bytes(self, img: Image.Image) -> bytes:
        # Phones save PNG; messengers re-encode to JPEG when a screenshot is forwarded.
        if self.rng.random() < 0.55:
            return R.encode_png(img)
        return R.encode_jpeg(img, self.rng.randint(72, 92))

    def _photo(self, acc: AccountPlan, when: dt.datetime, label: bool) -> tuple[Image.Image,
                                                                                 bytes]:
        path, quarter = self.tiles[self.counter % len(self.tiles)]
        key = str(path)
        if key not in self.photo_cache:
            with Image.open(path) as src:
                src.draft("RGB", (1600, 1600))
                img = src.convert("RGB")
                img.thumbnail((1800, 1800))
                self.photo_cache[key] = img
        img = R.parcel_photo(self.photo_cache[key], quarter, self.rng, acc.lang, label)
        make, model = self.rng.choice(CAMERAS)
        taken = when - dt.timedelta(minutes=self.rng.randint(10, 60 * 72))
        spec = ExifSpec(make=make, model=model, datetime=R.exif_time(taken),
                        datetime_original=R.exif_time(taken), pixel_size=img.size,
                        camera_settings=True)
        if self.rng.random() < 0.12:  # honest sellers touch up product photos too
            spec.software = self.rng.choice(BENIGN_EDITORS)
        return img, R.encode_jpeg(img, self.rng.randint(82, 95), spec)

    def _times(self, acc: AccountPlan, n: int, burst_share: float) -> list[dt.datetime]:
        times: list[dt.datetime] = []
        t = acc.start
        mean_gap_h = self.rng.uniform(30, 240)
        for _ in range(n):
            if times and self.rng.random() < burst_share:
                t = t + dt.timedelta(minutes=self.rng.uniform(1, 40))
            else:
                t = t + dt.timedelta(hours=self.rng.expovariate(1 / mean_gap_h) + 2)
                t = t.replace(hour=self.rng.randint(8, 23), minute=self.rng.randint(0, 59))
            times.append(t)
        return sorted(times)

    # -------------------------------------------------------------- account types

    def honest(self, acc: AccountPlan) -> None:
        for when in self._times(acc, self.rng.randint(4, 9), 0.12):
            kind = self.rng.choices(("receipt", "chat", "shipping", "photo"), (4, 4, 2, 1))[0]
            self.own_post(acc, when, kind, label=0, fraud=None, keep=True)

    def own_post(self, acc: AccountPlan, when: dt.datetime, kind: str, label: int,
                 fraud: str | None, keep: bool = False, caption: str | None = None) -> Proof:
        if kind in ("shipping", "photo"):
            img, data = self._photo(acc, when, label=kind == "shipping")
            proof = Proof(self._post(acc, when, kind, data, label, fraud, caption), img)
        elif kind == "receipt":
            r = self._receipt(acc, when)
            bar = self._bar(when) if self.rng.random() < 0.8 else None
            img = R.render_receipt(r, acc.template, bar).image
            post = self._post(acc, when, kind, self._screenshot_bytes(img), label, fraud, caption)
            proof = Proof(post, img, r, acc.template, bar)
        else:
            bar = self._bar(when)
            img = R.render_chat(self._chat_lines(acc.lang), acc.lang, self._name(acc.lang),
                                acc.style, bar).image
            post = self._post(acc, when, kind, self._screenshot_bytes(img), label, fraud, caption)
            proof = Proof(post, img, bar=bar)
        if keep:
            self.proofs.append(proof)
        return proof

    def stolen(self, acc: AccountPlan) -> None:
        n = self.rng.randint(4, 8)
        sources = [p for p in self.proofs if p.post.account != acc.name]
        for _ in range(n):
            if not sources:
                break
            src = self.rng.choice(sources)
            when = src.post.posted_at + dt.timedelta(days=self.rng.uniform(0.5, 60))
            data, how = transform(self.rng, src.image, acc.name)
            post = self._post(acc, when, src.post.kind, data, 1, "stolen")
            post.extra = {"source": src.post.file, "transform": how}
        for _ in range(self.rng.randint(0, 2)):  # a few photos of its own
            self.own_post(acc, acc.start + dt.timedelta(days=self.rng.uniform(0, 90)), "photo",
                          label=0, fraud=None)

    def edited(self, acc: AccountPlan) -> None:
        receipts = [p for p in self.proofs if p.receipt is not None]
        for _ in range(self.rng.randint(1, 2)):
            if receipts and self.rng.random() < 0.5:  # someone else's receipt, edited
                src = self.rng.choice(receipts)
                assert src.receipt is not None and src.template is not None
                base_r, template, bar = src.receipt, src.template, src.bar
                when = src.post.posted_at + dt.timedelta(days=self.rng.uniform(1, 30))
            else:  # one real receipt of its own, never posted unedited
                when = acc.start + dt.timedelta(days=self.rng.uniform(0, 40))
                base_r, template, bar = self._receipt(acc, when), acc.template, self._bar(when)
            base = R.render_receipt(base_r, template, bar)
            for _ in range(self.rng.randint(2, 4)):
                key = self.rng.choice(("amount", "amount", "payer", "date"))
                changed = _changed(self.rng, base_r, key, self)
                img = R.repaint(base, R.render_receipt(changed, template, bar), key, self.rng)
                when = when + dt.timedelta(hours=self.rng.uniform(5, 24 * 9))
                post = self._post(acc, when, "receipt", self._screenshot_bytes(img), 1, "edited")
                post.extra = {"edited_field": key}

    def template(self, acc: AccountPlan) -> None:
        use_chat = self.rng.random() < 0.5
        first = acc.start + dt.timedelta(days=self.rng.uniform(0, 20))
        bar = R.status_bar(self.rng, first)  # never changes: the screen was never live
        fixed = self.rng.sample(R.CHAT_LINES[acc.lang], 4)
        when = first
        for i in range(self.rng.randint(5, 9)):
            if i:
                burst = self.rng.random() < 0.7
                when += (dt.timedelta(minutes=self.rng.uniform(0.5, 12)) if burst
                         else dt.timedelta(days=self.rng.uniform(1, 10)))
            if use_chat:
                lines = self._chat_lines(acc.lang, fixed[:2] + self.rng.sample(
                    R.CHAT_LINES[acc.lang], 2))
                img = R.render_chat(lines, acc.lang, self._name(acc.lang), acc.style, bar).image
                kind = "chat"
            else:
                img = R.render_receipt(self._receipt(acc, when), acc.template, bar).image
                kind = "receipt"
            self._post(acc, when, kind, self._screenshot_bytes(img), 1, "template",
                       self._same_voice(acc))

    def recycled(self, acc: AccountPlan) -> None:
        times = self._times(acc, self.rng.randint(2, 3), 0.0)
        for when in times:
            kind = self.rng.choice(("receipt", "chat", "shipping"))
            proof = self.own_post(acc, when, kind, label=1, fraud="recycled")
            repeat_at = when
            for _ in range(self.rng.randint(1, 2)):
                repeat_at = repeat_at + dt.timedelta(days=self.rng.uniform(3, 45))
                data = proof.post.data
                if self.rng.random() < 0.4:  # re-saved on the way: same picture, other file
                    small = proof.image.resize((int(proof.image.width * 0.9),
                                                int(proof.image.height * 0.9)))
                    data = R.encode_jpeg(small, self.rng.randint(70, 88))
                self._post(acc, repeat_at, kind, data, 1, "recycled")

    def relatives(self, acc: AccountPlan) -> None:
        surname = self.rng.choice(R.SURNAMES[acc.lang])
        family = [self._name(acc.lang, surname) for _ in range(self.rng.randint(2, 3))]
        for when in self._times(acc, self.rng.randint(5, 8), 0.1):
            r = self._receipt(acc, when, payer=self.rng.choice(family), round_small=True)
            bar = self._bar(when) if self.rng.random() < 0.8 else None
            img = R.render_receipt(r, acc.template, bar).image
            self._post(acc, when, "receipt", self._screenshot_bytes(img), 1, "relatives")
        for _ in range(self.rng.randint(0, 2)):
            self.own_post(acc, acc.start + dt.timedelta(days=self.rng.uniform(0, 60)), "photo",
                          label=0, fraud=None)

    def editor(self, acc: AccountPlan) -> None:
        for when in self._times(acc, self.rng.randint(4, 8), 0.1):
            kind = self.rng.choices(("receipt", "chat", "shipping"), (3, 2, 2))[0]
            if kind == "shipping":
                img, _ = self._photo(acc, when, label=True)
            elif kind == "receipt":
                img = R.render_receipt(self._receipt(acc, when), acc.template,
                                       self._bar(when)).image
            else:
                img = R.render_chat(self._chat_lines(acc.lang), acc.lang, self._name(acc.lang),
                                    acc.style, self._bar(when)).image
            saved = when + dt.timedelta(minutes=self.rng.randint(-300, 600))
            spec = ExifSpec(software=self.rng.choice(EDITORS), datetime=R.exif_time(saved))
            data = R.encode_jpeg(img, self.rng.randint(80, 95), spec)
            self._post(acc, when, kind, data, 1, "editor")

    # -------------------------------------------------------------- the scenario

    def plan_accounts(self) -> list[AccountPlan]:
        n = self.n_accounts
        n_fraud = max(len(FRAUD_TYPES) if n >= 2 * len(FRAUD_TYPES) else 1, round(n * 0.45))
        types = [FRAUD_TYPES[i % len(FRAUD_TYPES)] for i in range(n_fraud)]
        types += ["honest"] * (n - n_fraud)
        self.rng.shuffle(types)
        # Popular banks and messengers: many honest accounts (and fraudsters) share them.
        popular_t = self.templates[:2]
        popular_s = self.styles[:1]
        plans = []
        for i, kind in enumerate(types):
            lang = self.rng.choice(R.LANGS)
            platform = self.rng.choice(("instagram", "instagram", "telegram", "tiktok"))
            template = self.rng.choice(popular_t if self.rng.random() < 0.6 else self.templates)
            style = self.rng.choice(popular_s if self.rng.random() < 0.6 else self.styles)
            plans.append(AccountPlan(
                name=f"{platform}:@shop{self.seed % 1000:03d}_{i:03d}", type=kind, lang=lang,
                owner=self._name(lang), template=template, style=style,
                start=BASE_TIME + dt.timedelta(days=self.rng.uniform(0, 200))))
        return plans

    def build(self) -> list[AccountPlan]:
        plans = self.plan_accounts()
        builders: dict[str, Callable[[AccountPlan], None]] = {
            "honest": self.honest, "stolen": self.stolen, "edited": self.edited,
            "template": self.template, "recycled": self.recycled,
            "relatives": self.relatives, "editor": self.editor}
        # Honest accounts first: thieves and editors take from what exists.
        for acc in sorted(plans, key=lambda a: a.type != "honest"):
            builders[acc.type](acc)
        return plans


LANG_INDEX = {"eng": 0, "fas": 1, "ara": 2, "swa": 3, "pol": 4}


def _changed(rng: random.Random, r: R.Receipt, key: str, gen: Generator) -> R.Receipt:
    from dataclasses import replace

    if key == "amount":
        return replace(r, amount=r.amount * rng.choice((2, 3, 5, 10)) + rng.choice((0, 1)) * 1000)
    if key == "payer":
        return replace(r, payer=gen._name(r.lang))
    return replace(r, when=r.when + dt.timedelta(days=rng.randint(2, 120)))


def transform(rng: random.Random, img: Image.Image, thief: str) -> tuple[bytes, list[str]]:
    """What happens to a stolen picture: cropped, re-screenshotted, captioned, squeezed."""
    steps = rng.sample(("crop", "rescreenshot", "caption_bar", "watermark", "resize"),
                       rng.randint(1, 3))
    out = img.convert("RGB")
    for step in steps:
        w, h = out.size
        if step == "crop":
            fx, fy = rng.uniform(0.78, 0.95), rng.uniform(0.78, 0.95)
            x0, y0 = rng.uniform(0, 1 - fx) * w, rng.uniform(0, 1 - fy) * h
            out = out.crop((int(x0), int(y0), int(x0 + fx * w), int(y0 + fy * h)))
        elif step == "resize":
            f = rng.uniform(0.55, 0.9)
            out = out.resize((int(w * f), int(h * f)), Image.Resampling.BILINEAR)
        elif step == "rescreenshot":
            canvas = Image.new("RGB", (R.W, 1280), R._rgb(rng, 0, 255))
            bar = R.status_bar(rng, BASE_TIME + dt.timedelta(minutes=rng.randint(0, 1440)))
            top = R.draw_status_bar(canvas, bar, canvas.getpixel((0, 0)))  # type: ignore[arg-type]
            scale = min((R.W - 40) / w, (1280 - top - 120) / h) * rng.uniform(0.85, 1.0)
            inner = out.resize((max(1, int(w * scale)), max(1, int(h * scale))))
            canvas.paste(inner, ((R.W - inner.width) // 2, top + 40))
            out = canvas
        elif step == "caption_bar":
            band = rng.randint(50, 110)
            canvas = Image.new("RGB", (w, h + band), R._rgb(rng, 0, 255))
            at_top = rng.random() < 0.5
            canvas.paste(out, (0, band if at_top else 0))
            d = ImageDraw.Draw(canvas)
            y = band // 2 if at_top else h + band // 2
            d.text((16, y), thief.split(":")[-1], anchor="lm", fill=(250, 250, 250),
                   font=R.font("dejavu/DejaVuSans-Bold.ttf", 28), stroke_width=2,
                   stroke_fill=(0, 0, 0))
            out = canvas
        else:  # watermark
            layer = out.convert("RGBA")
            mark = Image.new("RGBA", layer.size, (0, 0, 0, 0))
            d = ImageDraw.Draw(mark)
            d.text((w * 0.15, h * 0.45), thief.split(":")[-1],
                   font=R.font("dejavu/DejaVuSans-Bold.ttf", max(20, w // 14)),
                   fill=(255, 255, 255, rng.randint(70, 140)))
            out = Image.alpha_composite(layer, mark).convert("RGB")
    if rng.random() < 0.7:
        return R.encode_jpeg(out, rng.randint(45, 85)), steps
    return R.encode_png(out), steps


def write_scenario(out: Path, accounts: int, seed: int,
                   photos: Sequence[Path | str]) -> dict[str, Any]:
    """Generate and write a scenario; give its manifest."""
    gen = Generator(seed, accounts, photos)
    plans = gen.build()
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    # Submission order: one account's whole history at a time, accounts in random order,
    # so a thief is often checked before the account it stole from (rescoring matters).
    order = list(plans)
    gen.rng.shuffle(order)
    posts: list[dict[str, Any]] = []
    for acc in order:
        for post in sorted(acc.posts, key=lambda p: p.posted_at):
            (images / post.file).write_bytes(post.data)
            posts.append(post.manifest())
    manifest = {
        "generator": GENERATOR, "seed": seed,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "photo_sources": sorted({str(p) for p in photos}),
        "templates": len(gen.templates), "chat_styles": len(gen.styles),
        "accounts": [{"name": a.name, "type": a.type, "fraud": a.type != "honest",
                      "lang": a.lang, "posts": len(a.posts)} for a in plans],
        "posts": posts,
    }
    (out / "scenario.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def load_scenario(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "scenario.json").read_text())
    return data


def image_bytes(folder: Path, post: dict[str, Any]) -> bytes:
    return (folder / "images" / str(post["file"])).read_bytes()


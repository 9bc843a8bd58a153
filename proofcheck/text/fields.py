"""Field extraction from OCR lines: amounts, dates, times, ids, cards, names, phones.

Rules run per line over the canonical text of `normalize.normalize_text` (ASCII
digits, "," for ٬ and ،, "." for ٫, Persian letter forms), so one rule serves all five
languages. Each line is the words' normalised texts joined by single spaces, and a
character offset maps back to the words, which gives every field its box and the
OCR confidence of the words it came from.

Values follow API.md: amounts as plain decimal strings with an ISO 4217 currency,
dates as Gregorian ISO dates (Solar Hijri converted with jdatetime), times as HH:MM,
ids upper-cased without spaces.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jdatetime
from rapidfuzz.distance import Levenshtein

from .normalize import guess_language, normalize_text
from .statusbar import in_status_bar

if TYPE_CHECKING:
    from .ocr import OcrResult

Box = tuple[int, int, int, int]

FIELD_TYPES = ("amount", "date", "time", "transaction_id", "card", "name", "phone")


@dataclass
class Field:
    type: str
    value: str
    raw: str
    confidence: float
    box: Box | None = None
    currency: str | None = None  # amounts only
    # amount: amount/fee/balance; name: payer/payee; date: solar_hijri; time or date
    # on a phone's status bar: status_bar
    role: str | None = None
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "value": self.value,
            "raw": self.raw,
            "confidence": round(self.confidence, 3),
            "box": list(self.box) if self.box is not None else None,
        }
        if self.type == "amount":
            out["currency"] = self.currency
        if self.role:
            out["role"] = self.role
        return out


@dataclass
class _Token:
    start: int
    end: int
    box: Box | None
    confidence: float


@dataclass
class _Line:
    """One line's canonical text and where each word sits in it."""

    text: str
    raw: str
    tokens: list[_Token] = field(default_factory=list)
    index: int = 0

    def span(self, start: int, end: int) -> tuple[Box | None, float]:
        hit = [t for t in self.tokens if t.start < end and t.end > start]
        if not hit:
            return None, 1.0
        boxes = [t.box for t in hit if t.box is not None]
        box = None
        if boxes:
            x1 = min(b[0] for b in boxes)
            y1 = min(b[1] for b in boxes)
            x2 = max(b[0] + b[2] for b in boxes)
            y2 = max(b[1] + b[3] for b in boxes)
            box = (x1, y1, x2 - x1, y2 - y1)
        return box, min(t.confidence for t in hit)


def _make_line(words: Iterable[tuple[str, Box | None, float]], index: int) -> _Line:
    parts: list[str] = []
    tokens: list[_Token] = []
    pos = 0
    raws: list[str] = []
    for text, box, conf in words:
        norm = normalize_text(text).strip()
        if not norm:
            continue
        if parts:
            pos += 1
        tokens.append(_Token(pos, pos + len(norm), box, conf))
        parts.append(norm)
        raws.append(text)
        pos += len(norm)
    return _Line(text=" ".join(parts), raw=" ".join(raws), tokens=tokens, index=index)


# ---------------------------------------------------------------- label tables


# Arabic-script letters that differ only by their dots, which OCR drops and adds more
# than it misreads anything else ("شماره بیگیری" for "شماره پیگیری", "مبلع" for "مبلغ"):
# in a label with three or more such letters each stands for its whole group. The tooth group
# holds ن and ی too, whose middle forms are the same tooth ("حسیتی" for "حسینی").
_DOT_GROUPS = ("بپتثنی", "جچحخ", "دذ", "رزژ", "سش", "صض", "طظ", "عغ", "فق", "کگ")
_DOTLESS = {ch: "[" + group + "]" for group in _DOT_GROUPS for ch in group}
_DOTLESS_KEY = {ch: group[0] for group in _DOT_GROUPS for ch in group}


def _dotless_key(text: str) -> str:
    """`text` with each dotted letter replaced by the first of its `_DOT_GROUPS`."""
    return "".join(_DOTLESS_KEY.get(ch, ch) for ch in text)


def _forgiving_dots(word: str, pattern: str) -> str:
    """`pattern`, the regex of `word`, matching any dots on its letters when `word` has
    three or more dotted letters (fewer would let too many other words through)."""
    if sum(ch in _DOTLESS for ch in word) < 3:
        return pattern
    return "".join(_DOTLESS.get(ch, ch) for ch in pattern)


def _labels(*items: str) -> str:
    """Alternation of normalised labels, longest first so that the longest wins.

    A final "ة" may come out as any letter, two letters or none: the Arabic model reads
    "رقم العملية" as "رقم العمليت", "...ع", "...ف", "رقم العملی" (5 of 50 generated Arabic
    receipts lost their id so) or "رقم العملیهة". So may the first letter of an
    Arabic-script label of two or more words ("«قم العملية" on a receipt in Homa): the
    words after it carry the label."""
    patterns = {}
    for item in items:
        norm = normalize_text(item).lower()
        loose_end = item.endswith("ة")
        loose_start = " " in norm and "\u0600" <= norm[0] <= "\u06ff"
        stem = norm[:-1] if loose_end else norm
        body = _forgiving_dots(norm, re.escape(stem[1:] if loose_start else stem)
                               .replace(r"\ ", r"\s*"))
        patterns[norm] = (r"\S?" if loose_start else "") + body + (
            r"[^\W\d_]{0,2}" if loose_end else "")
    return "|".join(patterns[n] for n in sorted(patterns, key=len, reverse=True))


_ID_LABEL_ITEMS = (
    "شماره پیگیری", "کد پیگیری", "کد رهگیری", "شماره رهگیری", "شماره مرجع", "کد مرجع",
    "شماره تراکنش", "شناسه تراکنش", "شماره سند", "شماره ارجاع",
    "رقم العملية", "رقم المرجع", "الرقم المرجعي", "رقم المعاملة", "رقم الحوالة",
    "رقم التحويل", "المرجع",
    "Nr transakcji", "Numer transakcji", "ID transakcji", "Numer referencyjny",
    "Nr referencyjny", "Nr ref.", "Nr ref",
    "Transaction ID", "Transaction No.", "Transaction No", "Transaction code",
    "Transaction Ref", "Reference No.", "Reference No", "Reference", "Ref No.", "Ref No",
    "Ref.", "Ref", "Receipt No.", "Receipt No", "Trx ID", "TxID", "Txn ID",
    "Kumbukumbu", "Namba ya kumbukumbu", "Nambari ya muamala", "Namba ya muamala",
    "Muamala", "Kitambulisho cha muamala",
)
_ID_LABELS = _labels(*_ID_LABEL_ITEMS)
# Labels of other numbers that an id label's forgiving pattern reaches: "رقم الجوال" (a
# mobile number) is "رقم الحوالة" with one letter's dots moved and its "ة" dropped.
_NOT_ID_LABELS = "|".join(re.escape(normalize_text(item)).replace(r"\ ", r"\s*")
                          for item in ("رقم الجوال",))
# "؛", the Arabic semicolon, is what the Persian model often makes of a colon.
_ID_LABEL_RE = re.compile(rf"(?<![\w])(?!(?:{_NOT_ID_LABELS})(?![\w]))(?:{_ID_LABELS})(?![\w])"
                          rf"\s*[:;؛#.\-,،]?\s*", re.IGNORECASE)
# An M-Pesa confirmation starts with its 10-character code.
# Kenyan codes start with a letter, Tanzanian ones may start with a digit.
MPESA_CODE_LENGTH = 10
_MPESA_CODE = rf"((?=[A-Z0-9]*[A-Z][A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{{{MPESA_CODE_LENGTH}}})"
_MPESA_CONFIRMED = r"(?:Confirmed|Imethibitishwa|Imekamilika)"
_MPESA_RE = re.compile(rf"(?<![A-Za-z0-9]){_MPESA_CODE}\.?\s*{_MPESA_CONFIRMED}", re.IGNORECASE)
# A narrow chat bubble wraps after the code: the code alone, "Confirmed" next line.
_MPESA_ALONE_RE = re.compile(rf"\s*{_MPESA_CODE}\.?\s*$", re.IGNORECASE)
_MPESA_NEXT_RE = re.compile(rf"\s*{_MPESA_CONFIRMED}", re.IGNORECASE)
_ID_LABEL_END_RE = re.compile(_ID_LABEL_RE.pattern + "$", re.IGNORECASE)
# Labels long enough to be known with one letter misread, beyond the dots `_labels`
# forgives: the Persian model's "شماره مرمع" for "شماره مرجع" lost a Homa id. Shorter
# labels ("کد مرجع", "Ref No") have too many words one letter away.
_FUZZY_ID_LABELS = sorted({normalize_text(item).lower().rstrip(".") for item in _ID_LABEL_ITEMS
                           if len(normalize_text(item)) >= 8})
# Words, then a colon (or what OCR makes of one), then the value; or words right before
# an id-long run of digits, as a chat writes its label ("شماره پگیری ۱۶۹۸۲۶۳۹۶۳۰۷",
# Nazli). A digit may stand for a letter inside the words ("Transacti0n ID"). Of the 6
# ids that 1,300 Persian pages of bench/signals.py (seeds 20261204-28) lost with every
# digit read right, 3 had a label misread without a colon and one a comma for its colon
# (`_ID_LABEL_RE`); "شماره کی" and "شمارو یگری" are too far.
_LABEL_BEFORE_VALUE_RE = re.compile(
    r"(?P<label>[^\W\d_][^:;؛#]*?)\s*(?:[:;؛#]\s*|[,،]?\s*(?=\d{6}))"
)


def in_id_place(before: str, after: str) -> bool:
    """Whether a word stands where an id goes: right after an id label on its line
    (`before`, the line's text up to the word), or before an M-Pesa "Confirmed"
    (`after`, the next word). OCR uses it to recheck a code it read without digits.
    `before` is normalised first, as the labels are (`_labels`): the Arabic model's
    "رقم العملية" has the Arabic ي, the labels the Persian ی."""
    return bool(_ID_LABEL_END_RE.search(normalize_text(before)) or in_mpesa_place(after))


def in_mpesa_place(after: str) -> bool:
    """Whether a word stands before an M-Pesa "Confirmed" (`after`, the next word), where
    only a code of `MPESA_CODE_LENGTH` characters is an id."""
    return bool(_MPESA_NEXT_RE.match(after))


_ID_VALUE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]*(?: [A-Za-z0-9\-]+)*")
# A mark read as a letter or two of the label's script between the label and a number
# ("رقم العملية: سر ۱۹۰۱۸۲۳۳۳۱۳۶" in Homa): skipped when an id-long run of digits
# follows, at lower confidence.
_ID_NOISE_RE = re.compile(r"[^\W\dA-Za-z_]{1,2}\s+(?=\d{6})")

_PAYER_LABELS = _labels(
    "از", "فرستنده", "نام فرستنده", "واریز کننده", "واریزکننده", "مبدا",
    "From", "Sender", "Payer", "Od", "Nadawca", "Zleceniodawca", "Kutoka kwa", "Kutoka",
    "Mtumaji", "من", "المرسل", "اسم المرسل", "received from", "umepokea kutoka kwa",
)
_PAYEE_LABELS = _labels(
    "به", "گیرنده", "نام گیرنده", "صاحب کارت", "دارنده کارت", "مقصد", "نام صاحب حساب",
    "To", "Recipient", "Payee", "Beneficiary", "Do", "Odbiorca", "Imetumwa kwa", "Mpokeaji",
    "إلى", "الى", "المستفيد", "اسم المستفيد", "sent to", "paid to", "umetuma kwa",
)
# Short labels are everyday words ("to", "do", "از"): only with a colon.
_SHORT_LABELS = {normalize_text(s).lower() for s in ("از", "به", "To", "Do", "Od", "From", "من",
                                                      "إلى", "الى", "Kutoka", "مقصد", "مبدا")}
_NAME_LABEL_RE = re.compile(
    rf"(?<![\w])(?P<payer>{_PAYER_LABELS})?(?P<payee>{_PAYEE_LABELS})?(?![\w])\s*(?P<colon>[:：])?\s*",
    re.IGNORECASE,
)
_NAME_STOP_RE = re.compile(
    r"\s(?:on|tarehe|dnia|w dniu|saa|at|kwa|ya|na|در|به|مورخ|بتاريخ|في|\d)\b|[\d,;(]|$",
    re.IGNORECASE,
)

_AMOUNT_LABEL_ITEMS = (
    "مبلغ", "مبلغ تراکنش", "مبلغ انتقال", "مبلغ واریزی", "جمع", "المبلغ", "قيمة التحويل",
    "Amount", "Total", "Kwota", "Suma", "Kiasi", "Jumla", "Paid",
)
_AMOUNT_LABELS = _labels(*_AMOUNT_LABEL_ITEMS)
_AMOUNT_LABEL_RE = re.compile(rf"(?<![\w])(?:{_AMOUNT_LABELS})(?![\w])\s*[:]?\s*", re.IGNORECASE)
_AMOUNT_LABEL_END_RE = re.compile(_AMOUNT_LABEL_RE.pattern + "$", re.IGNORECASE)


def in_amount_place(before: str) -> bool:
    """Whether a word stands right after an amount label on its line (`before`, the
    line's text up to the word). OCR uses it to re-read an amount it read as letters
    ("مبلغ: اس ریال" for "مبلغ: ۲٬۶۷۰٬۰۰۰ ریال" in DejaVu Sans Bold)."""
    return bool(_AMOUNT_LABEL_END_RE.search(normalize_text(before)))


_BALANCE_RE = re.compile(
    _labels("موجودی", "مانده", "balance", "salio", "saldo", "الرصيد", "dostępne środki"),
    re.IGNORECASE,
)
_FEE_RE = re.compile(
    _labels("کارمزد", "fee", "transaction cost", "gharama", "ada", "prowizja", "opłata", "oplata",
            "رسوم", "عمولة"),
    re.IGNORECASE,
)

# Currency markers, canonical text. Order matters inside each alternation (longest first).
_CURRENCY_WORDS: list[tuple[str, str]] = [
    # The Arabic model's misreadings in Homa (bench/signals.py seeds 20261231 and
    # 20270101: 5 of 400 Arabic amounts lost their currency so): ر lost ("یال سعودی") or
    # read as "(" ("د(هم"; "(یال سعودی" is "یال سعودی" after a "(", which
    # `_AMOUNT_BEFORE_RE` lets stand there), ه doubled ("درههم"); in DejaVu Sans, د with
    # a dot ("ذرهم", seed 20270215; too few dotted letters for `_forgiving_dots`). Not
    # Nazli's "در هم", درهم cut in two: "۵ نفر در همین" would be 5 AED.
    ("ریال سعودی", "SAR"), ("یال سعودی", "SAR"), ("ر.س", "SAR"), ("SAR", "SAR"),
    ("درهم", "AED"), ("د(هم", "AED"), ("درههم", "AED"), ("ذرهم", "AED"), ("د.إ", "AED"),
    ("AED", "AED"),
    ("جنیه", "EGP"), ("ج.م", "EGP"), ("EGP", "EGP"),
    # "ربال": ی read as ب (one dot lost), a frequent Persian-model error on ریال;
    # "تجمان": و read as ج in Homa (two of 50 Persian images of bench/signals.py seed
    # 20261210 lost their currency so); "توسان": م read as س in Nazli (seed 20261203,
    # where the label "مبلغ" was misread too and the amount had nothing else to go by);
    # "نومان" (ت's two dots read as one) and "ترمان" (و read as ر): the best Persian
    # model's (`tessmodels`) in Nazli and Nazli Bold, 4 of 600 pages of seeds 20261221-24.
    ("تومان", "IRT"), ("تجمان", "IRT"), ("توسان", "IRT"), ("نومان", "IRT"), ("ترمان", "IRT"),
    # "رال": ریال with its ی lost altogether, the best Persian model's in DejaVu Sans and
    # Nazli (3 of 1,450 Persian pages of seeds 20261204-08 and 20261221-28).
    ("ریال", "IRR"), ("ربال", "IRR"), ("رال", "IRR"),
    ("IRR", "IRR"), ("IRT", "IRT"),
    ("KSh", "KES"), ("Kshs", "KES"), ("KES", "KES"),
    ("TSh", "TZS"), ("Tshs", "TZS"), ("TZS", "TZS"),
    # "zt": the English model's reading of "zł", seen before the Polish model is chosen.
    ("zł", "PLN"), ("zl", "PLN"), ("zt", "PLN"), ("PLN", "PLN"),
    ("USD", "USD"), ("US$", "USD"), ("$", "USD"), ("EUR", "EUR"), ("€", "EUR"),
]

_CUR_WORDS = {normalize_text(k).lower(): v for k, v in _CURRENCY_WORDS}
# Like labels, currency words match whatever dots OCR gave them ("جنبه" for "جنیه" in
# Nazli Bold), and are looked up by dotless key so that what the pattern let through
# is found; the words that share a key ("ریال", "ربال") name one currency.
_CUR_MAP = {_dotless_key(k): v for k, v in _CUR_WORDS.items()}
_CUR_ALT = "|".join(
    _forgiving_dots(k, re.escape(k)) for k in sorted(_CUR_WORDS, key=len, reverse=True)
)
# Words that stand next to numbers on proof: the labels and currencies above, and date
# and time labels. However unsure Tesseract was of one, it is no piece of the number
# beside it (`is_field_word`).
_TIME_LABEL_ITEMS = ("ساعت", "الوقت", "Time", "Godzina", "Saa")
_DATE_LABEL_ITEMS = (
    "تاریخ", "التاريخ", "بتاريخ", "Date", "Data", "Tarehe", *_TIME_LABEL_ITEMS,
)
_FIELD_WORD_RE = re.compile(
    "(?:" + _labels(*{word for item in (*_ID_LABEL_ITEMS, *_AMOUNT_LABEL_ITEMS,
                                        *_DATE_LABEL_ITEMS, *(k for k, _ in _CURRENCY_WORDS))
                      for word in item.split()}) + r")[:.،]?",
    re.IGNORECASE,
)


_CURRENCY_WORD_RE = re.compile(f"(?:{_CUR_ALT})", re.IGNORECASE)


def is_currency_word(text: str) -> bool:
    """Whether an OCR word is one of the currency words (`_CURRENCY_WORDS`)."""
    return bool(_CURRENCY_WORD_RE.fullmatch(normalize_text(text).strip()))


def is_field_word(text: str) -> bool:
    """Whether an OCR word is a label or currency word (`_FIELD_WORD_RE`). OCR uses it
    not to take a doubtful "ریال" after an amount for more of its digits."""
    return bool(_FIELD_WORD_RE.fullmatch(normalize_text(text).strip().lower()))


# A number: digit groups joined by , . ' or a single space before exactly 3 digits. Or
# thousands groups and a fraction after "/": Persian fonts (Vazirmatn, Samim) draw the
# decimal mark ٫ as a slash and OCR reads it "/" ("۵۳٬۰۰۹/۴۷"); grouped, it is no date.
_SLASH_DECIMAL = r"\d{1,3}(?:,\d{3})+/\d{1,2}"
_NUM = rf"(?:{_SLASH_DECIMAL}(?![\d/])|\d+(?:(?:[,.'’]\d+)|(?: \d{{3}}(?!\d)))*)"
# The first digit of an amount after its currency, misread: a "1" as a letter ("Kshi2,925.00"
# for "Ksh12,925.00", Noto Serif) or cut off by a space ("Ksh1 70,734.00", Noto Sans),
# where the rest of the number leaves room for one more digit before its first mark.
# 4 of 300 Swahili pages of bench/signals.py (seeds 20261225, 20261229, 20261230) lost
# their amount so: the balance on the page, or a lone "1", became the amount.
_MISREAD_LEAD = r"(?P<lead>[iIl|](?=\d{1,2}[,.]\d{3})|\d (?=\d{1,2}[,.]\d{3})|\d\d (?=\d[,.]\d{3}))"
_MISREAD_LEAD_FACTOR = 0.8  # how much less sure an amount with its first digit restored is
_AMOUNT_AFTER_RE = re.compile(
    rf"(?<![\w.,])(?P<cur>{_CUR_ALT})\.?\s?{_MISREAD_LEAD}?(?P<num>{_NUM})(?![\d])",
    re.IGNORECASE,
)
# OCR puts a quote mark into the gap between an amount and its currency now and then
# ('7,081.02"ربال سعودي' in Nazli Bold): no text of a receipt has one there. A "(" there
# is a currency's ر misread ("(یال سعودي").
_AMOUNT_BEFORE_RE = re.compile(
    rf"(?<![\d.,])(?P<num>{_NUM})\s?[\"“”«»(]?\s?(?P<cur>{_CUR_ALT})(?![A-Za-z])", re.IGNORECASE
)
_BARE_NUM_RE = re.compile(rf"(?<![\d.,])(?P<num>{_NUM})(?![\d])")

_DATE_YMD_RE = re.compile(
    r"(?<![\d/.\-])(\d{4})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{1,2})(?![\d/\-])"
)
_DATE_DMY_RE = re.compile(
    r"(?<![\d/.\-])(\d{1,2})\s?([/.\-])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?![\d/\-])"
)
# A labelled day-month-year with one of its two separators lost ("بتاریخ 04/022024",
# "0207/2023": Sahel and Samim Bold chats): the label says it is a date.
_LABELLED_DATE_RE = re.compile(
    rf"(?<![\w])(?:{_labels(*(i for i in _DATE_LABEL_ITEMS if i not in _TIME_LABEL_ITEMS))})"
    r"\s*:?\s*(?:(?P<d1>\d{1,2})[/.\-](?P<m1>\d{2})|(?P<d2>\d{2})(?P<m2>\d{2})[/.\-])"
    r"(?P<y>\d{4})(?![\d/.\-])",
    re.IGNORECASE,
)
_MONTHS: dict[str, tuple[int, str]] = {}
for _cal, _names in (
    ("g", ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")),
    ("g", ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("g", ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
           "września", "października", "listopada", "grudnia")),
    ("g", ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień",
           "wrzesień", "październik", "listopad", "grudzień")),
    ("g", ("januari", "februari", "machi", "aprili", "mei", "juni", "julai", "agosti",
           "septemba", "oktoba", "novemba", "desemba")),
    ("g", ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
           "أكتوبر", "نوفمبر", "ديسمبر")),
    ("j", ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر",
           "دی", "بهمن", "اسفند")),
):
    for _i, _n in enumerate(_names, start=1):
        _MONTHS.setdefault(normalize_text(_n).lower(), (_i, _cal))
_MONTH_ALT = "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True))
_DATE_DMONY_RE = re.compile(
    rf"(?<![\d\w])(\d{{1,2}})\.?\s*({_MONTH_ALT})\.?,?\s*(\d{{4}})(?![\d])", re.IGNORECASE
)
_DATE_MONDY_RE = re.compile(
    rf"(?<![\w])({_MONTH_ALT})\.?\s*(\d{{1,2}}),?\s*(\d{{4}})(?![\d])", re.IGNORECASE
)
_TIME_RE = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3])\s?:\s?([0-5]\d)(?::[0-5]\d)?(?![\d:])"
    r"(?:\s?(?P<ampm>AM|PM|a\.m\.|p\.m\.|ق\.?ظ|ب\.?ظ|ص|م)(?![\w]))?",
    re.IGNORECASE,
)
# After a time label, what OCR made of the colon: the Persian model reads ":" between
# digits as "٬" or "؛" ("ساعت ۰۱٬۵۷": 7 of the 50 Persian pages of bench/signals.py
# seed 20261212 lost their time so).
_LABELLED_TIME_RE = re.compile(
    rf"(?<![\w])(?:{_labels(*_TIME_LABEL_ITEMS)})\s*[:;]?\s*"
    r"(?P<h>[01]?\d|2[0-3])\s?[,.;]\s?(?P<m>[0-5]\d)(?![\d,.:])",
    re.IGNORECASE,
)
_CARD_RE = re.compile(
    r"(?<![\d*])(\d{4})[\s\-]?(\d{2}[\d*]{2})[\s\-]?([\d*]{4})[\s\-]?(\d{4})(?![\d*])"
)
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:\+\d{2,3}[\s\-]?\(?\d{2,4}\)?(?:[\s\-]?\d{2,4}){1,3}"
    r"|09\d{2}[\s\-]?\d{3}[\s\-]?\d{4}"
    r"|0[17]\d{2}[\s\-]?\d{3}[\s\-]?\d{3}"
    r"|25[45]\d{9}|989\d{9})(?![\d])"
)


# ---------------------------------------------------------------- value parsers


def parse_amount(num: str) -> tuple[str, float] | None:
    """A number as written on a receipt to (plain decimal string, confidence factor).

    Handles "1,250,000", "1 234,56", "1.234,56", "1,250.00", "12,50", "1250". When a
    thousands separator was read as a digit (a 7-character group between separators:
    3 digits, the misread mark, 3 digits) the mark is removed and the confidence
    halved; a last group of five digits is a thousands group and two decimals whose
    mark was lost (confidence 0.4); a grouping that cannot be explained gives a low
    confidence, never a "corrected" number.
    """
    num = num.strip().replace("’", "'")
    if "/" in num and not re.fullmatch(_SLASH_DECIMAL, num):
        return None
    parts = re.split(r"([,.' /])", num)
    groups = parts[0::2]
    seps = parts[1::2]
    if not all(g.isdigit() for g in groups):
        return None
    factor = 1.0
    decimals = ""
    if seps:
        last = seps[-1]
        # Thousands groups have three digits, so a last group of one or two is the
        # fraction whatever the mark looks like: after a downscale "," and "." are
        # often indistinguishable ("40.717.85").
        is_decimal = len(groups[-1]) in (1, 2) and last in ",./"
        if is_decimal and len(seps) > 1 and seps[-2] == last:
            factor *= 0.8
        if is_decimal:
            decimals = groups[-1]
            groups = groups[:-1]
            seps = seps[:-1]
        if seps and len(set(seps)) > 1:
            factor *= 0.5  # mixed thousands marks: OCR noise somewhere
        repaired: list[str] = [groups[0]]
        for position, g in enumerate(groups[1:], start=1):
            if len(g) == 3:
                repaired.append(g)
            elif len(g) == 5 and position == len(groups) - 1 and not decimals:
                # "62,54308" for "62,543.08": the decimal mark lost, as small as a dot
                # is and often touching a digit; a thousands group and two decimals
                # is the one reading of a last group of five.
                repaired.append(g[:3])
                decimals = g[3:]
                factor *= 0.4
            elif len(g) % 4 == 3:
                # "2508000" for "250٬000": every 4th character is a misread separator.
                repaired.extend(g[i : i + 3] for i in range(0, len(g), 4))
                factor *= 0.5
            else:
                factor *= 0.2
                repaired.append(g)
        if len(repaired[0]) > 3 and len(repaired) > 1:
            factor *= 0.3
        groups = repaired
    integer = "".join(groups).lstrip("0") or "0"
    value = integer + ("." + decimals if decimals else "")
    return value, factor


def parse_date(y: int, m: int, d: int, *, solar: bool) -> dt.date | None:
    try:
        if solar:
            return jdatetime.date(y, m, d).togregorian()
        return dt.date(y, m, d)
    except (ValueError, OverflowError):
        return None


# The years a proof can be dated in: from 1970 (Solar Hijri 1349, lunar Hijri 1390) to
# 2100. A "۱۳۰۲" read for "۱۴۰۲" names a day of 1923, which no receipt or chat has.
_PROOF_YEARS = {"gregorian": (1970, 2100), "solar": (1349, 1479), "lunar": (1390, 1520)}
# A date outside those years is more likely a misread digit than what was printed: it
# is still reported, at this share of its confidence, so that a page's other date wins
# where there is one (Homa's ۴ read ۳ turns "۱۴۰۲" into "۱۳۰۲" across a receipt).
IMPROBABLE_YEAR = 0.5


def possible_date(text: str) -> bool | None:
    """Whether `text`, a number in ASCII digits shaped as a date (year first, or day
    and month first in either order), names a day of the Gregorian, Solar Hijri or
    lunar Hijri calendar in `_PROOF_YEARS`; None when it is not shaped as a date."""
    ymd, dmy = _DATE_YMD_RE.fullmatch(text), _DATE_DMY_RE.fullmatch(text)
    if ymd:
        options = [(int(ymd.group(1)), int(ymd.group(2)), int(ymd.group(3)))]
    elif dmy:
        a, b, y = int(dmy.group(1)), int(dmy.group(3)), _year(dmy.group(4))
        options = [(y, b, a), (y, a, b)]
    else:
        return None
    for y, m, d in options:
        if _in_proof_years(y, "gregorian") and parse_date(y, m, d, solar=False):
            return True
        if _in_proof_years(y, "solar") and parse_date(y, m, d, solar=True):
            return True
        if _in_proof_years(y, "lunar") and 1 <= m <= 12 and 1 <= d <= 30:  # not in jdatetime
            return True
    return False


def _in_proof_years(year: int, calendar: str) -> bool:
    first, last = _PROOF_YEARS[calendar]
    return first <= year <= last


def _is_solar_year(year: int, language: str) -> bool:
    # 13xx-14xx is a Solar Hijri year on Persian receipts; on Arabic ones it is the
    # lunar Hijri calendar, which jdatetime does not cover (left unconverted).
    return 1300 <= year <= 1499 and language != "ara"


def _year(y: str) -> int:
    year = int(y)
    return 2000 + year if len(y) == 2 else year


# ---------------------------------------------------------------- extraction


@dataclass
class _Ctx:
    language: str
    fields: list[Field] = field(default_factory=list)
    taken: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def free(self, line: _Line, start: int, end: int) -> bool:
        return all(e <= start or s >= end for s, e in self.taken.get(line.index, []))

    def add(self, line: _Line, ftype: str, value: str, start: int, end: int, factor: float,
            **extra: Any) -> None:
        box, conf = line.span(start, end)
        raw = _raw_of(line, start, end)
        self.fields.append(Field(type=ftype, value=value, raw=raw,
                                 confidence=max(0.0, min(1.0, conf * factor)), box=box,
                                 line=line.index, **extra))
        self.taken.setdefault(line.index, []).append((start, end))


def _raw_of(line: _Line, start: int, end: int) -> str:
    """The words under the span as OCR read them (Persian digits, ٬ and all)."""
    hit = [i for i, t in enumerate(line.tokens) if t.start < end and t.end > start]
    raw_words = line.raw.split(" ")
    if hit and len(raw_words) == len(line.tokens):
        if len(hit) == 1:
            tok = line.tokens[hit[0]]
            word = raw_words[hit[0]]
            if len(word) == tok.end - tok.start:  # 1:1 characters: cut the word exactly
                return word[start - tok.start : end - tok.start]
        return " ".join(raw_words[i] for i in hit)
    return line.text[start:end]


def _extract_ids(line: _Line, nxt: _Line | None, ctx: _Ctx) -> None:
    for m in _MPESA_RE.finditer(line.text):
        if ctx.free(line, m.start(1), m.end(1)):
            ctx.add(line, "transaction_id", m.group(1).upper(), m.start(1), m.end(1), 1.0)
    alone = _MPESA_ALONE_RE.match(line.text)
    if alone and nxt is not None and _MPESA_NEXT_RE.match(nxt.text) \
            and ctx.free(line, alone.start(1), alone.end(1)):
        ctx.add(line, "transaction_id", alone.group(1).upper(), alone.start(1), alone.end(1), 1.0)
    label_ends = [(m.end(), 1.0) for m in _ID_LABEL_RE.finditer(line.text)]
    if not label_ends:
        label_ends = [(m.end(), 0.8) for m in _LABEL_BEFORE_VALUE_RE.finditer(line.text)
                      if _near_id_label(m.group("label"))]
    for label_end, label_factor in label_ends:
        _extract_labelled_id(line, nxt, ctx, label_end, label_factor)


def _near_id_label(text: str) -> bool:
    """Whether the last words of `text` are one of `_FUZZY_ID_LABELS` with at most one
    letter added, dropped or changed; or, as long as the label, with one letter changed
    and another one's dots ("شماره بیخیری" for "شماره پیگیری", DejaVu Sans). Not more:
    "شماره شبا" (an IBAN) is a letter and two letters' dots from "شماره سند", and
    "رقم الجوال" (a phone) a letter's dots and a letter short of "رقم الحواله"."""
    words = text.lower().split()
    for label in _FUZZY_ID_LABELS:
        tail = " ".join(words[-len(label.split()):])
        changes = Levenshtein.distance(tail, label, score_cutoff=2)
        if changes <= 1 or (changes == 2 and len(tail) == len(label) and Levenshtein.distance(
                _dotless_key(tail), _dotless_key(label), score_cutoff=1) <= 1):
            return True
    return False


def _extract_labelled_id(line: _Line, nxt: _Line | None, ctx: _Ctx, label_end: int,
                         label_factor: float) -> None:
    """The id after an id label that ends at `label_end` of `line` (or on the next line,
    when the label ends this one)."""
    vm = _ID_VALUE_RE.match(line.text, label_end)
    target, factor = line, label_factor
    if vm is None and (noise := _ID_NOISE_RE.match(line.text, label_end)):
        vm = _ID_VALUE_RE.match(line.text, noise.end())
        factor = 0.8 * label_factor
    if vm is None and nxt is not None and label_end >= len(line.text.rstrip()):
        vm = _ID_VALUE_RE.match(nxt.text)
        target, factor = nxt, 0.9 * label_factor
    if vm is None:
        return
    start, end = vm.start(), vm.end()
    # The id is the run of code-like tokens (digits or capitals); a plain word ends it
    # (the sentence goes on), and a plain word first means the label was just a word.
    chunks = []
    for tok in target.text[start:end].split(" "):
        if not (any(c.isdigit() for c in tok) or tok.isupper()):
            break
        chunks.append(tok)
    end = start + len(" ".join(chunks))
    value = "".join(chunks).upper()
    if len(value) >= 4 and any(c.isdigit() for c in value) and ctx.free(target, start, end):
        ctx.add(target, "transaction_id", value, start, end, factor)


def _extract_cards(line: _Line, ctx: _Ctx) -> None:
    text = line.text.replace("x", "*").replace("X", "*").replace("•", "*").replace("٭", "*")
    for m in _CARD_RE.finditer(text):
        if not ctx.free(line, m.start(), m.end()):
            continue
        value = "-".join(m.groups())
        masked = "*" in value
        ctx.add(line, "card", value, m.start(), m.end(), 1.0 if masked or len(value) == 19 else 0.9)


def _ymd_date(y: int, mo: int, d: int, language: str) -> tuple[dt.date, bool] | None:
    """(date, whether Solar Hijri) of a year, month and day: a Solar Hijri year on a
    Persian page, else a Gregorian one from 1900 to 2100."""
    solar = _is_solar_year(y, language)
    if not solar and not 1900 <= y <= 2100:
        return None
    date = parse_date(y, mo, d, solar=solar)
    return (date, solar) if date else None


def _dmy_date(a: int, b: int, y: int, language: str) -> tuple[dt.date, bool] | None:
    """`_ymd_date` of a day and month in either order and a year."""
    d, mo = (a, b) if b <= 12 else (b, a)
    return _ymd_date(y, mo, d, language)


def _extract_dates(line: _Line, ctx: _Ctx) -> None:
    text = line.text
    found: list[tuple[int, int, dt.date, bool, float]] = []  # ..., solar, confidence
    for m in _DATE_YMD_RE.finditer(text):
        dated = _ymd_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), ctx.language)
        if dated:
            found.append((m.start(), m.end(), *dated, 1.0))
    for m in _DATE_DMY_RE.finditer(text):
        if len(m.group(4)) == 2 and m.group(2) == "-":
            continue  # "1-9-36" is more often OCR noise than a date; M-Pesa writes 1/9/26
        dated = _dmy_date(int(m.group(1)), int(m.group(3)), _year(m.group(4)), ctx.language)
        if dated:
            found.append((m.start(), m.end(), *dated, 1.0))
    for m in _LABELLED_DATE_RE.finditer(text):
        y = int(m.group("y"))
        dated = _dmy_date(int(m.group("d1") or m.group("d2")),
                          int(m.group("m1") or m.group("m2")), y, ctx.language)
        if dated and _in_proof_years(y, "solar" if dated[1] else "gregorian"):
            found.append((m.start("d1") if m.group("d1") else m.start("d2"), m.end("y"),
                          *dated, 0.8))
    for m in _DATE_DMONY_RE.finditer(text):
        month, cal = _MONTHS[m.group(2).lower()]
        date = parse_date(int(m.group(3)), month, int(m.group(1)), solar=cal == "j")
        if date:
            found.append((m.start(), m.end(), date, cal == "j", 1.0))
    for m in _DATE_MONDY_RE.finditer(text):
        month, cal = _MONTHS[m.group(1).lower()]
        date = parse_date(int(m.group(3)), month, int(m.group(2)), solar=cal == "j")
        if date:
            found.append((m.start(), m.end(), date, cal == "j", 1.0))
    for start, end, date, solar, confidence in sorted(found):
        if not _in_proof_years(date.year, "gregorian"):
            confidence *= IMPROBABLE_YEAR  # reported as printed, trusted less
        if ctx.free(line, start, end):
            ctx.add(line, "date", date.isoformat(), start, end, confidence,
                    role="solar_hijri" if solar else None)


def _extract_times(line: _Line, ctx: _Ctx) -> None:
    for m in _TIME_RE.finditer(line.text):
        if not ctx.free(line, m.start(), m.end()):
            continue
        hour, minute = int(m.group(1)), int(m.group(2))
        ampm = (m.group("ampm") or "").lower().replace(".", "")
        if ampm in ("pm", "بظ", "م") and hour < 12:
            hour += 12
        elif ampm in ("am", "قظ", "ص") and hour == 12:
            hour = 0
        ctx.add(line, "time", f"{hour:02d}:{minute:02d}", m.start(), m.end(), 1.0)
    for m in _LABELLED_TIME_RE.finditer(line.text):
        if ctx.free(line, m.start("h"), m.end("m")):
            ctx.add(line, "time", f"{int(m.group('h')):02d}:{m.group('m')}", m.start("h"),
                    m.end("m"), 0.8)


def _extract_phones(line: _Line, ctx: _Ctx) -> None:
    for m in _PHONE_RE.finditer(line.text):
        if not ctx.free(line, m.start(), m.end()):
            continue
        raw = m.group(0)
        digits = re.sub(r"\D", "", raw)
        if not 9 <= len(digits) <= 15:
            continue
        value = ("+" + digits) if raw.startswith("+") else digits
        ctx.add(line, "phone", value, m.start(), m.end(), 1.0)


def _amount_role(text: str) -> str:
    if _BALANCE_RE.search(text):
        return "balance"
    if _FEE_RE.search(text):
        return "fee"
    return "amount"


def _currency(token: str, language: str, context: str) -> str:
    code = _CUR_MAP.get(_dotless_key(normalize_text(token).lower()), "")
    if code == "IRR" and (language == "ara" or "سعود" in context):
        return "SAR"
    return code


def _extract_amounts(line: _Line, nxt: _Line | None, ctx: _Ctx, default_cur: str | None) -> None:
    text = line.text
    for regex in (_AMOUNT_AFTER_RE, _AMOUNT_BEFORE_RE):
        for m in regex.finditer(text):
            start, end = m.start("num"), m.end("num")
            num, lead = m.group("num"), m.groupdict().get("lead")
            if lead:
                start = m.start("lead")
                num = (lead.strip() if lead[0].isdigit() else "1") + num
            if not ctx.free(line, start, end):
                continue
            parsed = parse_amount(num)
            if parsed is None:
                continue
            value, factor = parsed
            if lead:
                factor *= _MISREAD_LEAD_FACTOR
            # The role comes from the words before the amount on its line, so that a
            # message holding both the amount and the balance labels each correctly.
            before = text[max(0, start - 40) : start]
            ctx.add(line, "amount", value, min(m.start(), start), max(m.end(), end), factor,
                    currency=_currency(m.group("cur"), ctx.language, text),
                    role=_amount_role(before) if before.strip() else _amount_role(text))
    for m in _AMOUNT_LABEL_RE.finditer(text):
        target, pos, factor = line, m.end(), 0.9
        nm = _BARE_NUM_RE.match(text, pos)
        if nm is None and nxt is not None and m.end() >= len(text.rstrip()):
            target, pos, factor = nxt, 0, 0.8
            nm = _BARE_NUM_RE.match(nxt.text, 0)
        if nm is None or not ctx.free(target, nm.start(), nm.end()):
            continue
        parsed = parse_amount(nm.group("num"))
        if parsed is None:
            continue
        value, f2 = parsed
        ctx.add(target, "amount", value, nm.start(), nm.end(), factor * f2,
                currency=default_cur, role=_amount_role(text[: m.end()]))


def _extract_names(line: _Line, nxt: _Line | None, ctx: _Ctx) -> None:
    text = line.text
    for m in _NAME_LABEL_RE.finditer(text):
        label = m.group("payer") or m.group("payee")
        if not label:
            continue
        if label.lower() in _SHORT_LABELS and not m.group("colon"):
            continue
        role = "payer" if m.group("payer") else "payee"
        target, start, factor = line, m.end(), 0.9
        if start >= len(text.rstrip()) and nxt is not None and m.group("colon"):
            target, start, factor = nxt, 0, 0.8
        rest = target.text[start:]
        stop = _NAME_STOP_RE.search(rest)
        name = rest[: stop.start() if stop else len(rest)].strip(" :-.")
        words = name.split()
        if not words or len(words) > 5 or not any(ch.isalpha() for ch in name):
            continue
        if len(name) < 3:
            continue
        end = start + rest.find(name) + len(name)
        begin = end - len(name)
        if ctx.free(target, begin, end):
            ctx.add(target, "name", " ".join(words), begin, end, factor, role=role)


def _extract(lines: list[_Line], language: str) -> list[Field]:
    ctx = _Ctx(language=language)
    default_cur = _document_currency(lines, language)
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        _extract_ids(line, nxt, ctx)
        _extract_cards(line, ctx)
        _extract_dates(line, ctx)
        _extract_times(line, ctx)
        _extract_amounts(line, nxt, ctx, default_cur)
        _extract_phones(line, ctx)
        _extract_names(line, nxt, ctx)
    order = {t: i for i, t in enumerate(FIELD_TYPES)}
    return sorted(ctx.fields, key=lambda f: (f.line, order[f.type]))


def _document_currency(lines: list[_Line], language: str) -> str | None:
    """The currency written somewhere on the receipt: used for amounts given bare."""
    for line in lines:
        for regex in (_AMOUNT_AFTER_RE, _AMOUNT_BEFORE_RE):
            m = regex.search(line.text)
            if m:
                return _currency(m.group("cur"), language, line.text) or None
    return None


def extract_fields(ocr: OcrResult) -> list[Field]:
    """All fields found in an OCR result, in reading order.

    Fields on a phone's status bar (the clock) get role "status_bar": they say when
    the screenshot was taken, not what the receipt says.
    """
    language = ocr.languages[0] if ocr.languages else guess_language(ocr.text)
    lines = [
        _make_line(((w.text, w.box, w.confidence) for w in ln.words), i)
        for i, ln in enumerate(ocr.lines)
    ]
    fields = _extract(lines, language)
    if ocr.lines and ocr.width and ocr.height \
            and in_status_bar(ocr.lines[0].box[1], ocr.width, ocr.height):
        for f in fields:
            if f.line == 0 and f.type in ("time", "date"):
                f.role = "status_bar"
    return fields


def extract_fields_from_text(text: str, language: str | None = None) -> list[Field]:
    """The same rules over plain text (one line per line, no boxes, confidence 1)."""
    lang = language or guess_language(text)
    lines = [
        _make_line(((w, None, 1.0) for w in raw.split()), i)
        for i, raw in enumerate(text.splitlines())
    ]
    return _extract(lines, lang)


def primary(fields: list[Field], ftype: str) -> Field | None:
    """The field a reader would call "the" amount/date/id of a receipt.

    For amounts: the first one that is not a fee or a balance; never the status bar.
    """
    for f in fields:
        if f.type == ftype and f.role in (None, "amount", "solar_hijri"):
            return f
    return next((f for f in fields if f.type == ftype and f.role != "status_bar"), None)

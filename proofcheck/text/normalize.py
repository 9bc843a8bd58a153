"""Text normalisation for OCR output in Persian, Arabic and Latin scripts.

Field extraction runs regular expressions over one canonical form: ASCII digits,
Persian letter forms, no bidi controls, ASCII separators. Keeping the canonicalisation
here, in one place, means every rule in `fields.py` can be written once for all five
languages.
"""

from __future__ import annotations

import re
import unicodedata

# U+06F0..U+06F9 (Persian) and U+0660..U+0669 (Arabic-Indic) are different code
# points with mostly identical glyphs; a receipt may mix them after OCR.
_DIGITS = {ord("۰") + i: str(i) for i in range(10)}
_DIGITS.update({ord("٠") + i: str(i) for i in range(10)})

THOUSANDS_SEP = "\u066c"  # ٬ Arabic thousands separator
DECIMAL_SEP = "\u066b"  # ٫ Arabic decimal separator
ARABIC_COMMA = "\u060c"  # ،
ZWNJ = "\u200c"

# Bidi controls carry no meaning for extraction and break regexes (Tesseract emits
# LRM/RLM around numbers inside right-to-left lines).
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"),
    None,
)

_LETTERS = {
    ord("ي"): "ی",  # Arabic yeh -> Persian yeh
    ord("ى"): "ی",  # alef maksura: OCR confuses it with final yeh
    ord("ك"): "ک",  # Arabic kaf -> Persian keheh
    ord("ۀ"): "ه",
    # Teh marbuta: the Persian model reads it as heh about half the time ("العملیه").
    ord("ة"): "ه",
}

_SEPARATORS = {
    ord(THOUSANDS_SEP): ",",
    ord(DECIMAL_SEP): ".",
    ord(ARABIC_COMMA): ",",
    ord("\u066a"): "%",  # ٪
    ord("\u00a0"): " ",  # no-break space: Polish thousands grouping
    ord("\u202f"): " ",  # narrow no-break space: same, newer locales
    ord("\u2009"): " ",
    ord("\u2212"): "-",  # minus sign
    ord("\u2013"): "-",
    ord("\u2014"): "-",
    ord("\u061b"): ";",  # ؛
    ord("\u061f"): "?",  # ؟
}

_TATWEEL = dict.fromkeys([ord("\u0640")], None)
# Harakat are optional marks; OCR adds or drops them at random.
_HARAKAT_RE = re.compile("[\u064b-\u0652\u0670]")
_SPACES_RE = re.compile(r"[ \t]+")

_ARABIC_SCRIPT_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")


def to_ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII; everything else unchanged."""
    return text.translate(_DIGITS)


def strip_bidi(text: str) -> str:
    return text.translate(_BIDI_CONTROLS)


def unify_letters(text: str) -> str:
    """Arabic yeh/kaf to their Persian forms, tatweel and harakat dropped.

    Labels are matched in one spelling whichever keyboard or OCR model produced them.
    """
    return _HARAKAT_RE.sub("", text.translate(_TATWEEL).translate(_LETTERS))


def normalize_text(text: str, *, zwnj_to_space: bool = True) -> str:
    """The canonical form used by field extraction.

    NFKC folds presentation forms (Tesseract sometimes returns U+FExx glyph codes),
    then digits become ASCII, Arabic separators become ASCII punctuation, bidi
    controls go, ZWNJ becomes a space so that "می‌شود" and "می شود" tokenise alike.
    """
    out = unicodedata.normalize("NFKC", text)
    out = strip_bidi(out)
    out = unify_letters(out)
    out = to_ascii_digits(out)
    out = out.translate(_SEPARATORS)
    if zwnj_to_space:
        out = out.replace(ZWNJ, " ")
    return _SPACES_RE.sub(" ", out)


def script_counts(text: str) -> dict[str, int]:
    """Letters per script: the basis of language choice for OCR."""
    return {
        "arabic": len(_ARABIC_SCRIPT_RE.findall(text)),
        "latin": len(_LATIN_RE.findall(text)),
    }


def has_arabic_script(text: str) -> bool:
    return _ARABIC_SCRIPT_RE.search(text) is not None


# ---------------------------------------------------------------- language guess

_ARABIC_WORDS = ("تم ", "رقم", "العملية", "المبلغ", "التاريخ", "إلى", "درهم", "جنيه",
                 "سعودي", "الحساب", "المرسل", "المستفيد", "تحويل")
_PERSIAN_LETTERS = set("پچژگ")
_PERSIAN_WORDS = ("ریال", "تومان", "پیگیری", "رهگیری", "شماره", "کارت", "ساعت", "واریز")
_POLISH_WORDS = ("zł", "zl ", "zt ", "pln", "przelew", "kwota", "odbiorca", "nadawca", "tytuł",
                 "tytul", "transakcji", "dnia", "rachunek", "blik", "płatno", "platno",
                 "konta", "wykonany", "zlecenia")
_POLISH_LETTERS = set("ąćęłńśźżĄĆĘŁŃŚŹŻ")
_SWAHILI_WORDS = ("imetumwa", "umepokea", "salio", "tarehe", "muamala", "kutoka", "kwa ",
                  "jumla", "imethibitishwa", "gharama", "kiasi", "asante", "saa ",
                  "umetuma", "thibitisha", "mpya", "namba")


def choose_arabic_language(text: str) -> str:
    """"fas" or "ara" for Arabic-script text, from letters and words only one uses."""
    norm = text.replace("ي", "ی").replace("ك", "ک")
    persian = sum(ch in _PERSIAN_LETTERS for ch in norm)
    persian += 3 * sum(norm.count(w) for w in _PERSIAN_WORDS)
    arabic = 2 * sum(text.count(w) for w in _ARABIC_WORDS) + 2 * text.count("ة")
    # The article starts a word: inside one, "ال" is as Persian as "انتقال" and "ریال"
    # (a Persian receipt whose "ریال" was read "ربال" had come out Arabic on them).
    arabic += 2 * sum(word.startswith("ال") for word in text.split())
    return "ara" if arabic > persian else "fas"


def choose_latin_language(text: str) -> str:
    """"pol", "swa" or "eng" for Latin-script text, from diacritics and common words."""
    low = text.lower() + " "
    polish = 3 * sum(ch in _POLISH_LETTERS for ch in text)
    polish += 2 * sum(low.count(w) for w in _POLISH_WORDS)
    swahili = 2 * sum(low.count(w) for w in _SWAHILI_WORDS)
    if polish >= 4 and polish >= swahili:
        return "pol"
    if swahili >= 4:
        return "swa"
    return "eng"


def guess_language(text: str) -> str:
    """A Tesseract language code for text of unknown language."""
    counts = script_counts(text)
    if counts["arabic"] > counts["latin"]:
        return choose_arabic_language(text)
    return choose_latin_language(text)

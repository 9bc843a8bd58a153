"""Normalisation of Persian, Arabic and Latin OCR text (no OCR involved)."""

from __future__ import annotations

import pytest

from proofcheck.text.normalize import (
    guess_language,
    has_arabic_script,
    normalize_text,
    script_counts,
    strip_bidi,
    to_ascii_digits,
    unify_letters,
)


def test_persian_and_arabic_indic_digits_become_ascii() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("۱۴۰۳/٠٨/15") == "1403/08/15"


def test_arabic_separators_become_ascii_punctuation() -> None:
    # ٬ thousands, ٫ decimal, ، comma
    assert normalize_text("۱٬۲۵۰٫۵۰") == "1,250.50"
    assert normalize_text("الف، ب") == "الف, ب"


def test_arabic_letter_forms_unified_to_persian() -> None:
    assert unify_letters("علي كريمي") == "علی کریمی"
    # Teh marbuta folds to heh: OCR confuses them, labels must match either way.
    assert normalize_text("رقم العملية") == "رقم العملیه"


def test_zwnj_becomes_space_and_bidi_marks_go() -> None:
    assert normalize_text("می\u200cشود") == "می شود"
    assert normalize_text("\u200f۱۲۳\u200e") == "123"
    assert strip_bidi("\u2066abc\u2069") == "abc"


def test_presentation_forms_folded() -> None:
    # U+FEE3 U+FEA4 U+FEE4 U+FEAA: "محمد" as isolated/initial/medial/final glyph codes
    assert normalize_text("\ufee3\ufea4\ufee4\ufeaa") == "محمد"


def test_no_break_spaces_kept_as_spaces_for_polish_grouping() -> None:
    assert normalize_text("1\u00a0234,56\u202fzł") == "1 234,56 zł"


def test_script_counts_and_detection() -> None:
    assert has_arabic_script("مبلغ 12")
    assert not has_arabic_script("Kwota 12 zł")
    counts = script_counts("abc مبلغ")
    assert counts == {"arabic": 4, "latin": 3}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("شماره پیگیری ۱۲۳ مبلغ ۱۰۰ ریال", "fas"),
        # No Persian letter, its "ریال" misread: "ال" inside words is no article.
        ("انتقال کارت به کارت مبلغ: ۴۴۳۸۰٬۰۰۰ ربال تاریخ: ۱۴۰۲/۰۶/۱۹ شماره مرجع: ۹۰۰۵", "fas"),
        ("السلام عليكم تم تحويل ۶۰٬۲۲۸ درهم بتاريخ ۰۳/۰۱/۲۰۲۳ رقم العملية: ۲۰۷۱", "ara"),
        ("تم التحويل بنجاح رقم العملية ١٢٣ المبلغ", "ara"),
        ("Przelew wykonany. Kwota 12,50 zł, odbiorca Jan", "pol"),
        ("Imethibitishwa. Tsh5,000 imetumwa kwa ASHA tarehe 1/2/24 saa 10:00", "swa"),
        ("Confirmed. Ksh1,000.00 sent to JOHN DOE on 1/2/24", "eng"),
    ],
)
def test_guess_language(text: str, lang: str) -> None:
    assert guess_language(text) == lang

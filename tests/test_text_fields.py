"""Field extraction rules over plain text, in all five languages, and the cross-post
text rules built on them (no OCR involved)."""

from __future__ import annotations

import json

import pytest

from proofcheck.text.fields import (
    Field,
    extract_fields_from_text,
    is_currency_word,
    is_field_word,
    parse_amount,
    possible_date,
    primary,
)
from proofcheck.text.similarity import (
    MessageIndex,
    jaccard,
    mask_message,
    reused_transaction_ids,
    shared_transaction_ids,
    signature,
    signature_similarity,
)


def _one(fields: list[Field], ftype: str) -> Field:
    found = [f for f in fields if f.type == ftype]
    assert found, f"no {ftype} in {[f.to_dict() for f in fields]}"
    return found[0]


PERSIAN_RECEIPT = "\n".join(
    [
        "رسید انتقال وجه",
        "مبلغ: ۱٬۲۵۰٬۰۰۰ ریال",
        "تاریخ: ۱۴۰۳/۰۸/۱۵",
        "ساعت: ۱۴:۳۵",
        "شماره پیگیری: ۴۵۸۲۱۹۳۷",
        "از: علی رضایی",
        "به: مریم احمدی",
        "کارت مقصد: ۶۰۳۷-۹۹**-****-۱۲۳۴",
        "موبایل: ۰۹۱۲ ۳۴۵ ۶۷۸۹",
    ]
)


def test_persian_receipt_fields() -> None:
    fields = extract_fields_from_text(PERSIAN_RECEIPT)
    amount = _one(fields, "amount")
    assert (amount.value, amount.currency, amount.raw) == ("1250000", "IRR", "۱٬۲۵۰٬۰۰۰ ریال")
    date = _one(fields, "date")
    # 15 Aban 1403 is 5 November 2024; the Solar Hijri original stays in raw.
    assert (date.value, date.raw, date.role) == ("2024-11-05", "۱۴۰۳/۰۸/۱۵", "solar_hijri")
    assert _one(fields, "time").value == "14:35"
    assert _one(fields, "transaction_id").value == "45821937"
    names = {f.role: f.value for f in fields if f.type == "name"}
    assert names == {"payer": "علی رضایی", "payee": "مریم احمدی"}
    assert _one(fields, "card").value == "6037-99**-****-1234"
    assert _one(fields, "phone").value == "09123456789"


def test_toman_and_tracking_code_label() -> None:
    fields = extract_fields_from_text("مبلغ ۵۰۰٬۰۰۰ تومان واریز شد\nکد رهگیری: ۹۸۷۶۵۴۳۲۱۰۱۲")
    amount = _one(fields, "amount")
    assert (amount.value, amount.currency) == ("500000", "IRT")
    assert _one(fields, "transaction_id").value == "987654321012"


def test_solar_hijri_date_with_month_name() -> None:
    date = _one(extract_fields_from_text("تاریخ: ۱۵ آبان ۱۴۰۳"), "date")
    assert date.value == "2024-11-05"


def test_impossible_solar_date_is_not_reported() -> None:
    assert not [f for f in extract_fields_from_text("تاریخ: ۱۴۰۳/۱۳/۴۰") if f.type == "date"]


def test_a_date_no_proof_can_carry_is_reported_with_less_confidence() -> None:
    # Homa's ۴ read ۳ (bench/signals.py seed 20261214): "۱۴۰۲" became "۱۳۰۲", 1923.
    misread = _one(extract_fields_from_text("تاریخ: ۱۳۰۲/۱۰/۰۲"), "date")
    assert misread.value == "1923-12-24" and misread.confidence <= 0.5
    printed = _one(extract_fields_from_text("تاریخ: ۱۴۰۲/۱۰/۰۲"), "date")
    assert printed.value == "2023-12-23" and printed.confidence == 1.0


def test_mpesa_english_confirmation() -> None:
    text = (
        "SKL4ABC12D Confirmed. Ksh1,500.00 sent to JOHN DOE 0712345678 on 12/3/24 at "
        "10:15 PM. New M-PESA balance is Ksh2,300.00. Transaction cost, Ksh23.00."
    )
    fields = extract_fields_from_text(text)
    assert _one(fields, "transaction_id").value == "SKL4ABC12D"
    amounts = [(f.value, f.currency, f.role) for f in fields if f.type == "amount"]
    assert amounts == [
        ("1500.00", "KES", "amount"),
        ("2300.00", "KES", "balance"),
        ("23.00", "KES", "fee"),
    ]
    assert primary(fields, "amount") is not None
    assert primary(fields, "amount").value == "1500.00"  # type: ignore[union-attr]
    assert _one(fields, "date").value == "2024-03-12"
    assert _one(fields, "time").value == "22:15"
    assert _one(fields, "name").value == "JOHN DOE"
    assert _one(fields, "phone").value == "0712345678"


def test_mpesa_swahili_tanzania() -> None:
    text = (
        "8K23ABC45X Imethibitishwa. Umepokea TSh 50,000 kutoka kwa ASHA JUMA 0754123456 "
        "tarehe 23/11/2026 saa 14:05"
    )
    fields = extract_fields_from_text(text)
    assert _one(fields, "transaction_id").value == "8K23ABC45X"
    amount = _one(fields, "amount")
    assert (amount.value, amount.currency) == ("50000", "TZS")
    assert _one(fields, "date").value == "2026-11-23"
    name = _one(fields, "name")
    assert (name.value, name.role) == ("ASHA JUMA", "payer")


def test_mpesa_code_alone_on_its_line_in_a_narrow_bubble() -> None:
    text = "QMX18IREM7\nImethibitishwa.\nKsh52,108.00 imetumwa\nkwa JUMA BAKARI"
    assert _one(extract_fields_from_text(text), "transaction_id").value == "QMX18IREM7"
    # A code-like word alone on a line is not an M-Pesa code without the confirmation.
    plain = extract_fields_from_text("QMX18IREM7\nKsh52,108.00 imetumwa")
    assert not [f for f in plain if f.type == "transaction_id"]


def test_polish_transfer() -> None:
    text = "\n".join(
        [
            "Potwierdzenie przelewu",
            "Kwota: 1 234,56 zł",
            "Data: 23.11.2026",
            "Nr transakcji: PL 2026 1123 0045",
            "Odbiorca: Jan Kowalski",
            "Tel. +48 512 345 678",
        ]
    )
    fields = extract_fields_from_text(text)
    amount = _one(fields, "amount")
    assert (amount.value, amount.currency) == ("1234.56", "PLN")
    assert _one(fields, "date").value == "2026-11-23"
    assert _one(fields, "transaction_id").value == "PL202611230045"
    assert _one(fields, "name").value == "Jan Kowalski"
    assert _one(fields, "phone").value == "+48512345678"


def test_polish_date_with_month_name() -> None:
    assert _one(extract_fields_from_text("dnia 5 listopada 2026"), "date").value == "2026-11-05"


def test_arabic_transfer_with_arabic_indic_digits() -> None:
    text = "\n".join(
        [
            "تم التحويل بنجاح",
            "المبلغ: ١٬٢٥٠٫٥٠ ريال سعودي",
            "التاريخ: ٢٣/١١/٢٠٢٦",
            "رقم العملية: ٩٨٧٦٥٤٣٢١٠",
            "إلى: محمد العتيبي",
        ]
    )
    fields = extract_fields_from_text(text)
    amount = _one(fields, "amount")
    assert (amount.value, amount.currency) == ("1250.50", "SAR")
    assert _one(fields, "date").value == "2026-11-23"
    assert _one(fields, "transaction_id").value == "9876543210"
    assert _one(fields, "name").role == "payee"


@pytest.mark.parametrize(
    ("text", "currency"),
    [("تم تحويل 250 درهم", "AED"), ("تم تحويل 250 جنيه", "EGP"), ("Paid €12.50", "EUR"),
     ("Amount: $1,250.00", "USD")],
)
def test_currencies(text: str, currency: str) -> None:
    assert _one(extract_fields_from_text(text), "amount").currency == currency


def test_ids_are_upper_cased_and_a_plain_word_after_a_label_is_no_id() -> None:
    assert _one(extract_fields_from_text("Ref: tx9f3k2"), "transaction_id").value == "TX9F3K2"
    fields = extract_fields_from_text("Gharama ya muamala ni Ksh0.00.")
    assert not [f for f in fields if f.type == "transaction_id"]


def test_a_label_read_with_dots_lost_or_added_is_still_a_label() -> None:
    """The Persian model drops and adds letters' dots ("بیگیری" for "پیگیری") and reads a
    colon as "؛": the id is still found after such a label. A label with fewer than
    three dotted letters stays exact ("ار:" is no "از:")."""
    fields = extract_fields_from_text("شماره بیگیری؛ ۳۲۱۵۶۳۸۹۳۶۱۲", "fas")
    assert _one(fields, "transaction_id").value == "321563893612"
    fields = extract_fields_from_text("کد رهکیری: ۱۶۹۱۷۷۵۰۳۶۶۷", "fas")
    assert _one(fields, "transaction_id").value == "169177503667"
    assert not extract_fields_from_text("ار: رضا حسینی", "fas")
    assert [f.role for f in extract_fields_from_text("از: رضا حسینی", "fas")] == ["payer"]


def test_label_and_currency_words_are_known_as_such() -> None:
    """OCR keeps these out of the numbers beside them: labels with their colon, loose
    endings as the models read them ("العملیع"), each word of a two-word currency."""
    known = ["ریال", "ربال", "تومان", "مبلغ:", "تاریخ", "بتاريخ", "العملیع", "سعودي", "Kwota:",
             "Ksh", "zł", "Amount", "Date:"]
    assert all(is_field_word(w) for w in known), [w for w in known if not is_field_word(w)]
    assert not any(is_field_word(w) for w in ("ب", "۵۶", "عع!ب", "12,000", "B60UFPBMS7", ""))


def test_english_receipt_dates() -> None:
    fields = extract_fields_from_text("Date: Nov 3, 2026\nTransaction ID: TXN8F3K2L9Q")
    assert _one(fields, "date").value == "2026-11-03"
    assert _one(fields, "transaction_id").value == "TXN8F3K2L9Q"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,250,000", "1250000"),
        ("1 234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,250.00", "1250.00"),
        ("12,50", "12.50"),
        ("1250", "1250"),
        ("0012", "12"),
    ],
)
def test_parse_amount_formats(raw: str, value: str) -> None:
    parsed = parse_amount(raw)
    assert parsed is not None
    assert parsed == (value, 1.0)


def test_separator_read_as_digit_is_repaired_with_lower_confidence() -> None:
    # "۱٬۲۵۰٬۰۰۰" where OCR read the second ٬ as a digit: 1,2508000.
    value, factor = parse_amount("1,2508000")  # type: ignore[misc]
    assert value == "1250000"
    assert factor <= 0.5
    fields = extract_fields_from_text("مبلغ: ۱٬۲۵۰۸۰۰۰ ریال")
    assert _one(fields, "amount").confidence <= 0.5


def test_a_lost_decimal_mark_is_read_from_a_last_group_of_five() -> None:
    # "۶۹٬۸۸۶٫۵۲" where the re-read lost the small ٫ (Homa, after a 70% downscale).
    value, factor = parse_amount("69,88652")  # type: ignore[misc]
    assert value == "69886.52"
    assert factor <= 0.5
    amount = _one(extract_fields_from_text("تم تحويل ۶۹٬۸۸۶۵۲ ريال سعودي"), "amount")
    assert (amount.value, amount.currency) == ("69886.52", "SAR")
    assert amount.confidence <= 0.5
    assert parse_amount("1,2345") == ("12345", 0.2)  # four digits: no such reading


@pytest.mark.parametrize(("text", "lang", "value", "currency"), [
    ("تم تحويل ۵۳٬۰۰۹/۴۷ ريال سعودي", "ara", "53009.47", "SAR"),
    ("المبلغ: ۳۰٬۱۴۰/۴۳ درهم", "ara", "30140.43", "AED"),
    ("مبلغ ۱٬۲۵۰٬۰۰۰/۵ ریال", "fas", "1250000.5", "IRR"),
])
def test_a_decimal_mark_drawn_as_a_slash_after_thousands_groups(text: str, lang: str,
                                                                 value: str,
                                                                 currency: str) -> None:
    """Vazirmatn and Samim draw ٫ as a slash, and OCR reads "/": after thousands groups
    it is the decimal mark (it took the whole amount to "47")."""
    amount = _one(extract_fields_from_text(text, lang), "amount")
    assert (amount.value, amount.currency, amount.confidence) == (value, currency, 1.0)


def test_a_slash_without_thousands_groups_is_no_decimal_mark() -> None:
    fields = extract_fields_from_text("تاریخ: ۱۴۰۲/۰۵/۱۲\nمبلغ ۱۲/۵۰ ریال", "fas")
    assert _one(fields, "date").value == "2023-08-03"
    assert _one(fields, "amount").value == "50"
    assert parse_amount("12/50") is None
    assert parse_amount("53,009/47") == ("53009.47", 1.0)


@pytest.mark.parametrize(("text", "value"), [
    ("بتاريخ 04/022024", "2024-02-04"),   # Sahel Bold: the second slash lost
    ("بتاريخ 0207/2023", "2023-07-02"),   # Samim Bold: the first one
    ("التاريخ: ١٦/٠٦٢٠٢٤", "2024-06-16"),
])
def test_a_labelled_date_that_lost_one_separator(text: str, value: str) -> None:
    date = _one(extract_fields_from_text(text, "ara"), "date")
    assert (date.value, date.confidence) == (value, 0.8)


@pytest.mark.parametrize("text", ["تم تحويل 04/022024", "الوقت 12/122024", "Date 1234/5678",
                                  "Date 31/132024", "بتاريخ 04/021445"])
def test_a_date_short_of_a_separator_needs_its_label_and_a_real_day(text: str) -> None:
    # 1445 on an Arabic page is a lunar Hijri year, which is not converted: no date.
    assert not [f for f in extract_fields_from_text(text, "ara") if f.type == "date"]


def test_unexplainable_grouping_gets_low_confidence_not_a_guess() -> None:
    value, factor = parse_amount("1,25,00")  # type: ignore[misc]
    assert factor < 0.5
    assert value == "125.00"  # as written, not "corrected" into another amount


def test_plain_numbers_without_currency_or_label_are_not_amounts() -> None:
    assert not [f for f in extract_fields_from_text("سفارش ۱۲۳۴۵ ارسال شد") if f.type == "amount"]


def test_bare_amount_after_label_takes_document_currency() -> None:
    fields = extract_fields_from_text("Kwota:\n250,00\nRazem 250,00 zł")
    amounts = [f for f in fields if f.type == "amount"]
    assert amounts[0].value == "250.00"
    assert all(f.currency == "PLN" for f in amounts)


def test_field_dict_shape_is_json_and_matches_api() -> None:
    fields = extract_fields_from_text(PERSIAN_RECEIPT)
    for f in fields:
        d = f.to_dict()
        assert {"type", "value", "raw", "confidence", "box"} <= set(d)
        assert d["type"] in ("amount", "date", "time", "transaction_id", "card", "name", "phone")
        assert 0.0 <= d["confidence"] <= 1.0
        if d["type"] == "amount":
            assert "currency" in d
    json.dumps([f.to_dict() for f in fields])


# ---------------------------------------------------------------- cross-post text rules

TEMPLATE = "سلام خانم {name} عزیز، سفارشتون به دستم رسید، واقعا عالی بود! مرسی بابت {n} تا کرم"


def test_mask_takes_out_names_and_numbers() -> None:
    a = mask_message(TEMPLATE.format(name="مریم", n="۲"), names=["مریم"])
    b = mask_message(TEMPLATE.format(name="زهرا", n="۳"), names=["زهرا"])
    assert a == b
    assert "_num_" in a and "_name_" in a


def test_same_message_under_different_names_is_similar() -> None:
    a = TEMPLATE.format(name="مریم", n="۲")
    b = TEMPLATE.format(name="زهرا", n="۳")
    assert jaccard(a, b, names=["مریم", "زهرا"]) == 1.0
    other = "کیفیت پارچه خوب نبود و دیر رسید، دیگه سفارش نمیدم"
    assert jaccard(a, other) < 0.2


def test_ocr_noise_keeps_similarity_high() -> None:
    a = "Thank you so much Anna, the parcel arrived today and the shoes fit perfectly!"
    b = "Thank you so rnuch Maria, the parcel arived today and the shoes fit perfectly!"
    assert jaccard(a, b, names=["Anna", "Maria"]) > 0.7


def test_signatures_are_plain_ints_and_estimate_similarity() -> None:
    a = signature(TEMPLATE.format(name="مریم", n="۲"), names=["مریم"])
    b = signature(TEMPLATE.format(name="زهرا", n="۵"), names=["زهرا"])
    c = signature("Przelew wykonany, dziękuję za zamówienie")
    assert all(isinstance(v, int) for v in a)
    assert signature_similarity(a, b) == 1.0
    assert signature_similarity(a, c) < 0.2


def test_message_index_finds_the_template_series() -> None:
    index = MessageIndex(threshold=0.7)
    names = ["مریم", "زهرا", "سارا", "نرگس"]
    for i, name in enumerate(names[:3]):
        index.add(f"c{i}", TEMPLATE.format(name=name, n=str(i + 1)), names=[name])
    index.add("other", "کیفیت پارچه خوب نبود و دیر رسید، دیگه سفارش نمیدم")
    hits = index.query(TEMPLATE.format(name="نرگس", n="۹"), names=["نرگس"])
    assert sorted(k for k, _ in hits) == ["c0", "c1", "c2"]
    assert len(index) == 4


def test_same_transaction_id_on_two_receipts() -> None:
    a = extract_fields_from_text("مبلغ: ۱٬۰۰۰٬۰۰۰ ریال\nشماره پیگیری: ۴۵۸۲۱۹۳۷")
    b = extract_fields_from_text("مبلغ: ۲٬۵۰۰٬۰۰۰ ریال\nکد رهگیری: 45821937")
    c = extract_fields_from_text("SKL4ABC12D Confirmed. Ksh1,500.00 sent to JOHN DOE")
    assert shared_transaction_ids(a, b) == {"45821937"}
    assert shared_transaction_ids(a, c) == set()
    # The API dict shape works too.
    dicts = {"c1": [f.to_dict() for f in a], "c2": [f.to_dict() for f in b],
             "c3": [f.to_dict() for f in c]}
    assert reused_transaction_ids(dicts) == {"45821937": ["c1", "c2"]}


@pytest.mark.parametrize("label", ["رقم العملية", "رقم العمليت", "رقم العملیع", "رقم العملی",
                                   "رقم العملیهة", "«قم العملیة", "قم العملية"])
def test_arabic_id_label_with_its_first_or_final_letter_misread(label: str) -> None:
    """The Arabic model often misreads or drops the final "ة" of "رقم العملية", and now
    and then its first letter."""
    fields = extract_fields_from_text(f"{label}: ۴۴۲۵۸۵۳۷۹۸۷۹")
    assert _one(fields, "transaction_id").value == "442585379879"
    # Not any word that starts the same way: the label still has to be there.
    bare = extract_fields_from_text("رقم ۴۴۲۵۸۵۳۷۹۸۷۹")
    assert not [f for f in bare if f.type == "transaction_id"]


def test_a_stray_mark_read_as_letters_between_an_id_label_and_its_number() -> None:
    """Homa's Arabic receipt: a mark before the id read as "سر". The id-long number
    after it is the id, less surely; a word after the label is still no id, nor a short
    number after a short word, nor a Latin word."""
    fields = extract_fields_from_text("رقم العملية: سر ۱۹۰۱۸۲۳۳۳۱۳۶")
    found = _one(fields, "transaction_id")
    assert found.value == "190182333136" and found.confidence < _one(
        extract_fields_from_text("رقم العملية: ۱۹۰۱۸۲۳۳۳۱۳۶"), "transaction_id").confidence
    for text in ("رقم العملية: ناجحة", "رقم العملية: تم ۱۹۰۱ ریال", "Transaction ID: ab 1234567"):
        fields = extract_fields_from_text(text)
        assert not [f for f in fields if f.type == "transaction_id"]


@pytest.mark.parametrize(("text", "possible"), [
    ("21/02/2024", True),
    ("31/02/2024", False),      # no 31 February
    ("02/21/2024", True),       # month first
    ("13/13/2024", False),
    ("1403/02/31", True),       # Solar Hijri: the first six months have 31 days
    ("1403/12/31", False),      # ... Esfand has 29 or 30
    ("30/12/1445", True),       # lunar Hijri, which jdatetime does not cover
    ("1302/09/22", False),      # a day of 1923: no proof is dated so ("۱۳" read for "۱۴")
    ("1479/12/29", True),
    ("22/11/1922", False),
    ("15/04/1340", False),      # 1961 as a Solar Hijri year, 1921 as a lunar one
    ("2024-02-30", False),
    ("1234567", None),
    ("12:45", None),
])
def test_a_date_shaped_number_is_a_possible_day_or_not(text: str, possible: bool | None) -> None:
    assert possible_date(text) is possible


@pytest.mark.parametrize("text", ['تم تحويل 7,081.02"ريال سعودي', "تم تحويل 7,081.02 » ريال سعودي"])
def test_a_quote_mark_read_between_an_amount_and_its_currency(text: str) -> None:
    amount = _one(extract_fields_from_text(text, "ara"), "amount")
    assert (amount.value, amount.currency) == ("7081.02", "SAR")


@pytest.mark.parametrize(("text", "value"), [
    ("Kshi2,925.00 imetumwa kwa JUMA", "12925.00"),  # Noto Serif's "1" read as "i"
    ("Tshl26,186.00 imetumwa kwa ASHA", "126186.00"),
    ("Ksh1 70,734.00 imetumwa kwa JUMA", "170734.00"),  # Noto Sans' "1" spaced off
    ("Ksh12 5,000.00 imetumwa", "125000.00"),
])
def test_an_amounts_first_digit_misread_after_its_currency(text: str, value: str) -> None:
    """M-Pesa pages whose amount lost its "1" kept only the balance as an amount, or
    "1" alone. The amount is read whole, less surely than one read cleanly."""
    fields = extract_fields_from_text(text + ". Salio lako la M-PESA ni Ksh107,395.00.", "swa")
    amount = next(f for f in fields if f.type == "amount" and f.role == "amount")
    assert amount.value == value
    assert amount.confidence < _one(extract_fields_from_text(f"Ksh{value}", "swa"),
                                    "amount").confidence


@pytest.mark.parametrize(("text", "restored"), [("Kshi234,000.00 imetumwa", "1234000.00"),
                                                ("Ksh1 70.00 imetumwa", "170.00"),
                                                ("Ksh12 50,000.00 imetumwa", "1250000.00")])
def test_a_first_digit_is_only_restored_where_the_grouping_has_room(text: str,
                                                                    restored: str) -> None:
    """A number whose first group already has three digits, or that has no thousands
    group to go by, gets no digit put in front of it."""
    values = {f.value for f in extract_fields_from_text(text, "swa") if f.type == "amount"}
    assert restored not in values


@pytest.mark.parametrize(("text", "currency"), [("مبلغ ۸٬۷۰۰٬۰۰۰ تجمان واریز شد", "IRT"),
                                                ("مبله» ۸٬۷۰۰٬۰۰۰ توسان", "IRT"),
                                                ("مبلغ: ۸٬۷۰۰٬۰۰۰ نومان", "IRT"),
                                                ("مبلغ ۸٬۷۰۰٬۰۰۰ ترمان واریز شد", "IRT"),
                                                ("مبلغ ۸٬۷۰۰٬۰۰۰ ربال واریز شد", "IRR"),
                                                ("ملع ۸٬۷۰۰٬۰۰۰ رال", "IRR"),
                                                ("مغ ۸٬۷۰۰٬۰۰۰ رال واربرشد", "IRR")])
def test_currency_words_the_persian_model_misreads(text: str, currency: str) -> None:
    amount = _one(extract_fields_from_text(text, "fas"), "amount")
    assert (amount.value, amount.currency) == ("8700000", currency)


@pytest.mark.parametrize(("text", "value", "currency"), [
    ("المبلغ: ۶۰٬۴۷۱٫۷۳ (یال سعودي", "60471.73", "SAR"),
    ("المبلغ: 38219 یال سعودي", "38219", "SAR"),
    ("المبلغ: 72٬257.60 د(هم", "72257.60", "AED"),
    ("تم تحويل ۲۲٬۴۹۰٫۳۴ درههم", "22490.34", "AED"),
    ("المبلغء 617 ذرهم", "617", "AED"),
])
def test_currency_words_the_arabic_model_misreads(text: str, value: str, currency: str) -> None:
    # Homa (bench/signals.py seeds 20261231, 20270101): the ر of ریال and درهم lost, or
    # read as "("; درهم with its ه doubled; DejaVu Sans (20270215): its د read ذ.
    amount = _one(extract_fields_from_text(text, "ara"), "amount")
    assert (amount.value, amount.currency) == (value, currency)


@pytest.mark.parametrize(("text", "currency"), [
    ("ریال", True), ("تومان", True), ("جنبه", True), ("KSh", True), ("zł", True),
    ("مبلغ:", False), ("ساعت", False), ("ریالی", False), ("۶ریال", False),
])
def test_currency_words_are_told_from_labels_and_longer_words(text: str,
                                                              currency: bool) -> None:
    # OCR lets a currency word claim only its own print (`numbers._widest_print`).
    assert is_currency_word(text) is currency


def test_a_word_that_only_begins_like_a_currency_is_none() -> None:
    # "در همین" (in this same) after a number is no amount in dirhams: Nazli's "درهم"
    # cut in two ("در هم") is not taken for one.
    assert not [f for f in extract_fields_from_text("سال ۱۴۰۲ در همین شهر", "fas")
                if f.type == "amount"]


@pytest.mark.parametrize("text", ["تم تحويل 61٬430.27 جنبه", "تم تحويل 61٬430.27 حنیه",
                                  "تم تحويل 61٬430.27 جنيه"])
def test_a_currency_word_with_its_dots_misread(text: str) -> None:
    # "جنبه": the Arabic model's reading of "جنيه" in Nazli Bold (bench/signals.py seed
    # 20261212); a word of three dotted letters is matched on its undotted shape.
    amount = _one(extract_fields_from_text(text, "ara"), "amount")
    assert (amount.value, amount.currency) == ("61430.27", "EGP")


@pytest.mark.parametrize(("text", "language", "value"), [
    ("شماره مرمع: ۹۸۹۲۲۸۰۴۱۴۳۶", "fas", "989228041436"),  # ج read as م (Homa)
    ("شماره بیخیری: ۷۰۱۳۶۰۰۰۰۱۰۴", "fas", "701360000104"),  # گ read خ, پ lost its dots
    ("Transacti0n ID: AB12345678", "eng", "AB12345678"),
    ("Nr transakcjl: 12345678", "pol", "12345678"),
    ("Namba ya muamaia: QK71HX2BC4", "swa", "QK71HX2BC4"),
    # A chat's label, without a colon (Nazli, the best Persian model): ع lost, پ lost.
    ("شماره مرج ۱۲۷۶۰۲۴۳۷۳۳۹ ممنون", "fas", "127602437339"),
    ("سلام شماره یگیری ۸۶۸۴۴۷۱۰۰۲۰۳", "fas", "868447100203"),
])
def test_an_id_label_misread_by_one_letter_still_labels_its_id(
        text: str, language: str, value: str) -> None:
    found = _one(extract_fields_from_text(text, language), "transaction_id")
    assert found.value == value
    assert found.confidence < 1.0  # a label known only roughly


@pytest.mark.parametrize(("text", "language"), [
    ("کد مرمع: ۹۸۹۲۲۸۰۴۱۴۳۶", "fas"),      # too short a label to guess at
    ("شماره کارت: ۹۸۹۲۲۸۰۴۱۴۳۶", "fas"),    # another label, not a misread one
    ("Transaction cost: 12345678", "eng"),  # a fee, two letters from "Transaction code"
    ("شماره شبا: ۱۲۰۱۷۰۰۰۰۰۰۰۱۲۳۴۵۶۷۸۹", "fas"),  # an IBAN, not "شماره سند"
    ("رقم الجوال: 0912345678", "ara"),       # a phone, not "رقم الحوالة"
    ("شماره تماس ۰۹۱۲۳۴۵۶۷۸۹", "fas"),       # labels without a colon: a phone,
    ("شماره کارت ۶۰۳۷۹۹۱۲۳۴۵۶۷۸۹۰", "fas"),  # a card,
    ("مبلغ ۲۹۷۸۰۰۰۰ تومان", "fas"),           # an amount
])
def test_short_labels_and_other_words_label_no_id(text: str, language: str) -> None:
    assert not [f for f in extract_fields_from_text(text, language) if f.type == "transaction_id"]


def test_an_id_label_followed_by_a_comma_labels_its_id() -> None:
    """The Persian model read a receipt's colon as a comma (Nazli): "شماره پیگیری,"."""
    found = _one(extract_fields_from_text("شماره پیگیری, ۷۸۶۷۲۴۹۶۶۴۰۳", "fas"),
                 "transaction_id")
    assert found.value == "786724966403"


@pytest.mark.parametrize(("text", "language", "time"), [
    ("تاریخ ۱۴۰۲/۰۹/۲۲ ساعت ۰۱٬۵۷", "fas", "01:57"),  # the colon read as ٬
    ("ساعت: ۰۵؛۴۴", "fas", "05:44"),
    ("Time: 10.45", "eng", "10:45"),
])
def test_a_time_after_its_label_with_its_colon_misread(text: str, language: str,
                                                       time: str) -> None:
    found = _one(extract_fields_from_text(text, language), "time")
    assert (found.value, found.confidence) == (time, 0.8)


@pytest.mark.parametrize(("text", "language"), [
    ("ساعت ۲۵٬۱۰", "fas"),      # no 25th hour
    ("Saa 12,500", "swa"),      # a number, not a time
    ("Kwota: 12,50 zł", "pol"),  # no time label
])
def test_numbers_that_are_no_time_stay_so(text: str, language: str) -> None:
    assert not [f for f in extract_fields_from_text(text, language) if f.type == "time"]

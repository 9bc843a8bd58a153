"""Features computed on hand-made check records: each one says what it promises."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from proofcheck.scoring.features import (
    FEATURE_NAMES,
    CheckRecord,
    MatchInfo,
    account_context,
    caption_similarity,
    check_features,
    is_round,
    matrix,
)

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def rec(cid: str, account: str = "instagram:@a", at: dt.datetime = T0,
        matches: tuple[MatchInfo, ...] = (), signals: dict[str, Any] | None = None,
        caption: str | None = None, kind: str | None = "receipt") -> CheckRecord:
    return CheckRecord(check_id=cid, account=account, post_id=cid, posted_at=at,
                       submitted_at=T0 + dt.timedelta(days=300), caption=caption, kind=kind,
                       matches=matches, signals=signals or {})


def ocr(name: str | None, amount: str | None, txid: str | None = None) -> dict[str, Any]:
    fields = []
    if name:
        fields.append({"type": "name", "value": name, "raw": name, "confidence": 0.9,
                       "box": [10, 300, 100, 20]})
    if amount:
        fields.append({"type": "amount", "value": amount, "raw": amount, "confidence": 0.9,
                       "currency": "IRT", "box": [10, 100, 100, 20]})
    if txid:
        fields.append({"type": "transaction_id", "value": txid, "raw": txid,
                       "confidence": 0.9, "box": [10, 200, 100, 20]})
    return {"ocr": {"text": "", "languages": ["fas"], "fields": fields}}


def features_of(records: list[CheckRecord], cid: str) -> dict[str, float]:
    ctx = account_context(records)
    return check_features(next(r for r in records if r.check_id == cid), ctx)


def test_copy_of_another_accounts_earlier_post_is_first_seen_elsewhere() -> None:
    stolen = MatchInfo("cropped", earlier=True, other_check_id="o1",
                       other_account="instagram:@owner")
    later = MatchInfo("exact", earlier=False, other_check_id="t2",
                      other_account="instagram:@thief2")
    records = [rec("a1", matches=(stolen,)), rec("a2", matches=(later,)), rec("a3")]
    f1, f2 = features_of(records, "a1"), features_of(records, "a2")
    assert f1["dup_earlier_other"] == 1.0 and f1["dup_later_other"] == 0.0
    assert f2["dup_earlier_other"] == 0.0 and f2["dup_later_other"] == 1.0
    assert math.isclose(f1["acc_first_seen_elsewhere"], 1 / 3)
    assert math.isclose(f1["acc_original_share"], 1 / 3)


def test_an_edit_is_counted_as_an_edit_and_only_where_this_account_made_it() -> None:
    edit_of_theirs = MatchInfo("edited", earlier=True, other_check_id="o1",
                               other_account="instagram:@owner")
    edited_later_by_them = MatchInfo("edited", earlier=False, other_check_id="t1",
                                     other_account="instagram:@thief")
    records = [rec("a1", matches=(edit_of_theirs,)), rec("a2", matches=(edited_later_by_them,)),
               rec("a3"), rec("a4")]
    f = features_of(records, "a1")
    assert f["edited_earlier_other"] == 1.0
    assert f["acc_first_seen_elsewhere"] == 0.0  # not the same picture: an edit of it
    assert f["acc_edited_share"] == 0.25  # a1 only: a2 was edited by someone else, later


def test_a_copy_whose_amount_was_repainted_is_an_edit() -> None:
    """One field repainted leaves ~90% of the words: the text alone calls it a copy."""
    def copy(**text: float) -> MatchInfo:
        return MatchInfo("resized", earlier=True, other_check_id="o1",
                         other_account="instagram:@owner", **text)

    assert copy(same_text=0.9, same_fields=0.0).kind == "edited"
    assert copy(same_text=0.9, same_fields=1.0).kind == "resized"
    assert copy(same_text=0.9).kind == "resized"  # amount and date not read on both sides
    assert copy(same_text=0.3, same_id=0.0, same_fields=0.0).kind == "template"
    # The same id and fields but words misread (a re-screenshot): a copy, not an edit.
    assert copy(same_text=0.65, same_id=1.0, same_fields=1.0).kind == "resized"
    assert copy(same_text=0.65).kind == "edited"  # nothing to show it says the same


def test_labels_without_a_transaction_id_are_told_apart_by_their_long_numbers() -> None:
    """A parcel label's few words are the name and tracking number: one misread letter
    halves their overlap, so the number decides copy or sibling, in any digits."""
    from proofcheck.scoring.features import agreement, text_summary

    def label(text: str) -> dict[str, Any]:
        return {"ocr": {"text": text, "language": "fas", "fields": []}}

    original = text_summary(label("نرگس احمدی\n۵۶۹۵۸۲۰۷۸۷۲۱ پست\nتلفن ۰۹۱۲۳۴۵۶۷۸۹"))
    misread_copy = text_summary(label("ترگس احمدی\n569582078721 پست\nتلفن 09123456789"))
    cropped_copy = text_summary(label("ترگس احمدی\n569582078721 ..."))  # phone cut off
    sibling = text_summary(label("لیلی المنصوري\n196233914046 پست"))
    assert agreement(original, misread_copy)[1] == 1.0
    assert agreement(original, sibling)[1] == 0.0
    assert math.isnan(agreement(original, text_summary(label("پست ارسال شد امروز")))[1])
    pair = agreement(original, misread_copy)
    relation = MatchInfo("cropped", earlier=True, other_check_id="o1",
                         other_account="instagram:@owner", same_text=pair[0], same_id=pair[1],
                         same_fields=pair[2])
    assert relation.kind == "cropped"
    assert MatchInfo("cropped", earlier=True, other_check_id="o2", other_account="x",
                     same_text=agreement(original, sibling)[0]).kind == "template"
    assert agreement(original, cropped_copy)[1] == 1.0
    other_phone = text_summary(label("نرگس احمدی\n569582078721\n09121111111"))
    assert agreement(original, other_phone)[1] == 0.0  # one number differs: not a copy


def test_amount_and_date_agree_only_where_both_sides_read_them() -> None:
    from proofcheck.scoring.features import agreement, text_summary

    def summary(amount: str, date: str | None) -> dict[str, Any]:
        signals = ocr("Sara Nouri", amount, "TX1")
        if date:
            signals["ocr"]["fields"].append({"type": "date", "value": date, "raw": date,
                                             "confidence": 0.9, "box": [10, 150, 90, 20]})
        signals["ocr"]["text"] = f"Paid {amount} to Sara Nouri ref TX1 {date or ''}"
        return signals

    original = text_summary(summary("250000", "2026-03-01"))
    assert agreement(original, text_summary(summary("250000", None)))[2] == 1.0
    assert agreement(original, text_summary(summary("250000", "2026-03-09")))[2] == 0.0
    assert agreement(original, text_summary(summary("950000", "2026-03-01")))[2] == 0.0
    repaid_by_another = summary("250000", "2026-03-01")
    repaid_by_another["ocr"]["fields"][0]["value"] = "Reza Tehrani"
    assert agreement(original, text_summary(repaid_by_another))[2] == 0.0  # payer repainted


def test_same_picture_twice_in_one_account_is_recycling_not_theft() -> None:
    again = MatchInfo("resized", earlier=True, other_check_id="a1",
                      other_account="instagram:@a")
    records = [rec("a1"), rec("a2", matches=(again,))]
    f = features_of(records, "a2")
    assert f["dup_same_account"] == math.log1p(1)
    assert f["dup_earlier_other"] == 0.0
    assert f["acc_recycled_share"] == 0.5


def test_payers_of_one_family_with_round_amounts() -> None:
    records = [rec("r1", signals=ocr("Ali Karimi", "50000", "TX1")),
               rec("r2", signals=ocr("Sara Karimi", "100000", "TX2")),
               rec("r3", signals=ocr("Ali Karimi", "50000", "TX1"))]
    f = features_of(records, "r1")
    assert f["acc_payers"] == 2.0
    assert math.isclose(f["acc_top_payer_share"], 2 / 3)
    assert f["acc_shared_surname"] == 1.0
    assert f["acc_round_amount_share"] == 1.0
    assert f["amount_round"] == 1.0
    assert f["txid_repeats"] == 1.0
    assert math.isclose(f["acc_txid_dup_share"], 2 / 3)
    assert 0.0 < f["acc_payer_entropy"] < 1.0


def test_many_different_payers_have_high_entropy() -> None:
    names = ["Ali Rezaei", "Sara Nouri", "Omid Karimi", "Lila Ahmadi"]
    records = [rec(f"r{i}", signals=ocr(n, str(187_500 + 1000 * i))) for i, n in enumerate(names)]
    f = features_of(records, "r0")
    assert f["acc_payers"] == 4.0
    assert f["acc_top_payer_share"] == 0.25
    assert f["acc_shared_surname"] == 0.0
    assert f["acc_round_amount_share"] == 0.0
    assert f["acc_payer_entropy"] == 1.0


def test_the_shop_named_as_payee_is_not_taken_for_the_payer() -> None:
    """OCR lost the payer's line on some receipts; the payee left is the shop itself,
    the same on every receipt, and must not read as one customer paying four times."""
    payers = [None, "Sara Nouri", None, "Omid Karimi"]
    records = []
    for i, name in enumerate(payers):
        signals = ocr(name, str(187_500 + 1000 * i))
        fields = signals["ocr"]["fields"]
        if name:
            fields[0]["role"] = "payer"
        fields.append({"type": "name", "value": "Reza Shop", "raw": "Reza Shop",
                       "confidence": 0.9, "box": [10, 250, 100, 20], "role": "payee"})
        records.append(rec(f"r{i}", signals=signals))
    f = features_of(records, "r1")
    assert math.isnan(f["acc_payers"])  # two readable payers: too few to judge
    records.append(rec("r4", signals=ocr("Lila Ahmadi", "190500")))
    f = features_of(records, "r1")
    assert f["acc_payers"] == 3.0
    assert f["acc_top_payer_share"] == 1 / 3


def test_round_amounts() -> None:
    assert is_round("50000") and is_round("200") and is_round("1500")
    assert not is_round("187500") and not is_round("19.99") and not is_round(None)
    assert not is_round("abc")


def test_bursts_score_above_a_poisson_expectation() -> None:
    burst = [rec(f"b{i}", at=T0 + dt.timedelta(minutes=3 * i)) for i in range(5)]
    burst += [rec("late", at=T0 + dt.timedelta(days=60))]
    spread = [rec(f"s{i}", at=T0 + dt.timedelta(days=4 * i)) for i in range(6)]
    assert features_of(burst, "b0")["acc_burstiness"] > 1.5
    assert features_of(burst, "b2")["burst_neighbours"] == math.log1p(4)
    assert features_of(spread, "s0")["acc_burstiness"] <= 0.0
    assert features_of(spread, "s0")["burst_neighbours"] == 0.0


def test_identical_status_bars_repeat_and_missing_ones_are_unknown() -> None:
    def bar(h: str) -> dict[str, Any]:
        return {"screenshot": {"status_bar": {"present": True, "dhash256": h}, "flags": []}}

    same = "f0" * 32
    records = [rec("t1", signals=bar(same)), rec("t2", signals=bar(same)),
               rec("t3", signals=bar("0f" * 32)), rec("t4")]
    assert features_of(records, "t1")["status_bar_repeats"] == math.log1p(1)
    assert features_of(records, "t3")["status_bar_repeats"] == 0.0
    assert math.isnan(features_of(records, "t4")["status_bar_repeats"])
    assert math.isclose(features_of(records, "t1")["acc_status_bar_same_share"], 2 / 3)


def test_editor_metadata_flags() -> None:
    signals = {"exif": {"flags": [
        {"code": "edited_with_software", "message": "Saved by Adobe Photoshop", "severity": 0.6},
        {"code": "modified_after_post", "message": "modified after", "severity": 0.3}]}}
    records = [rec("e1", signals=signals), rec("e2")]
    f = features_of(records, "e1")
    assert f["editor_severity"] == 0.6 and f["date_anomaly"] == 1.0
    assert f["acc_editor_share"] == 0.5 and f["acc_date_anomaly_share"] == 0.5
    assert features_of(records, "e2")["editor_severity"] == 0.0


def test_a_printed_date_after_the_post_is_a_date_anomaly() -> None:
    """The OCR's flag (`text.postdate`) counts with the metadata's, and the reason for
    it quotes the flag, not a photo editor."""
    from proofcheck.scoring import reasons

    late = {"ocr": {"fields": [], "flags": [
        {"code": "proof_dated_after_post", "message": "The proof is dated 2026-03-04",
         "severity": 0.8}]}}
    records = [rec("d1", signals=late), rec("d2")]
    f = features_of(records, "d1")
    assert f["date_anomaly"] == 1.0 and f["editor_severity"] == 0.0
    assert f["acc_date_anomaly_share"] == 0.5
    assert features_of(records, "d2")["date_anomaly"] == 0.0
    said = reasons.message("editor_metadata", records[0], f)
    assert said.startswith("The proof is dated 2026-03-04")


def test_missing_or_odd_signals_give_nan_not_a_crash() -> None:
    odd = {"ocr": {"error": "tesseract missing"}, "exif": "not a dict",
           "screenshot": {"flags": ["nonsense", {"code": "x"}]}}
    records = [rec("x1", signals=odd), rec("x2", account=None, kind=None)]
    f = features_of(records, "x1")
    assert set(f) >= set(FEATURE_NAMES)
    assert math.isnan(f["ocr_fields"]) and math.isnan(f["acc_payers"])
    assert math.isnan(f["amount_round"])
    assert matrix([f]).shape == (1, len(FEATURE_NAMES))
    assert math.isnan(matrix([{}])[0, 0])


def test_caption_similarity_ignores_digits_and_emoji() -> None:
    assert caption_similarity("Another happy customer 🙏", "Another happy customer ✅") == 1.0
    assert caption_similarity("Order 123 shipped", "Order 456 shipped") == 1.0
    assert caption_similarity("New bags in stock", "Payment from a client") < 0.2
    assert caption_similarity(None, "x") == 0.0

"""A proof printed with a date after its post: the rule on fields, then through the
service on a rendered Persian receipt whose Solar Hijri date is read by OCR."""

from __future__ import annotations

import datetime as dt
import random

from proofcheck.text.postdate import CODE, dated_after_post
from tests.conftest import login, make_user, run_worker
from tests.test_api import post_check


def date_field(value: str, confidence: float = 0.95, **extra: str) -> dict[str, object]:
    return {"type": "date", "value": value, "raw": value, "confidence": confidence,
            "box": [0, 0, 10, 10], **extra}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_a_date_days_after_the_post_is_flagged_with_both_days() -> None:
    fields = [date_field("2026-05-01"), date_field("2026-05-03"),
              {"type": "amount", "value": "100", "confidence": 1.0}]
    [found] = dated_after_post(fields, at("2026-05-01T09:00:00+00:00"))
    assert found["code"] == CODE and found["severity"] >= 0.5
    assert "2026-05-03" in found["message"] and "2026-05-01" in found["message"]
    assert "2 days" in found["message"]


def test_the_printed_day_may_run_ahead_of_the_posts_utc_day_by_a_zone() -> None:
    """Posted at noon UTC: it is already the next day in UTC+14, not in UTC+15."""
    noon = at("2026-05-01T12:00:00+00:00")
    assert dated_after_post([date_field("2026-05-02")], noon) == []
    assert dated_after_post([date_field("2026-05-02")], at("2026-05-01T08:00:00+00:00"))
    # A post time given in a local zone is the same instant.
    assert dated_after_post([date_field("2026-05-02")], at("2026-05-01T15:30:00+03:30")) == []
    # A naive post time is taken as UTC.
    assert dated_after_post([date_field("2026-05-03")], at("2026-05-01T12:00:00"))


def test_unsure_dates_status_bar_dates_and_posts_without_a_time_say_nothing() -> None:
    late = "2026-06-01"
    posted = at("2026-05-01T12:00:00+00:00")
    assert dated_after_post([date_field(late, confidence=0.5)], posted) == []
    assert dated_after_post([date_field(late, role="status_bar")], posted) == []
    assert dated_after_post([date_field("not a date")], posted) == []
    assert dated_after_post([date_field(late)], None) == []


def test_a_receipt_dated_after_its_post_is_flagged_on_the_check(client, auth, services,
                                                                  monkeypatch):
    """A Persian receipt of 1405/02/12 (2026-05-02) posted on 2026-04-20 is flagged, in
    the check's OCR signals and by the rule engine's reasons; the same receipt posted on
    2026-05-05 is not."""
    from proofcheck.scoring import render

    monkeypatch.setenv("PROOFCHECK_MODEL_DIR", "off")  # the rule engine: flags are reasons

    when = dt.datetime(2026, 5, 2, 14, 5)
    # A template whose font has a slash (Noto Sans Arabic draws a box for it).
    template = render.receipt_templates(random.Random(1), 1)[0]
    values = render.Receipt(lang="fas", amount=4_050_000, currency="تومان",
                            payer="حسین محمدی", payee="زهرا کریمی", when=when,
                            txid="821444089926", title="انتقال کارت به کارت",
                            id_label="کد رهگیری")
    image = render.render_receipt(values, template, render.status_bar(random.Random(1), when))
    data = render.encode_png(image.image)
    early = post_check(client, auth, data, name="r.png", account="instagram:@shop",
                       post_id="p1", posted_at="2026-04-20T10:00:00Z")
    on_time = post_check(client, auth, data, name="r.png", account="instagram:@honest",
                         post_id="p2", posted_at="2026-05-05T10:00:00Z")
    run_worker(services)

    early_check = client.get(f"/api/v1/checks/{early.get_json()['checks'][0]['id']}",
                             headers=auth).get_json()
    ocr = early_check["signals"]["ocr"]
    assert "2026-05-02" in [f["value"] for f in ocr["fields"] if f["type"] == "date"]
    [found] = ocr["flags"]
    assert found["code"] == CODE and "2026-04-20" in found["message"]
    assert early_check["model_version"].startswith("rules-")
    assert CODE in [r["code"] for r in early_check["reasons"]]
    later = client.get(f"/api/v1/checks/{on_time.get_json()['checks'][0]['id']}",
                       headers=auth).get_json()
    assert later["signals"]["ocr"]["flags"] == []
    assert CODE not in [r["code"] for r in later["reasons"]]

    # The check page shows it with the other flags, for a moderator.
    assert login(client, make_user(services, "vera", "viewer")).status_code == 303
    page = client.get(f"/checks/{early_check['id']}").get_data(as_text=True)
    shown = page[page.index(f'data-flag="{CODE}"'):]
    assert "2026-05-02" in shown[:400] and "2026-04-20" in shown[:400]

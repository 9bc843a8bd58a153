"""The review queue through the portal and the API: real app, real Redis, real RQ worker,
CSRF on. Items get into the queue the way they do in production: uploads that the
pipeline flags (a file stolen from another account, a file recycled by one account)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from proofcheck import review
from proofcheck.apikeys import create_key
from proofcheck.db import AuditEvent, BankEntry, Review
from proofcheck.review import ClaimConflict, QueueFilter
from proofcheck.services import Services
from tests.conftest import distinct_image, login, make_user, run_worker
from tests.test_api import post_check


def token_of(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"{path} carries a CSRF token"
    return found.group(1)


def seed_queue(client: FlaskClient, auth: dict[str, str], services: Services,
               thief: str = "instagram:@copycat", caption: str | None = None) -> dict[str, str]:
    """An original, two copies of it by another account, one file posted twice by one
    account; all processed by a real worker. Returns their check ids by role."""
    original, recycled = distinct_image(71), distinct_image(72)

    def post(data: bytes, account: str, post_id: str, when: str, **extra: str) -> str:
        response = post_check(client, auth, data, account=account, post_id=post_id,
                              posted_at=when, **extra)
        assert response.status_code == 202
        return str(response.get_json()["checks"][0]["id"])

    ids = {
        "original": post(original, "instagram:@rose.shop", "p1", "2026-03-01T09:00:00Z"),
        "stolen1": post(original, thief, "t1", "2026-04-01T09:00:00Z", kind="receipt",
                        **({"caption": caption} if caption else {})),
        "stolen2": post(original, thief, "t2", "2026-04-02T09:00:00Z"),
        "first": post(recycled, "web:shop.example", "a", "2026-02-01T09:00:00Z"),
        "recycled": post(recycled, "web:shop.example", "b", "2026-02-09T09:00:00Z"),
    }
    run_worker(services)
    return ids


def api_check(client: FlaskClient, auth: dict[str, str], check_id: str) -> dict:
    return client.get(f"/api/v1/checks/{check_id}", headers=auth).get_json()


def moderator(app: Flask, services: Services, name: str) -> FlaskClient:
    client = app.test_client()
    make_user(services, name, "moderator")
    assert login(client, name).status_code == 303
    return client


def count(services: Services, model: type) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- the queue -------------------------------------------------------------------------

def test_queue_holds_flagged_checks_most_urgent_first(client, auth, services):
    ids = seed_queue(client, auth, services)
    checks = {role: api_check(client, auth, cid) for role, cid in ids.items()}
    # Whatever model scores them, a stolen copy and a recycled post need a human.
    assert checks["stolen1"]["verdict"] in ("review", "fabricated")
    assert checks["recycled"]["verdict"] in ("review", "fabricated")

    waiting = [c for c in checks.values() if c["verdict"] in ("review", "fabricated")]
    expected = sorted(waiting, key=lambda c: (-c["score"], c["submitted_at"], c["id"]))
    body = client.get("/api/v1/review/queue?limit=50", headers=auth).get_json()
    assert [i["check_id"] for i in body["items"]] == [c["id"] for c in expected]
    assert ids["original"] not in [i["check_id"] for i in body["items"]]
    first = body["items"][0]
    assert set(first) >= {"check_id", "account", "verdict", "score", "reasons", "claimed_by",
                          "claim_expires_at"}
    assert first["claimed_by"] is None

    limited = client.get("/api/v1/review/queue?limit=1", headers=auth).get_json()
    assert len(limited["items"]) == 1
    assert client.get("/api/v1/review/queue?limit=0", headers=auth).status_code == 422


def test_queue_filters_by_account_kind_reason_and_language(client, auth, services):
    ids = seed_queue(client, auth, services)
    db, settings = services.db, services.settings

    def queued(**filters: str) -> set[str]:
        return {i.check_id for i in review.queue(db, settings, QueueFilter(**filters))}

    everything = queued()
    assert queued(account="instagram:@copycat") == {ids["stolen1"], ids["stolen2"]}
    assert queued(kind="receipt") == {ids["stolen1"]}
    for code in ("recycled_same_account", "stolen_from_other_account"):
        having = {cid for cid in everything
                  if code in {r["code"] for r in api_check(client, auth, cid)["reasons"]}}
        assert having and queued(reason=code) == having
    assert ids["recycled"] in queued(reason="recycled_same_account")
    assert queued(reason="no_such_reason") == set()
    assert queued(reason="%") == set()  # not a code: never reaches a LIKE pattern
    assert queued(language="fas") == set()  # nothing here carries OCR text


def test_which_verdicts_need_a_human_is_configurable(client, auth, services):
    ids = seed_queue(client, auth, services)
    verdicts = {cid: api_check(client, auth, cid)["verdict"] for cid in ids.values()}
    for wanted in (("review",), ("fabricated",), ("authentic", "review")):
        settings = services.settings.with_overrides({"review_verdicts": wanted})
        assert {i.check_id for i in review.queue(services.db, settings)} == {
            cid for cid, verdict in verdicts.items() if verdict in wanted}


# --- claims ----------------------------------------------------------------------------

def test_a_claim_blocks_others_until_it_expires(client, auth, services):
    ids = seed_queue(client, auth, services)
    db, settings = services.db, services.settings
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    held = review.claim(db, settings, ids["stolen1"], "mona", now=start)
    assert held.expires_at == start + dt.timedelta(seconds=settings.claim_ttl_s)

    with pytest.raises(ClaimConflict) as refused:
        review.claim(db, settings, ids["stolen1"], "otto", now=start + dt.timedelta(minutes=1))
    assert refused.value.claim.claimed_by == "mona"
    with pytest.raises(ClaimConflict):
        review.decide(db, settings, ids["stolen1"], "otto", "authentic",
                      now=start + dt.timedelta(minutes=2))
    # The holder may renew; after expiry anyone may take it.
    review.claim(db, settings, ids["stolen1"], "mona", now=start + dt.timedelta(minutes=3))
    later = start + dt.timedelta(minutes=3, seconds=settings.claim_ttl_s + 1)
    taken = review.claim(db, settings, ids["stolen1"], "otto", now=later)
    assert taken.claimed_by == "otto"
    claims = [e for e in review.audit_log(db, check_id=ids["stolen1"]) if e.action == "claim"]
    assert claims[0].actor == "otto"
    assert claims[0].details["previous"]["claim"]["claimed_by"] == "mona"


def test_of_moderators_racing_for_one_item_exactly_one_wins(client, auth, services):
    import threading

    ids = seed_queue(client, auth, services)
    names = [f"mod{n}" for n in range(6)]
    start = threading.Barrier(len(names))
    winners: list[str] = []
    losers: list[str] = []

    def attempt(name: str) -> None:
        start.wait()
        try:
            review.claim(services.db, services.settings, ids["stolen1"], name)
            winners.append(name)
        except ClaimConflict as exc:
            losers.append(exc.claim.claimed_by)

    threads = [threading.Thread(target=attempt, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == len(names) - 1
    assert review.current_claim(services.db, ids["stolen1"]).claimed_by == winners[0]


def test_review_api_answers_match_the_openapi_document(client, auth, services):
    from proofcheck.api.openapi import document
    from tests.test_openapi import assert_matches

    doc = document()
    ids = seed_queue(client, auth, services)
    assert_matches(doc, "ReviewQueue", client.get("/api/v1/review/queue", headers=auth).json)
    claimed = client.post(f"/api/v1/review/items/{ids['stolen1']}/claim", headers=auth)
    assert_matches(doc, "Claim", claimed.json)
    decided = client.post(f"/api/v1/review/items/{ids['stolen1']}/decision", headers=auth,
                          json={"decision": "fabricated", "note": "banked"})
    assert_matches(doc, "DecisionOut", decided.json)
    assert_matches(doc, "CheckOut", api_check(client, auth, ids["stolen1"]))
    other = {"Authorization": f"Bearer {create_key(services.db, 'p', ['review'])[1]}"}
    client.post(f"/api/v1/review/items/{ids['stolen2']}/claim", headers=auth)
    conflict = client.post(f"/api/v1/review/items/{ids['stolen2']}/claim", headers=other)
    assert conflict.status_code == 409
    assert_matches(doc, "Error", conflict.json)


def test_api_claim_is_200_for_the_holder_and_409_for_anyone_else(client, auth, services):
    ids = seed_queue(client, auth, services)
    other = {"Authorization": f"Bearer {create_key(services.db, 'partner', ['review'])[1]}"}
    url = f"/api/v1/review/items/{ids['stolen1']}/claim"
    first = client.post(url, headers=auth)
    assert first.status_code == 200
    assert first.get_json()["claimed_by"].startswith("api:tests#")
    assert client.post(url, headers=auth).status_code == 200  # renewing one's own claim
    conflict = client.post(url, headers=other)
    assert conflict.status_code == 409
    error = conflict.get_json()["error"]
    assert error["code"] == "claimed" and error["message"].startswith("api:tests#")
    assert set(error) == {"code", "message", "field"}
    decided_by_other = client.post(f"/api/v1/review/items/{ids['stolen1']}/decision",
                                   headers=other, json={"decision": "authentic"})
    assert decided_by_other.status_code == 409
    queue = client.get("/api/v1/review/queue", headers=other).get_json()["items"]
    assert next(i for i in queue if i["check_id"] == ids["stolen1"])["claimed_by"]


def test_api_review_needs_the_review_scope_and_valid_input(client, auth, services):
    ids = seed_queue(client, auth, services)
    reader = {"Authorization": f"Bearer {create_key(services.db, 'r', ['read'])[1]}"}
    assert client.get("/api/v1/review/queue").status_code == 401
    assert client.get("/api/v1/review/queue", headers=reader).status_code == 403
    url = f"/api/v1/review/items/{ids['stolen1']}/decision"
    assert client.post(url, headers=reader, json={"decision": "fabricated"}).status_code == 403
    bad = client.post(url, headers=auth, json={"decision": "maybe"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "decision"
    assert client.post(url, headers=auth, data="nope").status_code == 400
    missing = client.post("/api/v1/review/items/c_missing/claim", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    queued = post_check(client, auth, distinct_image(79)).get_json()["checks"][0]["id"]
    not_done = client.post(f"/api/v1/review/items/{queued}/claim", headers=auth)
    assert not_done.status_code == 409
    assert count(services, Review) == 0


# --- decisions -------------------------------------------------------------------------

def test_decision_shows_on_the_check_leaves_the_queue_is_audited_and_banked(
        client, auth, services):
    ids = seed_queue(client, auth, services)
    url = f"/api/v1/review/items/{ids['stolen1']}/decision"
    assert api_check(client, auth, ids["stolen1"])["review"] is None

    response = client.post(url, headers=auth, json={"decision": "fabricated",
                                                    "note": "same receipt as @rose.shop"})
    assert response.status_code == 200
    assert response.get_json()["bank"] == "known fabricated #1 (instagram:@copycat)"
    shown = api_check(client, auth, ids["stolen1"])["review"]
    assert shown["decision"] == "fabricated" and shown["note"] == "same receipt as @rose.shop"
    assert shown["by"].startswith("api:tests#") and shown["at"].endswith("+00:00")
    queue = client.get("/api/v1/review/queue", headers=auth).get_json()["items"]
    assert ids["stolen1"] not in [i["check_id"] for i in queue]
    with services.db.session() as session:
        bank = session.scalars(select(BankEntry)).all()
        assert [(b.check_id, b.name) for b in bank] == [
            (ids["stolen1"], "known fabricated #1 (instagram:@copycat)")]

    [decide] = [e for e in review.audit_log(services.db, ids["stolen1"])
                if e.action == "decide"]
    assert decide.details["decision"] == "fabricated"
    assert decide.details["previous"]["verdict"] == api_check(client, auth,
                                                             ids["stolen1"])["verdict"]
    assert decide.details["previous"]["review"] is None

    # A reversal is recorded with what it replaced, and takes the image out of the bank.
    client.post(url, headers=auth, json={"decision": "authentic"})
    assert api_check(client, auth, ids["stolen1"])["review"]["decision"] == "authentic"
    assert count(services, BankEntry) == 0
    actions = [e.action for e in review.audit_log(services.db, ids["stolen1"])]
    assert actions[:3] == ["decide", "bank_remove", "decide"]
    latest = review.audit_log(services.db, ids["stolen1"])[0]
    assert latest.details["previous"]["review"]["decision"] == "fabricated"
    assert review.review_labels(services.db) == {ids["stolen1"]: "authentic"}


# --- the portal --------------------------------------------------------------------------

def test_moderator_works_the_queue_in_the_portal(app, auth, services):
    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services)
    page = mona.get("/review/").get_data(as_text=True)
    assert ids["stolen1"] in page and ids["original"] not in page

    started = mona.post("/review/next", data={"csrf_token": token_of(mona, "/review/")})
    assert started.status_code == 303
    first = started.headers["Location"].split("/review/items/")[1].split("?")[0]
    item = mona.get(started.headers["Location"]).get_data(as_text=True)
    assert "Claimed by you" in item and 'data-key="f"' in item
    assert 'id="side-by-side"' in item and 'id="timeline"' in item and 'id="signals"' in item

    decided = mona.post(f"/review/items/{first}/decision",
                        data={"csrf_token": token_of(mona, "/review/"),
                              "decision": "unsure", "note": "need the bank statement"})
    assert decided.status_code == 303
    following = decided.headers["Location"].split("/review/items/")[1].split("?")[0]
    assert following != first
    assert review.current_claim(services.db, following).claimed_by == "mona"

    done = mona.get(f"/review/items/{first}").get_data(as_text=True)
    assert 'data-action="decide"' in done and "need the bank statement" in done
    assert mona.get("/review/audit").status_code == 200
    assert "unsure" in mona.get("/review/audit").get_data(as_text=True)


def test_a_second_moderator_cannot_take_or_decide_a_claimed_item(app, auth, services):
    mona, otto = moderator(app, services, "mona"), moderator(app, services, "otto")
    ids = seed_queue(mona, auth, services)
    target = ids["stolen1"]
    assert mona.post(f"/review/items/{target}/claim",
                     data={"csrf_token": token_of(mona, "/review/")}).status_code == 303

    page = otto.get(f"/review/items/{target}").get_data(as_text=True)
    assert "Claimed by" in page and "mona" in page
    assert re.search(r'value="fabricated" data-key="f" class="bad"\s+disabled', page)
    token = token_of(otto, "/review/")
    refused = otto.post(f"/review/items/{target}/claim", data={"csrf_token": token})
    assert refused.status_code == 409 and "mona is working on this item" in refused.get_data(
        as_text=True)
    refused = otto.post(f"/review/items/{target}/decision",
                        data={"csrf_token": token, "decision": "authentic"})
    assert refused.status_code == 409
    assert count(services, Review) == 0
    # "Start reviewing" hands otto something mona does not hold.
    started = otto.post("/review/next", data={"csrf_token": token})
    assert target not in started.headers["Location"]


def test_deciding_a_whole_account_skips_what_others_hold(app, auth, services):
    mona, otto = moderator(app, services, "mona"), moderator(app, services, "otto")
    ids = seed_queue(mona, auth, services)
    review.claim(services.db, services.settings, ids["stolen2"], "otto")
    response = mona.post("/review/accounts/decision", data={
        "csrf_token": token_of(mona, "/review/"), "account": "Instagram:@Copycat",
        "decision": "fabricated", "note": "whole page is stolen"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 item(s) decided" in page and "claimed by otto" in page
    assert api_check(mona, auth, ids["stolen1"])["review"]["by"] == "mona"
    assert api_check(mona, auth, ids["stolen2"])["review"] is None
    assert review.audit_log(services.db, actions=["decide_account"])[0].details["checks"] == [
        ids["stolen1"]]
    assert otto is not None


def test_viewer_can_read_checks_but_not_review(viewer, auth, services):
    ids = seed_queue(viewer, auth, services)
    assert viewer.get(f"/checks/{ids['stolen1']}").status_code == 200
    assert viewer.get("/review/").status_code == 403
    assert viewer.get(f"/review/items/{ids['stolen1']}").status_code == 403
    token = token_of(viewer, "/")
    for path in (f"/review/items/{ids['stolen1']}/claim",
                 f"/review/items/{ids['stolen1']}/decision", "/review/next"):
        assert viewer.post(path, data={"csrf_token": token, "decision": "authentic"}
                           ).status_code == 403
    assert viewer.get("/admin/").status_code == 403
    assert count(services, Review) == 0 and count(services, AuditEvent) == 1  # user_create


def test_every_review_and_admin_route_refuses_anonymous_users(app, auth, services):
    ids = seed_queue(app.test_client(), auth, services)
    anonymous = app.test_client()
    token = token_of(anonymous, "/login")
    audit_before = count(services, AuditEvent)
    routes = [r for r in app.url_map.iter_rules()
              if r.endpoint.startswith(("review.", "admin."))]
    assert len(routes) >= 10
    for rule in routes:
        path = rule.rule.replace("<check_id>", ids["stolen1"]).replace(
            "<other_id>", ids["original"]).replace(
            "<int:key_id>", "1").replace("<username>", "x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = anonymous.open(path, method=method,
                                      data={"csrf_token": token, "decision": "fabricated",
                                            "account": "instagram:@copycat"})
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/login"), (method, path)
    assert count(services, Review) == 0 and count(services, AuditEvent) == audit_before


def test_review_forms_need_the_csrf_token(app, auth, services):
    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services)
    for path, data in ((f"/review/items/{ids['stolen1']}/decision", {"decision": "authentic"}),
                       (f"/review/items/{ids['stolen1']}/claim", {}),
                       ("/review/accounts/decision", {"account": "instagram:@copycat",
                                                      "decision": "authentic"}),
                       ("/logout", {})):
        response = mona.post(path, data=data)
        assert response.status_code == 400, path
        assert "The form expired" in response.get_data(as_text=True)
    assert count(services, Review) == 0
    assert review.current_claim(services.db, ids["stolen1"]) is None


def test_markup_in_caption_account_and_note_is_shown_as_text(app, auth, services):
    evil = "<script>alert(1)</script>"
    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services, thief=f"web:{evil}", caption=f"<img src=x>{evil}")
    mona.post(f"/review/items/{ids['stolen2']}/decision",
              data={"csrf_token": token_of(mona, "/review/"), "decision": "fabricated",
                    "note": evil})
    for path in ("/review/", f"/review/items/{ids['stolen1']}",
                 f"/review/items/{ids['stolen2']}", "/review/audit"):
        page = mona.get(path).get_data(as_text=True)
        assert evil not in page and "<img src=x>" not in page, path
        assert "&lt;script&gt;" in page, path


# --- dashboard -------------------------------------------------------------------------

def test_dashboard_shows_depth_decisions_and_agreement(app, auth, services):
    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services)
    db, settings = services.db, services.settings
    decided = {ids["stolen1"]: "fabricated", ids["stolen2"]: "authentic",
               ids["original"]: "authentic"}
    for check_id, decision in decided.items():
        review.decide(db, settings, check_id, "mona", decision)
    # Agreement counts the items where both the model and the moderator were clear-cut.
    clear = [(api_check(mona, auth, cid)["verdict"], d) for cid, d in decided.items()]
    clear = [(v, d) for v, d in clear if v in ("authentic", "fabricated")]
    assert clear, "the original, at least, is authentic to any model"
    agreement = f"{100 * sum(v == d for v, d in clear) / len(clear):.0f}%"
    waiting = len(review.queue(db, settings))
    page = mona.get("/review/dashboard").get_data(as_text=True)
    assert f'<span class="num" id="depth">{waiting}</span>' in page
    assert f'<span class="num" id="agreement">{agreement}</span>' in page
    assert 'id="decisions-chart"' in page and "<rect class=\"bar-fabricated\"" in page
    assert 'id="depth-chart"' in page and "<polyline" in page


# --- the evidence screen ---------------------------------------------------------------

def test_evidence_screen_renders_whatever_signals_a_check_carries(app, auth, services):
    from sqlalchemy import update

    from proofcheck.db import Check

    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services)
    signals = {
        "exif": {"Software": "Adobe <b>Photoshop</b> 25.0", "DateTime": "2026:04:01 10:00:00"},
        "ocr": {"text": "مبلغ ۲٬۵۰۰٬۰۰۰ ریال\nپیگیری 8841", "languages": ["fas", "eng"],
                "fields": [{"type": "amount", "value": "2500000", "currency": "IRR",
                            "raw": "۲٬۵۰۰٬۰۰۰ ریال", "confidence": 0.97,
                            "box": [40, 120, 200, 36]}]},
        "ela": {"max_error": 41.5, "suspicious_regions": []},
    }
    with services.db.session() as session:
        session.execute(update(Check).where(Check.id == ids["stolen1"]).values(signals=signals))
    page = mona.get(f"/review/items/{ids['stolen1']}").get_data(as_text=True)
    assert "Adobe &lt;b&gt;Photoshop&lt;/b&gt; 25.0" in page and "<b>Photoshop" not in page
    assert '<span dir="auto">2500000</span>' in page
    assert re.search(r'<pre class="text" dir="auto">مبلغ', page) or 'dir="auto">مبلغ' in page
    assert '<rect class="box-field" x="40.0" y="120.0" width="200.0" height="36.0">' in page
    assert "<th dir=\"auto\">currency</th>" in page  # a list of dicts becomes a table
    assert {i.check_id for i in review.queue(services.db, services.settings,
                                             QueueFilter(language="fas"))} == {ids["stolen1"]}


def test_a_queue_of_50_is_cleared_one_decision_per_item(app, auth, services):
    """What the keys do, 50 times: each decision opens the next free item, claimed."""
    mona = moderator(app, services, "mona")
    images = [distinct_image(400 + n) for n in range(25)]
    for account in ("instagram:@owner", "instagram:@thief.a", "instagram:@thief.b"):
        for n, data in enumerate(images):
            assert post_check(mona, auth, data, account=account, post_id=f"{account}{n}"
                              ).status_code == 202
    run_worker(services)
    assert len(review.queue(services.db, services.settings, limit=100)) == 50

    token = token_of(mona, "/review/")
    location = mona.post("/review/next", data={"csrf_token": token}).headers["Location"]
    seen: list[str] = []
    while "/review/items/" in location:
        check_id = location.split("/review/items/")[1].split("?")[0]
        seen.append(check_id)
        location = mona.post(f"/review/items/{check_id}/decision",
                             data={"csrf_token": token, "decision": "fabricated"}
                             ).headers["Location"]
    assert len(seen) == len(set(seen)) == 50
    assert review.queue(services.db, services.settings) == []
    assert count(services, BankEntry) == 50


def test_heat_maps_for_a_match_and_for_error_levels(app, auth, services):
    mona = moderator(app, services, "mona")
    ids = seed_queue(mona, auth, services)
    diff = mona.get(f"/review/items/{ids['stolen1']}/diff/{ids['original']}.png")
    assert diff.status_code == 200 and diff.data.startswith(b"\x89PNG")
    ela = mona.get(f"/review/items/{ids['stolen1']}/ela.png")
    assert ela.status_code == 200 and ela.data.startswith(b"\x89PNG")
    # Only pairs the pipeline matched: rendering is heavy, arbitrary pairs are refused.
    assert mona.get(f"/review/items/{ids['stolen1']}/diff/{ids['recycled']}.png"
                    ).status_code == 404
    page = mona.get(f"/review/items/{ids['stolen1']}").get_data(as_text=True)
    assert f"/review/items/{ids['stolen1']}/diff/{ids['original']}.png" in page

"""The v1 API end to end: submit over HTTP, a real RQ worker on a real Redis, read back."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select

from proofcheck.apikeys import create_key, revoke_key
from proofcheck.db import Check
from proofcheck.services import Services
from tests.conftest import blob_files, image_bytes, png_with_size, run_worker


def post_check(client: FlaskClient, auth: dict[str, str], data: bytes, name: str = "x.png",
               **fields: str):
    form = {"file": (io.BytesIO(data), name), **fields}
    return client.post("/api/v1/checks", data=form, headers=auth,
                       content_type="multipart/form-data")


def check_count(services: Services) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(Check)) or 0


def test_submit_then_worker_gives_done_with_fingerprint(client, auth, services):
    data = image_bytes(seed=1)
    response = post_check(client, auth, data, account=" Instagram:@Rose.Shop ", post_id="p17",
                          posted_at="2026-03-03T10:00:00+03:30", kind="receipt")
    assert response.status_code == 202
    created = response.get_json()["checks"]
    assert len(created) == 1 and created[0]["status"] == "queued"
    check_id = created[0]["id"]
    assert check_id.startswith("c_")
    assert response.headers["Location"] == f"/api/v1/checks/{check_id}"

    queued = client.get(f"/api/v1/checks/{check_id}", headers=auth).get_json()
    assert queued["status"] == "queued"
    assert queued["verdict"] is None and queued["matches"] is None

    run_worker(services)
    done = client.get(f"/api/v1/checks/{check_id}", headers=auth).get_json()
    assert done["status"] == "done"
    assert done["account"] == "instagram:@rose.shop"
    assert done["posted_at"] == "2026-03-03T06:30:00+00:00"
    assert done["kind"] == "receipt"
    assert done["width"] == 360 and done["height"] == 640
    assert done["size_bytes"] == len(data)
    import hashlib

    assert done["sha256"] == hashlib.sha256(data).hexdigest()
    assert done["verdict"] == "authentic"
    assert done["matches"] == []
    assert done["reasons"][0]["code"] == "no_copy_found"
    assert done["finished_at"] is not None


def test_same_file_from_another_account_is_flagged_as_stolen(client, auth, services):
    data = image_bytes(seed=2)
    first = post_check(client, auth, data, account="instagram:@original",
                       post_id="p1", posted_at="2026-03-03T09:00:00Z").get_json()
    thief = post_check(client, auth, data, account="instagram:@copycat",
                       post_id="p9", posted_at="2026-05-01T09:00:00Z").get_json()
    run_worker(services)
    first_id, thief_id = first["checks"][0]["id"], thief["checks"][0]["id"]

    stolen = client.get(f"/api/v1/checks/{thief_id}", headers=auth).get_json()
    assert stolen["verdict"] == "fabricated"
    assert stolen["reasons"][0]["code"] == "stolen_from_other_account"
    assert "instagram:@original" in stolen["reasons"][0]["message"]
    assert "3 March 2026" in stolen["reasons"][0]["message"]
    [match] = stolen["matches"]
    assert match == {**match, "check_id": first_id, "account": "instagram:@original",
                     "relation": "exact", "distance": 0, "earlier": True}

    original = client.get(f"/api/v1/checks/{first_id}", headers=auth).get_json()
    assert original["verdict"] == "authentic"  # the owner of a stolen image is not flagged
    assert original["matches"][0]["earlier"] is False
    assert any(r["code"] == "reused_by_other_account" for r in original["reasons"])


def test_several_files_in_one_request(client, auth, services):
    form = {"file": [(io.BytesIO(image_bytes(seed=s)), f"{s}.png") for s in (3, 4, 5)],
            "account": "web:shop.example"}
    response = client.post("/api/v1/checks", data=form, headers=auth,
                           content_type="multipart/form-data")
    assert response.status_code == 202
    assert len(response.get_json()["checks"]) == 3
    run_worker(services)
    statuses = {client.get(c["url"], headers=auth).get_json()["status"]
                for c in response.get_json()["checks"]}
    assert statuses == {"done"}


def test_missing_wrong_and_revoked_keys(client, services):
    data = image_bytes(seed=6)
    no_key = post_check(client, {}, data)
    assert no_key.status_code == 401
    assert no_key.get_json()["error"]["code"] == "unauthorized"
    assert no_key.headers["WWW-Authenticate"].startswith("Bearer")
    assert post_check(client, {"Authorization": "Bearer pc_nope"}, data).status_code == 401

    row, key = create_key(services.db, "reader", ["read"])
    forbidden = post_check(client, {"Authorization": f"Bearer {key}"}, data)
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["code"] == "forbidden"

    revoke_key(services.db, row.id)
    assert client.get("/api/v1/checks/c_x", headers={"Authorization": f"Bearer {key}"}
                      ).status_code == 401
    assert check_count(services) == 0


def test_unknown_check_and_unknown_route_use_the_error_shape(client, auth):
    missing = client.get("/api/v1/checks/c_missing", headers=auth)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    route = client.get("/api/v1/nothing-here", headers=auth)
    assert route.status_code == 404
    assert set(route.get_json()["error"]) == {"code", "message", "field"}
    wrong_method = client.delete("/api/v1/checks", headers=auth)
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


BAD_INPUTS = [
    ("not an image", b"%PDF-1.7 this is a pdf", 415, "not_an_image"),
    ("empty file", b"", 400, "empty_file"),
    ("truncated png", image_bytes(seed=7)[:400], 422, "truncated_image"),
    ("truncated jpeg", image_bytes("JPEG", seed=7)[:700], 422, "truncated_image"),
    ("decompression bomb", png_with_size(100_000, 100_000), 413, "image_too_large"),
    ("tiff", None, 415, "unsupported_format"),
]


def _tiff() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "TIFF")
    return out.getvalue()


def test_bad_files_get_a_clear_4xx_and_leave_nothing(client, auth, services):
    for label, data, status, code in BAD_INPUTS:
        response = post_check(client, auth, data if data is not None else _tiff())
        assert response.status_code == status, label
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == (code, "file"), label
        assert error["message"]
    assert check_count(services) == 0
    assert blob_files(services) == []


def test_one_bad_file_refuses_the_whole_request(client, auth, services):
    form = {"file": [(io.BytesIO(image_bytes(seed=8)), "good.png"),
                     (io.BytesIO(b"GIF89a broken"), "bad.gif")]}
    response = client.post("/api/v1/checks", data=form, headers=auth,
                           content_type="multipart/form-data")
    assert response.status_code == 415
    assert "bad.gif" in response.get_json()["error"]["message"]
    assert check_count(services) == 0


def test_file_over_the_size_limit(client, auth, services):
    services.settings = services.settings.with_overrides({"max_upload_bytes": 10_000})
    response = post_check(client, auth, image_bytes(size=(900, 1600), seed=9) + b"\0" * 20_000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "file_too_large"
    assert check_count(services) == 0


def test_request_over_the_request_limit(app, client, auth, services):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    response = post_check(client, auth, b"\0" * 60_000)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"
    assert check_count(services) == 0


def test_empty_form_missing_file_and_wrong_content_type(client, auth, services):
    empty = client.post("/api/v1/checks", data={}, headers=auth,
                        content_type="multipart/form-data")
    assert empty.status_code == 400
    assert empty.get_json()["error"] == {**empty.get_json()["error"], "code": "no_file",
                                         "field": "file"}
    wrong_field = client.post("/api/v1/checks", data={"image": (io.BytesIO(image_bytes()), "a")},
                              headers=auth, content_type="multipart/form-data")
    assert wrong_field.status_code == 400
    as_json = client.post("/api/v1/checks", json={"file": "x"}, headers=auth)
    assert as_json.status_code == 415
    assert check_count(services) == 0


def test_bad_fields_name_the_field(client, auth, services):
    cases = [({"kind": "selfie"}, "kind"), ({"posted_at": "yesterday"}, "posted_at"),
             ({"posted_at": "2999-01-01T00:00:00Z"}, "posted_at"),
             ({"callback_url": "ftp://example.com/x"}, "callback_url"),
             ({"account": "x" * 301}, "account"), ({"post_id": "a\x00b"}, "post_id")]
    for fields, name in cases:
        response = post_check(client, auth, image_bytes(seed=10), **fields)
        assert response.status_code == 422, fields
        assert response.get_json()["error"]["field"] == name
    assert check_count(services) == 0

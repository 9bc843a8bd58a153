"""The upload portal, through Flask's test client with CSRF switched on."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import blob_files, image_bytes, login, make_user, run_worker
from tests.test_api import check_count


@pytest.fixture(autouse=True)
def _logged_in(client, services):
    # Every portal page needs a login (any role); these tests act as a viewer.
    assert login(client, make_user(services, "vera", "viewer")).status_code == 303


def csrf_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def upload(client, files, **fields):
    data = {"csrf_token": csrf_token(client), "file": files, **fields}
    return client.post("/checks", data=data, content_type="multipart/form-data")


def test_form_page_has_every_field(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("file", "account", "post_id", "posted_at", "caption", "kind"):
        assert f'name="{name}"' in page
    assert "Recent checks" in page


def test_upload_redirects_to_a_page_that_reaches_done(client, services):
    data = image_bytes(seed=21)
    response = upload(client, [(io.BytesIO(data), "shot.png")], account="instagram:@a")
    assert response.status_code == 303
    location = response.headers["Location"]
    check_id = location.rsplit("/", 1)[-1]

    pending = client.get(location).get_data(as_text=True)
    assert 'id="progress"' in pending
    assert client.get(f"/checks/{check_id}/status.json").get_json()["status"] == "queued"

    run_worker(services)
    assert client.get(f"/checks/{check_id}/status.json").get_json()["status"] == "done"
    page = client.get(location).get_data(as_text=True)
    import hashlib

    assert hashlib.sha256(data).hexdigest() in page
    assert f"{len(data):,} bytes" in page
    assert 'id="progress"' not in page
    assert "no_copy_found" in page
    image = client.get(f"/checks/{check_id}/image")
    assert image.data == data and image.mimetype == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"



def test_check_page_shows_the_signals_readably(client, services):
    from tests.test_statusbar import phone

    out = io.BytesIO()
    phone("9:41", "LTE 87%").save(out, "JPEG", quality=85)
    response = upload(client, [(io.BytesIO(out.getvalue()), "shot.jpg")], account="ig:@a")
    run_worker(services)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    summary = page[page.index('id="signals-summary"'):]
    assert "phone resolution 1080x2340" in summary
    assert "status bar: clock 9:41, battery 87%, LTE" in summary
    assert "quality ≈ 85" in summary and "none (carries no weight)" in summary
    check_id = response.headers["Location"].rsplit("/", 1)[-1]
    heatmap = client.get(f"/checks/{check_id}/ela.png")
    assert heatmap.status_code == 200 and heatmap.mimetype == "image/png"
    assert client.get("/checks/c_nope/ela.png").status_code == 404


def test_many_files_go_to_a_list_page(client, services):
    files = [(io.BytesIO(image_bytes(seed=s)), f"{s}.png") for s in (22, 23)]
    response = upload(client, files)
    assert response.status_code == 303
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 checks submitted" in listing
    assert listing.count('data-status="queued"') == 2


def test_bad_upload_shows_an_inline_error_and_keeps_the_fields(client, services):
    response = upload(client, [(io.BytesIO(b"not an image"), "notes.txt")],
                      account="instagram:@keep.me", caption="سلام")
    assert response.status_code == 415
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "notes.txt" in page
    assert 'value="instagram:@keep.me"' in page and "سلام" in page
    assert check_count(services) == 0 and blob_files(services) == []


def test_empty_form_asks_for_a_file(client, services):
    response = upload(client, [(io.BytesIO(b""), "")])
    assert response.status_code == 400
    assert "Choose at least one image" in response.get_data(as_text=True)
    assert check_count(services) == 0


def test_post_without_csrf_token_is_refused(client, services):
    response = client.post("/checks", data={"file": (io.BytesIO(image_bytes()), "a.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert check_count(services) == 0


def test_markup_in_fields_is_shown_as_text(client, services):
    evil = "<script>alert(1)</script>"
    response = upload(client, [(io.BytesIO(image_bytes(seed=24)), "<b>x</b>.png")],
                      account=f"web:{evil}", caption=evil)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;" in page
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_unknown_check_page_is_404(client):
    assert client.get("/checks/c_nope").status_code == 404
    assert client.get("/checks/c_nope/status.json").status_code == 404


def test_health_and_readiness(client, services):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503  # no worker is running
    assert not_ready.get_json()["checks"]["workers"] == 0
    from workers.runner import make_worker

    worker = make_worker(services, simple=True)
    worker.register_birth()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.get_json()["checks"] == {**ready.get_json()["checks"], "database": "ok",
                                              "redis": "ok", "workers": 1}
    finally:
        worker.register_death()


def test_anonymous_visitors_are_sent_to_the_login_page(app, services):
    anonymous = app.test_client()
    for path in ("/", "/checks", "/checks/c_x", "/checks/c_x/image"):
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    assert anonymous.get("/checks/c_x/status.json").status_code == 401
    assert anonymous.get("/healthz").status_code == 200  # ops endpoints stay open


def test_login_rejects_a_wrong_password_and_cookies_are_locked_down(app, services):
    anonymous = app.test_client()
    make_user(services, "mona", "moderator")
    wrong = login(anonymous, "mona", "not the password at all")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.get_data(True)
    assert login(anonymous, "nobody").status_code == 401
    right = login(anonymous, "mona")
    assert right.status_code == 303
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert anonymous.get("/").status_code == 200


def test_login_never_redirects_off_site(app, services):
    anonymous = app.test_client()
    make_user(services, "otto", "viewer")
    page = anonymous.get("/login?next=//evil.example/x").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = anonymous.post("/login", data={"csrf_token": token.group(1), "username": "otto",
                                              "password": "correct horse battery staple",
                                              "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(client):
    page = client.get("/").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token and 'id="whoami"' in page
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    assert client.get("/").status_code == 302

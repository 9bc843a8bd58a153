"""No secret reaches a log line: passwords (right and wrong), API keys (valid, revoked,
made up), the webhook signing secret and the session secret, through the paths that
handle them — login, key creation in the admin page, API calls, a callback delivery
that fails and is retried."""

from __future__ import annotations

import io
import logging
import re

import pytest

from proofcheck.db import ApiKey
from tests.conftest import PASSWORD, callback_app, image_bytes, login, make_user, run_worker
from tests.receiver import receiver


@pytest.fixture
def app(tmp_path, redis_url):
    app = callback_app(tmp_path / "data", redis_url)  # the receiver is on loopback
    yield app
    app.extensions["proofcheck"].db.dispose()


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_no_secret_is_ever_logged(client, services, app, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    wrong_password = "Tr0ub4dor&3-not-the-password"
    made_up_key = "pc_" + "x" * 40

    assert login(client, make_user(services, "ada", "admin"), wrong_password).status_code == 401
    assert login(client, "ada").status_code == 303
    page = client.get("/admin/").get_data(as_text=True)
    created = client.post("/admin/keys", data={"csrf_token": form_token(page),
                                                "name": "platform", "scope": ["submit", "read"]})
    assert created.status_code == 201
    key = re.search(r"(pc_[A-Za-z0-9_\-]{20,})", created.get_data(as_text=True))
    assert key, "the new key is shown once on the page"
    api_key = key.group(1)
    bearer = {"Authorization": f"Bearer {api_key}"}

    assert client.get("/api/v1/checks/nope",
                      headers={"Authorization": f"Bearer {made_up_key}"}).status_code == 401
    with receiver(statuses=[500]) as hook:
        response = client.post("/api/v1/checks", headers=bearer,
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes(seed=3)), "a.png"),
                                     "callback_url": hook.url})
        assert response.status_code == 202
        run_worker(services)  # the check, then its callback: refused once, then delivered
        assert len(hook.received) == 2
    with services.db.session() as session:
        webhook_secret = session.query(ApiKey.webhook_secret).filter(
            ApiKey.name == "platform").scalar()
    assert webhook_secret

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) >= 5, "the paths above did log (worker, callback, login)"
    for secret in (PASSWORD, wrong_password, api_key, made_up_key, webhook_secret,
                   app.config["SECRET_KEY"]):
        assert secret not in logged

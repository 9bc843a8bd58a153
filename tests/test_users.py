"""Users: `proofcheck create-user`, password hashing, sessions that end when they should,
and the admin pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from proofcheck import users
from proofcheck.db import Database, User
from tests.conftest import PASSWORD, login, make_user


def proofcheck(*args: str, data_dir: Path, input_text: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(data_dir)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "proofcheck", *args], env=env, input=input_text,
                          capture_output=True, text=True, timeout=60)


def test_create_user_from_the_command_line(tmp_path):
    made = proofcheck("create-user", "Mona", "--role", "moderator", "--password-stdin",
                      data_dir=tmp_path, input_text=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "created moderator Mona" in made.stdout
    db = Database(f"sqlite:///{tmp_path / 'proofcheck.db'}")
    try:
        with db.session() as session:
            row = session.scalar(select(User).where(User.username == "Mona"))
            assert row is not None and row.role == "moderator"
            assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
        assert users.authenticate(db, "mona", PASSWORD) is not None  # names ignore case
        assert users.authenticate(db, "Mona", PASSWORD + "x") is None
    finally:
        db.dispose()
    taken = proofcheck("create-user", "mona", "--password-stdin", data_dir=tmp_path,
                       input_text=PASSWORD + "\n")
    assert taken.returncode != 0 and "taken" in taken.stderr
    short = proofcheck("create-user", "otto", "--password-stdin", data_dir=tmp_path,
                       input_text="short\n")
    assert short.returncode != 0 and "at least" in short.stderr
    bad_role = proofcheck("create-user", "otto", "--role", "root", "--password-stdin",
                          data_dir=tmp_path, input_text=PASSWORD + "\n")
    assert bad_role.returncode != 0


def test_disabling_suspends_and_a_new_password_ends_existing_sessions(app, client, services):
    make_user(services, "mona", "moderator")
    login(client, "mona")
    assert client.get("/review/").status_code == 200
    users.set_disabled(services.db, "mona", True, actor="tests")
    assert client.get("/review/").status_code == 302
    users.set_disabled(services.db, "mona", False, actor="tests")
    assert client.get("/review/").status_code == 200  # disabling suspends, enabling resumes
    users.set_password(services.db, "mona", "another long password", actor="tests")
    assert client.get("/review/").status_code == 302
    assert login(client, "mona", "another long password").status_code == 303


def test_admin_manages_users_and_keys(app, client, services):
    make_user(services, "root", "admin")
    login(client, "root")
    page = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    created = client.post("/admin/users", data={"csrf_token": token.group(1), "username": "vic",
                                                "password": PASSWORD, "role": "viewer"})
    assert created.status_code == 303
    client.post("/admin/users/vic", data={"csrf_token": token.group(1), "role": "moderator"})
    assert [u.role for u in users.list_users(services.db) if u.username == "vic"] == [
        "moderator"]
    key = client.post("/admin/keys", data={"csrf_token": token.group(1), "name": "partner",
                                           "scope": ["review"]})
    assert key.status_code == 201
    plain = re.search(r'id="new-key">([^<]+)<', key.get_data(as_text=True))
    assert plain and plain.group(1).startswith("pc_")
    queue = client.get("/api/v1/review/queue",
                       headers={"Authorization": f"Bearer {plain.group(1)}"})
    assert queue.status_code == 200
    client.post("/admin/users/vic", data={"csrf_token": token.group(1),
                                          "password": "a brand new password"})
    assert users.authenticate(services.db, "vic", "a brand new password") is not None
    assert client.post("/admin/users/root", data={"csrf_token": token.group(1),
                                                  "role": "viewer"}).status_code == 422
    other = app.test_client()
    login(other, "vic", "a brand new password")
    assert other.get("/admin/").status_code == 403

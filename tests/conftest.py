"""Fixtures: a real Redis server per test session, a fresh data folder per test, the app,
a client, an API key, and image bytes made on the spot."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from redis import Redis

from proofcheck import create_app
from proofcheck.apikeys import create_key
from proofcheck.config import Settings
from proofcheck.redis_server import RedisServer
from proofcheck.services import Services
from workers.runner import make_worker


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), persist=False).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    Redis.from_url(redis_server.url).flushall()
    return redis_server.url


def make_settings(data_dir: Path, redis_url: str | None, **overrides: Any) -> Settings:
    base = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'test.db'}",
                    redis_url=redis_url, secret_key="test-secret")
    return base.with_overrides(overrides) if overrides else base



def callback_app(data_dir: Path, redis_url: str) -> Flask:
    """An app whose callbacks may go to a receiver on loopback, retried with no wait,
    and without OCR (callback and batch mechanics do not need the text)."""
    return create_app(make_settings(data_dir, redis_url, allow_private_callbacks=True,
                                    callback_backoff_s=(0, 0, 0), ocr=False))


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    return make_settings(tmp_path / "data", redis_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["proofcheck"].db.dispose()


@pytest.fixture
def services(app: Flask) -> Services:
    found: Services = app.extensions["proofcheck"]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_key(services: Services) -> str:
    return create_key(services.db, "tests")[1]


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


PASSWORD = "correct horse battery staple"


def make_user(services: Services, username: str, role: str = "viewer") -> str:
    from proofcheck.users import create_user

    create_user(services.db, username, PASSWORD, role, actor="tests")
    return username


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the real form (CSRF token and all), as a browser would."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the login form carries a CSRF token"
    return client.post("/login", data={"csrf_token": token.group(1), "username": username,
                                       "password": password})


@pytest.fixture
def viewer(client: FlaskClient, services: Services) -> FlaskClient:
    """The client, logged in as a viewer."""
    login(client, make_user(services, "vera", "viewer"))
    return client


def run_worker(services: Services) -> None:
    """Process everything queued with a real RQ worker (in-process, burst mode)."""
    make_worker(services, simple=True).work(burst=True, with_scheduler=False)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (360, 640), seed: int = 0,
                text: str = "") -> bytes:
    """A small screenshot-like image; different seeds give unrelated images (different
    layouts, colours and shapes), so the near-duplicate engine rightly tells them apart."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(150, 256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1 = min(size[0], x0 + rng.randrange(10, size[0] // 2 + 11))
        y1 = min(size[1], y0 + rng.randrange(10, size[1] // 3 + 11))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    if text:
        draw.text((24, 10), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def distinct_image(seed: int, fmt: str = "PNG", size: tuple[int, int] = (360, 640)) -> bytes:
    """An image unrelated to every other seed's (image_bytes already is one)."""
    return image_bytes(fmt, size, seed)


def png_with_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND",
                                                                                         b"")


def blob_files(services: Services) -> list[Path]:
    root = services.blobs.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests talk to loopback servers only.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

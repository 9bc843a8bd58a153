"""The portal and the review queue in a real Chromium (Debian's, driven by Playwright),
against `proofcheck serve`: gunicorn, a real RQ worker and a private Redis.

A missing Playwright or Chromium fails these tests (no skip): they are how we know the
pages, the keyboard and the claims work for a person.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from proofcheck.apikeys import create_key
from proofcheck.db import Database
from proofcheck.redis_server import free_port
from proofcheck.users import create_user
from tests.conftest import PASSWORD, distinct_image, image_bytes
from tests.test_serve import call, multipart

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parent.parent / "docs"


def picture(tmp_path: Path, name: str) -> str:
    """Where a screenshot goes: docs/ when PROOFCHECK_UPDATE_DOCS=1 (to refresh the README's
    pictures on purpose), else the test's own folder, so a test run leaves the tree clean."""
    folder = DOCS if os.environ.get("PROOFCHECK_UPDATE_DOCS") == "1" else tmp_path
    return str(folder / name)
WAIT_MS = 30_000  # how long a page may take to show what we wait for (a ceiling, not a check)
expect.set_options(timeout=WAIT_MS)


@dataclass
class Server:
    base: str
    key: str
    proc: subprocess.Popen[str]
    output: list[str]


def _drain(proc: subprocess.Popen[str], sink: list[str]) -> None:
    # gunicorn's access log goes to stdout: keep reading so the pipe never fills and blocks.
    assert proc.stdout is not None
    for line in proc.stdout:
        sink.append(line)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("browser")
    port = free_port()
    # The tests poll the API for results faster than the per-key limit a client gets.
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(data),
           "PROOFCHECK_RATE_LIMIT": "100000/minute"}
    for name in ("REDIS_URL", "DATABASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                 "https_proxy"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "proofcheck", "serve", "--port", str(port),
                             "--web-processes", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            output.append(line)
            if "ProofCheck is running at" in line or proc.poll() is not None:
                break
        assert "ProofCheck is running at" in "".join(output), "".join(output)
        threading.Thread(target=_drain, args=(proc, output), daemon=True).start()
        db = Database(f"sqlite:///{data / 'proofcheck.db'}")
        for name, role in (("mona", "moderator"), ("otto", "moderator"), ("vera", "viewer")):
            create_user(db, name, PASSWORD, role, actor="tests")
        key = create_key(db, "browser-tests")[1]
        db.dispose()
        yield Server(f"http://127.0.0.1:{port}", key, proc, output)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(45)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def logged_in(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server.base}/review/")
    assert "/login" in page.url  # a stranger is sent to the login page first
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page.locator("#whoami")).to_have_text(username)
    return page


def keys_ready(page: Page) -> None:
    """Wait until review.js has bound its keys on the page now shown."""
    expect(page.locator('html[data-shortcuts="on"]')).to_have_count(1)


def submit(server: Server, data: bytes, account: str, post_id: str,
           posted_at: str = "") -> str:
    fields = {"account": account, "post_id": post_id, "kind": "receipt"}
    if posted_at:
        fields["posted_at"] = posted_at
    body, content_type = multipart(fields, data, f"{post_id}.png")
    status, created = call(f"{server.base}/api/v1/checks", server.key, body, content_type)
    assert status == 202
    return str(created["checks"][0]["id"])


def wait_done(server: Server, check_ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    pending = set(check_ids)
    while pending and time.monotonic() < deadline:
        pending = {c for c in pending
                   if call(f"{server.base}/api/v1/checks/{c}", server.key)[1]["status"]
                   not in ("done", "failed")}
        if pending:
            time.sleep(0.3)
    assert not pending, f"checks not finished: {pending}"


def stolen_items(server: Server, tag: str, seeds: list[int],
                 lifelike: bool = False) -> list[str]:
    """Originals posted by one account, then copied by `instagram:@thief.<tag>`: each
    copy is flagged (stolen) and waits in the review queue. `lifelike` images look like
    screenshots (for the pictures in docs/) but also like each other, which costs the
    worker near-duplicate checks; the others are random blocks, alike to nothing."""

    def image(seed: int) -> bytes:
        return image_bytes(seed=seed, text=f"receipt {seed}") if lifelike else distinct_image(
            seed)

    originals = [submit(server, image(s), f"instagram:@owner.{tag}", f"o{s}",
                        f"2026-03-{1 + n:02d}T10:00:00Z") for n, s in enumerate(seeds)]
    wait_done(server, originals)
    copies = [submit(server, image(s), f"instagram:@thief.{tag}", f"t{s}",
                     f"2026-04-{1 + 4 * n:02d}T18:30:00Z") for n, s in enumerate(seeds)]
    wait_done(server, copies)
    return copies


def test_upload_through_the_form_and_watch_it_reach_done(browser, server, tmp_path):
    page = logged_in(browser, server, "vera")
    page.goto(f"{server.base}/")
    data = image_bytes(seed=301, text="Deposit 2,500,000 IRR")
    page.set_input_files('input[name="file"]', files=[
        {"name": "deposit.png", "mimeType": "image/png", "buffer": data}])
    page.fill('input[name="account"]', "instagram:@rose.shop")
    page.fill('input[name="post_id"]', "p17")
    page.fill('textarea[name="caption"]', "رسید واریز مشتری — customer deposit")
    page.select_option('select[name="kind"]', "receipt")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=picture(tmp_path, "upload.png"), full_page=True)

    page.click('form.upload button[type="submit"]')
    expect(page.locator('#status[data-status="done"]')).to_be_visible()
    expect(page.locator("#sha256")).to_have_text(hashlib.sha256(data).hexdigest())
    expect(page.locator("#size")).to_contain_text(f"{len(data):,} bytes")
    expect(page.locator("#progress")).to_have_count(0)


def test_moderator_claims_and_decides_with_the_keyboard(browser, server, tmp_path):
    items = stolen_items(server, "kb", [311, 312, 313], lifelike=True)
    # One file posted twice by one shop: a `review` item, so the queue shows both kinds.
    recycled = distinct_image(314)
    wait_done(server, [submit(server, recycled, "web:deals.example", "d1",
                              "2026-02-01T08:00:00Z")])
    wait_done(server, [submit(server, recycled, "web:deals.example", "d2",
                              "2026-02-20T08:00:00Z")])
    page = logged_in(browser, server, "mona")
    page.goto(f"{server.base}/review/")
    for check_id in items:
        expect(page.locator(f'tr[data-check="{check_id}"]')).to_be_visible()
    page.screenshot(path=picture(tmp_path, "review-queue.png"), full_page=True)

    page.goto(f"{server.base}/review/?account=instagram:@thief.kb")
    expect(page.locator("table.queue tbody tr[data-href]")).to_have_count(3)
    keys_ready(page)
    page.keyboard.press("j")
    expect(page.locator("tr.selected")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#decide-panel")).to_be_visible()
    first = page.locator("#check-id").inner_text()
    expect(page.locator("#claim-state")).to_contain_text("Not claimed")
    keys_ready(page)
    page.keyboard.press("c")
    expect(page.locator("#claim-state")).to_contain_text("Claimed by you")
    # The original, side by side (near-duplicates of the other receipts may join it).
    expect(page.locator('#side-by-side figure.match[data-relation="exact"]')).to_have_count(1)
    for heatmap in page.locator("details[open] img").all():  # rendered by the server
        expect(heatmap).to_have_js_property("complete", True)
        expect(heatmap).not_to_have_js_property("naturalWidth", 0)
    page.screenshot(path=picture(tmp_path, "evidence.png"), full_page=True)

    # f, a, u: each decides the open item and opens the next one, already claimed.
    decided = [first]
    for key in ("f", "a"):
        keys_ready(page)
        page.keyboard.press(key)
        expect(page.locator("#check-id")).not_to_have_text(decided[-1])
        expect(page.locator("#claim-state")).to_contain_text("Claimed by you")
        decided.append(page.locator("#check-id").inner_text())
    keys_ready(page)
    page.keyboard.press("u")
    expect(page.locator("#queue-empty")).to_be_visible()
    assert sorted(decided) == sorted(items)

    page.goto(f"{server.base}/review/items/{first}")
    entry = page.locator('#audit tr[data-action="decide"]')
    expect(entry).to_contain_text("mona")
    expect(entry).to_contain_text("fabricated")
    expect(page.locator("#bank-name")).to_contain_text("known fabricated #")
    _, body = call(f"{server.base}/api/v1/checks/{first}", server.key)
    assert body["review"]["decision"] == "fabricated" and body["review"]["by"] == "mona"

    page.goto(f"{server.base}/review/dashboard")
    expect(page.locator("#decisions-chart rect.bar-fabricated")).to_have_count(1)
    page.screenshot(path=picture(tmp_path, "dashboard.png"), full_page=True)


def test_a_second_moderator_cannot_take_a_claimed_item(browser, server):
    [item] = stolen_items(server, "claim", [321])
    mona = logged_in(browser, server, "mona")
    mona.goto(f"{server.base}/review/items/{item}")
    mona.click("#claim-form button")
    expect(mona.locator("#claim-state")).to_contain_text("Claimed by you")

    otto = logged_in(browser, server, "otto")
    otto.goto(f"{server.base}/review/items/{item}")
    expect(otto.locator("#claim-state")).to_contain_text("Claimed by mona")
    expect(otto.locator('button[data-key="f"]')).to_be_disabled()
    keys_ready(otto)
    otto.keyboard.press("f")  # a disabled button: the key does nothing
    otto.click("#claim-form button")
    expect(otto.locator("#review-error")).to_contain_text("mona is working on this item")
    _, body = call(f"{server.base}/api/v1/checks/{item}", server.key)
    assert body["review"] is None


def test_a_viewer_cannot_decide(browser, server):
    [item] = stolen_items(server, "viewer", [331])
    page = logged_in(browser, server, "vera")
    response = page.goto(f"{server.base}/review/items/{item}")
    assert response is not None and response.status == 403
    response = page.goto(f"{server.base}/checks/{item}")
    assert response is not None and response.status == 200
    expect(page.locator("#decision-form")).to_have_count(0)
    expect(page.get_by_role("link", name="Review queue")).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    posted = page.request.post(f"{server.base}/review/items/{item}/decision",
                               form={"csrf_token": token or "", "decision": "authentic"})
    assert posted.status == 403
    _, body = call(f"{server.base}/api/v1/checks/{item}", server.key)
    assert body["review"] is None
    assert body["verdict"] in ("review", "fabricated")  # it waits in the queue

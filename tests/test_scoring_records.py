"""Relations read for re-scoring: the other side's text is cached only once that check
is done (its OCR output is final then), and a rewrite can drop it from the cache."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from proofcheck.db import Check
from proofcheck.scoring.records import forget_summary, relations
from proofcheck.services import Services
from tests.conftest import image_bytes
from tests.test_scoring_rescore import local, post  # noqa: F401  (the fixture)

WORDS = "transfer successful amount paid from account to account reference date time"
OTHER = "good morning do you ship to mombasa price please how many days delivery"


def with_text(services: Services, check_id: str, text: str, status: str = "done") -> None:
    with services.db.session() as session:
        session.execute(update(Check).where(Check.id == check_id).values(
            status=status, signals={"ocr": {"text": text, "fields": []}}))


def same_text(services: Services, check_id: str) -> float:
    with services.db.session() as session:
        [match] = relations(session, [check_id], {check_id: {"ocr": {"text": WORDS}}})[check_id]
    return match.same_text


def test_text_of_a_check_still_running_is_read_again(local: Services) -> None:  # noqa: F811
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    first = post(local, "instagram:@a", image_bytes(seed=8), "p1", when)
    second = post(local, "instagram:@b", image_bytes(seed=8), "p2", when + dt.timedelta(days=1))
    # As if the first were still being processed (re-scoring the second cached its
    # summary when it was done: drop that).
    with_text(local, first, WORDS, status="running")
    forget_summary(first)
    assert same_text(local, second) == 1.0
    with_text(local, first, OTHER, status="running")  # not final: nothing was cached
    assert same_text(local, second) < 0.2


def test_text_of_a_done_check_is_cached_until_forgotten(local: Services) -> None:  # noqa: F811
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    first = post(local, "instagram:@a", image_bytes(seed=9), "p1", when)
    second = post(local, "instagram:@b", image_bytes(seed=9), "p2", when + dt.timedelta(days=1))
    with_text(local, first, WORDS)
    forget_summary(first)  # whatever an earlier read of this check cached
    assert same_text(local, second) == 1.0
    with_text(local, first, OTHER)
    assert same_text(local, second) == 1.0  # served from the cache: done checks are final
    forget_summary(first)
    assert same_text(local, second) < 0.2

"""Running a generated scenario through the real pipeline, in-process.

Each post is submitted (`proofcheck.submission.submit`: stored, committed) and
processed (`proofcheck.processing.process_check`) in the scenario's order against a
private SQLite database in `<scenario>/.work/`, exactly as a worker would. Stages
the pipeline does not run yet (near-duplicate search, forensic and text signals) are
filled in afterwards from the same engines (`backfill`), so training sees what the
finished pipeline will store; once the pipeline writes them, `backfill` finds them
present and does nothing. The database is kept, so `train` and `evaluate` on the
same scenario process it once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from proofcheck.config import Settings
from proofcheck.db import Check, Hash, Match, utcnow
from proofcheck.imaging import decode
from proofcheck.processing import process_check
from proofcheck.scoring.records import forget_summary
from proofcheck.scoring.synth import image_bytes, load_scenario
from proofcheck.services import Services
from proofcheck.submission import CheckMeta, Upload, normalise_account, parse_time, submit

log = logging.getLogger(__name__)
SIGNATURE_ALGORITHM = "proofcheck-signatures"
# Kinds whose pictures hold no text worth reading: OCR costs seconds per image.
NO_TEXT_KINDS = frozenset({"photo", "shipping"})


@dataclass
class Backfill:
    """The scenario's own near-duplicate index (item id = Hash row id)."""

    ocr: bool = True
    index: Any = None
    item_check: dict[int, str] = field(default_factory=dict)
    signatures: dict[int, Any] = field(default_factory=dict)


def work_services(folder: Path) -> Services:
    work = folder / ".work"
    # Scores are not needed while a scenario is processed: features are computed from
    # the final state, so re-scoring after every check would only cost time.
    settings = Settings(data_dir=work, database_url=f"sqlite:///{work / 'proofcheck.db'}",
                        redis_url=None, secret_key="synthetic-scenario",
                        extra={"rescore": False})
    services = Services(settings)
    services.migrate()
    return services


def _near_duplicates(services: Services, check_id: str, data: bytes, decoded: Any,
                     state: Backfill) -> None:
    try:
        from proofcheck.hashing import file_signatures, index_keys
        from proofcheck.index import HammingIndex
        from proofcheck.matching import compare
    except ImportError:  # the engine is not there: exact matches only
        return
    with services.db.session() as session:
        if session.scalar(select(func.count()).select_from(Hash)
                          .where(Hash.check_id == check_id)):
            return  # the pipeline stores signatures itself now
        if state.index is None:
            state.index = HammingIndex()
        sig = file_signatures(data, services.settings.max_pixels, decoded)
        row = Hash(check_id=check_id, algorithm=SIGNATURE_ALGORITHM, value=sig.to_bytes())
        session.add(row)
        session.flush()
        me = session.get(Check, check_id)
        assert me is not None
        have = set(session.scalars(select(Match.other_check_id)
                                   .where(Match.check_id == check_id)).all())
        found = state.index.search_many(index_keys(sig), 16, 100)
        now = utcnow()
        for item_id, _ in found:
            other_id = state.item_check.get(item_id)
            if other_id is None or other_id in have or other_id == check_id:
                continue
            verdict = compare(sig, state.signatures[item_id])
            if verdict is None:
                continue
            other = session.get(Check, other_id)
            assert other is not None
            mine, theirs = (me.posted_at or me.submitted_at), (other.posted_at
                                                               or other.submitted_at)
            session.add(Match(check_id=check_id, other_check_id=other_id,
                              relation=verdict.relation, distance=verdict.distance,
                              earlier=theirs < mine or (theirs == mine and other_id < check_id),
                              details={"changed_box": verdict.changed_box,
                                       "score": verdict.score, "backfill": True},
                              created_at=now))
            have.add(other_id)
        keys = index_keys(sig)
        state.index.add_many([row.id] * len(keys), keys)
        state.item_check[row.id] = check_id
        state.signatures[row.id] = sig


def _signals(services: Services, check_id: str, data: bytes, decoded: Any, kind: str | None,
             state: Backfill) -> None:
    with services.db.session() as session:
        check = session.get(Check, check_id)
        assert check is not None
        signals = dict(check.signals or {})
        posted_at = check.posted_at
    changed = False
    if "exif" not in signals:
        try:
            from proofcheck import forensics

            signals.update(forensics.run_all(data, decoded, posted_at))
            changed = True
        except ImportError:
            pass
    if "ocr" not in signals and state.ocr and kind not in NO_TEXT_KINDS:
        try:
            from proofcheck.text import text_signals

            signals["ocr"] = text_signals(decoded.image)
            changed = True
        except ImportError:
            pass
    if changed:
        with services.db.session() as session:
            session.execute(update(Check).where(Check.id == check_id).values(signals=signals))
        forget_summary(check_id)


def backfill(services: Services, check_id: str, data: bytes, kind: str | None,
             state: Backfill) -> None:
    """Add the stages the pipeline does not store yet (see the module docstring)."""
    decoded = decode(data, max_pixels=services.settings.max_pixels)
    _near_duplicates(services, check_id, data, decoded, state)
    _signals(services, check_id, data, decoded, kind, state)


def run_scenario(folder: Path, ocr: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> tuple[Services,
                                                                               dict[str, str]]:
    """Process every post once; give the services and post file -> check id."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    manifest = load_scenario(folder)
    services = work_services(folder)
    ids_path = folder / ".work" / "checks.json"
    done: dict[str, str] = json.loads(ids_path.read_text()) if ids_path.exists() else {}
    if done and len(done) == len(manifest["posts"]):
        return services, done
    if done:  # an interrupted run: start over, the order matters
        services.db.dispose()
        for p in (folder / ".work").glob("proofcheck.db*"):
            p.unlink()
        services = work_services(folder)
        done = {}
    state = Backfill(ocr=ocr)
    # There is no queue here: the warning that each check was not queued is expected.
    logging.getLogger("proofcheck.submission").setLevel(logging.ERROR)
    posts = manifest["posts"]
    for i, post in enumerate(posts):
        data = image_bytes(folder, post)
        meta = CheckMeta(account=normalise_account(post["account"]), post_id=post["post_id"],
                         posted_at=parse_time(post["posted_at"], "posted_at"),
                         caption=post.get("caption"), kind=post.get("kind"))
        check = submit(services, [Upload(post["file"], data)], meta)[0]
        process_check(services, check.id)
        backfill(services, check.id, data, post.get("kind"), state)
        done[post["file"]] = check.id
        if progress:
            progress(i + 1, len(posts))
    ids_path.write_text(json.dumps(done))
    return services, done

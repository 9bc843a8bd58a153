"""Signatures computed again from the stored originals.

The index holds only signatures of the current version (`neardup.ALGORITHM`): when a
hash changes meaning, `hashing.SIGNATURE_VERSION` is bumped and every image checked
before leaves the search, silently. Records of the current version can also lack
what was added to it later (the straightened keys of a tilted image, since 2026-12-03,
without which a tilted image checked first is not found by its straight original), and
checks can lack a keypoint sketch (`features.Sketch`, since 2026-12-05), without which
a search ranks them only when they are among its nearest few, or a sketch that does not
say which FAST threshold found its keypoints (since 2026-12-06), which a search ranks
with the query's keypoints at its own threshold (`features.align` says why that misses
edits of smooth pictures). `resign` recomputes them from the stored files, which are
the source of truth.

Each check's new row replaces its old ones in one transaction, and gets a new row id,
so running workers index it on their next catch-up; the rows they indexed before are
skipped once gone (`NearDuplicateIndex.search`), and dropped at their next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from proofcheck.db import Check, Hash, utcnow
from proofcheck.features import Sketch, sketch
from proofcheck.hashing import Signatures
from proofcheck.imaging import ImageError, decode
from proofcheck.neardup import ALGORITHM, SKETCH_ALGORITHM
from proofcheck.services import Services
from proofcheck.storage import BlobNotFound
from proofcheck.views import stored_signatures

log = logging.getLogger(__name__)


@dataclass
class ResignReport:
    examined: int = 0  # checks with a signature row of any version
    resigned: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # check id -> why


def outdated(algorithm: str, value: bytes) -> bool:
    """Whether a stored row needs computing again: a signature of another version, a
    record that does not parse, a signature without the straightened keys, or a
    sketch without its threshold."""
    try:
        if algorithm == SKETCH_ALGORITHM:
            return Sketch.from_bytes(value).threshold is None
        if algorithm != ALGORITHM:
            return True
        return Signatures.from_bytes(value).straightened_hashes is None
    except ValueError:
        return True


def resign(services: Services, everything: bool = False, batch: int = 500) -> ResignReport:
    """Recompute the signatures of every check whose row is `outdated` (every check
    with a row, with `everything`). A check whose original is gone or no longer
    decodes keeps its row, and is reported."""
    report = ResignReport()
    last = ""
    while True:
        with services.db.session() as session:
            checks = session.execute(
                select(Hash.check_id).where(Hash.check_id > last).distinct()
                .order_by(Hash.check_id).limit(batch)
            ).scalars().all()
            rows = session.execute(
                select(Hash.check_id, Hash.algorithm, Hash.value, Check.sha256)
                .join(Check, Check.id == Hash.check_id).where(Hash.check_id.in_(checks))
            ).all() if checks else []
        if not checks:
            return report
        last = checks[-1]
        report.examined += len(checks)
        sketched = {check_id for check_id, algorithm, _value, _sha256 in rows
                    if algorithm == SKETCH_ALGORITHM}
        stale = {check_id: sha256 for check_id, algorithm, value, sha256 in rows
                 if everything or outdated(algorithm, value) or check_id not in sketched}
        for check_id, sha256 in stale.items():
            try:
                _resign_one(services, check_id, sha256)
            except (BlobNotFound, ImageError) as exc:
                log.warning("resign %s: original not usable (%s)", check_id, exc)
                report.failed[check_id] = str(exc) or type(exc).__name__
                continue
            report.resigned.append(check_id)


def _resign_one(services: Services, check_id: str, sha256: str) -> None:
    data = services.blobs.get(sha256)
    max_pixels = services.settings.max_pixels
    decoded = decode(data, max_pixels)
    signature = stored_signatures(data, max_pixels, decoded)
    keypoints = sketch(decoded.image)
    with services.db.session() as session:
        # Added before the old rows go: SQLite gives a new row the highest id plus one,
        # and the old row's id again if it was the highest, which no worker would
        # catch up on.
        now = utcnow()
        row = Hash(check_id=check_id, algorithm=ALGORITHM, value=signature.to_bytes(),
                   created_at=now)
        sketch_row = Hash(check_id=check_id, algorithm=SKETCH_ALGORITHM,
                          value=keypoints.to_bytes(), created_at=now)
        session.add_all([row, sketch_row])
        session.flush()
        session.execute(delete(Hash).where(Hash.check_id == check_id,
                                           Hash.id.not_in([row.id, sketch_row.id])))

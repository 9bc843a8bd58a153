"""`proofcheck scan`: the check pipeline on local files, in-process, no Redis, no database.

Files are checked in the order given (folders sorted by path), each against the files
before it, so scanning one seller's folder finds its recycled images and scanning two
sellers' folders finds the images one took from the other.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofcheck import pipeline
from proofcheck.imaging import ImageError
from proofcheck.serialize import iso


@dataclass(frozen=True)
class ScanRow:
    path: Path
    result: pipeline.PipelineResult | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        if self.result is None:
            return {"path": str(self.path), "status": "failed", "error": self.error}
        r = self.result
        return {
            "path": str(self.path), "status": "done", "sha256": r.fingerprint.sha256,
            "size_bytes": r.fingerprint.size_bytes, "format": r.fingerprint.format,
            "width": r.fingerprint.width, "height": r.fingerprint.height,
            "verdict": r.assessment.verdict, "score": r.assessment.score,
            "reasons": [vars(reason) for reason in r.assessment.reasons],
            "matches": [{**vars(m), "posted_at": iso(m.posted_at),
                         "submitted_at": iso(m.submitted_at)} for m in r.matches],
        }


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file()
                              and not p.name.startswith("."))
        else:
            yield path


def scan(paths: Iterable[Path], thresholds: pipeline.Thresholds, max_pixels: int,
         max_bytes: int, account: str | None = None) -> list[ScanRow]:
    seen: dict[str, list[pipeline.Sighting]] = defaultdict(list)
    rows: list[ScanRow] = []
    start = dt.datetime.now(dt.UTC)
    for number, path in enumerate(expand(paths)):
        try:
            if path.stat().st_size > max_bytes:
                raise ImageError("file_too_large", f"larger than {max_bytes} bytes")
            data = path.read_bytes()
        except OSError as exc:
            rows.append(ScanRow(path, None, f"unreadable: {exc.strerror or exc}"))
            continue
        except ImageError as exc:
            rows.append(ScanRow(path, None, f"{exc.code}: {exc.message}"))
            continue
        item = pipeline.CheckInput(
            check_id=f"scan-{number}",
            account=account or f"folder:{path.resolve().parent.name.casefold()}",
            post_id=path.name,
            posted_at=None,
            submitted_at=start + dt.timedelta(microseconds=number),
        )
        try:
            result = pipeline.run(data, item, lambda sha: seen[sha], thresholds, max_pixels)
        except ImageError as exc:
            rows.append(ScanRow(path, None, f"{exc.code}: {exc.message}"))
            continue
        seen[result.fingerprint.sha256].append(pipeline.Sighting(
            check_id=item.check_id, account=item.account, post_id=item.post_id,
            posted_at=None, submitted_at=item.submitted_at))
        rows.append(ScanRow(path, result, None))
    return rows


def format_table(rows: list[ScanRow]) -> str:
    header = ("FILE", "VERDICT", "SCORE", "SIZE", "PIXELS", "FORMAT", "SHA256", "TOP REASON")
    lines = [header]
    for row in rows:
        if row.result is None:
            lines.append((str(row.path), "error", "-", "-", "-", "-", "-", row.error or ""))
            continue
        r = row.result
        top = r.assessment.reasons[0].message if r.assessment.reasons else ""
        lines.append((str(row.path), r.assessment.verdict, f"{r.assessment.score:.2f}",
                      f"{r.fingerprint.size_bytes:,}",
                      f"{r.fingerprint.width}x{r.fingerprint.height}", r.fingerprint.format,
                      r.fingerprint.sha256[:12], top))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        + "  " + line[-1]
        for line in lines
    )

"""The scenario generator and its run through the real pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proofcheck.cli import main
from proofcheck.imaging import decode
from proofcheck.pipeline import Thresholds
from proofcheck.scoring.synth import FRAUD_TYPES, load_scenario, photo_sources, write_scenario
from proofcheck.scoring.train import build_dataset, evaluate
from tests.test_scoring_model import trained_model

PHOTOS = photo_sources(["/usr/share/backgrounds", "skimage"])
needs_photos = pytest.mark.skipif(not PHOTOS, reason="no stock photographs installed "
                                  "(apt-get install mate-backgrounds or pip install "
                                  "scikit-image)")


def without_time(manifest: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in manifest.items() if k != "created_at"}


@needs_photos
def test_scenario_is_labelled_varied_and_reproducible(tmp_path: Path) -> None:
    a = write_scenario(tmp_path / "a", 12, seed=4, photos=PHOTOS)
    b = write_scenario(tmp_path / "b", 3, seed=4, photos=PHOTOS)
    b2 = write_scenario(tmp_path / "b2", 3, seed=4, photos=PHOTOS)
    c = write_scenario(tmp_path / "c", 3, seed=5, photos=PHOTOS)
    assert without_time(b) == without_time(b2)
    assert [p["caption"] for p in b["posts"]] != [p["caption"] for p in c["posts"]]
    types = {acc["type"] for acc in a["accounts"]}  # type: ignore[index]
    assert types == {"honest", *FRAUD_TYPES}
    posts = a["posts"]
    assert isinstance(posts, list)
    for post in posts:
        assert (post["label"] == 1) == (post["fraud_type"] is not None)
        data = (tmp_path / "a" / "images" / post["file"]).read_bytes()
        assert decode(data, max_pixels=50_000_000).width > 0
    # Every language is drawn, and thieves' posts come after what they took.
    assert {acc["lang"] for acc in a["accounts"]} >= {"fas", "eng"}  # type: ignore[index]
    by_file = {p["file"]: p for p in posts}
    for post in posts:
        if post["fraud_type"] == "stolen":
            assert post["posted_at"] > by_file[post["source"]]["posted_at"]
            assert post["account"] != by_file[post["source"]]["account"]


@needs_photos
def test_photo_halves_are_disjoint() -> None:
    a = set(photo_sources(["/usr/share/backgrounds", "skimage"], "a"))
    b = set(photo_sources(["/usr/share/backgrounds", "skimage"], "b"))
    assert a and b and not a & b


@needs_photos
def test_synth_command_and_pipeline_run(tmp_path: Path) -> None:
    out = tmp_path / "scenario"
    result = CliRunner().invoke(main, ["synth", "--out", str(out), "--accounts", "3",
                                       "--seed", "9", "--photos-from", "skimage",
                                       "--photos-from", "/usr/share/backgrounds"])
    assert result.exit_code == 0, result.output
    manifest = load_scenario(out)
    assert json.loads((out / "scenario.json").read_text())["seed"] == 9
    # OCR is the slow stage; the plumbing is the same without it.
    data = build_dataset(out, ocr=False)
    # Every post twice: as it stands now, and as the service first scored it.
    assert data.first_scored.count(False) == data.first_scored.count(True)
    assert len(data.rows) == 2 * len(manifest["posts"])
    assert data.y.tolist() == [next(p["label"] for p in manifest["posts"]
                                    if p["account"].casefold() == r.account and
                                    p["post_id"] == r.post_id) for r in data.records]
    assert all(r.signals.get("exif") is not None for r in data.records)
    # Processed once: a second build reads the same database.
    assert len(build_dataset(out, ocr=False).rows) == len(data.rows)
    model, _ = trained_model()
    report = evaluate(data, model, Thresholds())
    assert report["posts"] == len(manifest["posts"])
    assert report["first_scored"]["posts"] == len(manifest["posts"])
    assert 0.0 <= report["brier"] <= 1.0
    # The rule engine is measured on the same checks, as the baseline.
    baseline = report["rule_engine"]
    assert baseline["posts"] == report["posts"]
    assert baseline["fraud_posts"] == report["fraud_posts"]
    assert 0.0 <= baseline["brier"] <= 1.0

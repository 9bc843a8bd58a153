"""The `proofcheck` command, run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import image_bytes


def proofcheck(*args: str, data_dir: Path, extra_env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(data_dir)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "proofcheck", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_create_api_key_prints_the_key_alone_on_the_last_line(tmp_path):
    result = proofcheck("create-api-key", "partner", "--scope", "submit", "--scope", "read",
                        data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("pc_") and " " not in key and len(key) > 40
    listing = proofcheck("list-api-keys", data_dir=tmp_path).stdout
    assert "partner" in listing and "read,submit" in listing and key not in listing
    assert proofcheck("revoke-api-key", "1", data_dir=tmp_path).returncode == 0
    assert "revoked" in proofcheck("list-api-keys", data_dir=tmp_path).stdout
    bad = proofcheck("create-api-key", "x", "--scope", "everything", data_dir=tmp_path)
    assert bad.returncode != 0 and "unknown scope" in bad.stderr


def test_db_upgrade_creates_the_database_on_first_use(tmp_path):
    result = proofcheck("db", "upgrade", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    from proofcheck.migrations import head_revision

    assert f"revision {head_revision()}" in result.stdout
    assert (tmp_path / "proofcheck.db").exists()


def test_scan_prints_a_table_and_finds_a_copy_across_folders(tmp_path):
    shop_a, shop_b = tmp_path / "shop_a", tmp_path / "shop_b"
    shop_a.mkdir()
    shop_b.mkdir()
    receipt = image_bytes(seed=41)
    (shop_a / "receipt.png").write_bytes(receipt)
    (shop_a / "other.png").write_bytes(image_bytes(seed=42))
    (shop_b / "stolen.png").write_bytes(receipt)
    (shop_b / "notes.txt").write_text("not an image")

    table = proofcheck("scan", str(shop_a), str(shop_b), data_dir=tmp_path / "var")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["FILE", "VERDICT", "SCORE"]
    row = next(line for line in lines if "stolen.png" in line)
    assert "fabricated" in row and "folder:shop_a" in row
    assert "not_an_image" in next(line for line in lines if "notes.txt" in line)

    as_json = proofcheck("scan", "--json", str(shop_a), str(shop_b), data_dir=tmp_path / "var")
    rows = {Path(r["path"]).name: r for r in json.loads(as_json.stdout)}
    assert rows["stolen.png"]["verdict"] == "fabricated"
    assert rows["stolen.png"]["matches"][0]["relation"] == "exact"
    assert rows["receipt.png"]["verdict"] == "authentic"
    assert rows["notes.txt"]["status"] == "failed"


def test_worker_without_redis_url_says_so(tmp_path):
    result = proofcheck("worker", "--burst", data_dir=tmp_path)
    assert result.returncode != 0 and "REDIS_URL" in result.stderr


def test_resign_recomputes_signatures_and_then_has_nothing_left_to_do(client, auth, services):
    from tests.conftest import run_worker
    from tests.test_api import post_check

    for seed in (43, 44):
        post_check(client, auth, image_bytes(seed=seed), name=f"{seed}.png",
                   account=f"instagram:@shop{seed}")
    run_worker(services)
    data_dir = services.settings.data_dir
    database = {"DATABASE_URL": services.settings.database_url}
    everything = proofcheck("resign", "--all", data_dir=data_dir, extra_env=database)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.strip() == "examined 2, re-signed 2, failed 0"
    outdated_only = proofcheck("resign", data_dir=data_dir, extra_env=database)
    assert outdated_only.stdout.strip() == "examined 2, re-signed 0, failed 0"

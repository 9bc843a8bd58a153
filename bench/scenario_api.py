"""A labelled scenario (`proofcheck synth`) submitted through the HTTP API of a real
`proofcheck serve`, then read back: every check's score, verdict and reasons and every
account's report, measured against the scenario's ground truth with the same metrics
as `proofcheck evaluate`.

This is the service as a platform would use it: posts arrive one by one in the order
they were posted, and re-scoring after each check updates earlier verdicts.

    .venv/bin/python bench/scenario_api.py --data /tmp/pc/eval23 --model models/<version>
    .venv/bin/python bench/scenario_api.py --data /tmp/pc/eval23 --model off   # rules

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import start_serve  # noqa: E402
from proofcheck.client import Client  # noqa: E402
from proofcheck.pipeline import Thresholds  # noqa: E402
from proofcheck.scoring.synth import load_scenario  # noqa: E402
from proofcheck.scoring.train import Dataset, format_metrics, metrics  # noqa: E402


def models_root_for(model: str, work: Path) -> str:
    """PROOFCHECK_MODEL_DIR for the server: `off`, or a root holding just this model."""
    if model == "off":
        return "off"
    folder = Path(model).resolve()
    root = work / "models"
    root.mkdir()
    (root / folder.name).symlink_to(folder)
    return str(root)


def submit_all(client: Client, folder: Path, posts: list[dict[str, Any]]) -> list[str]:
    ids = []
    for post in posts:
        fields = {"account": post["account"], "post_id": post["post_id"],
                  "posted_at": post["posted_at"]}
        for name in ("caption", "kind"):
            if post.get(name):
                fields[name] = post[name]
        created = client.submit([folder / "images" / post["file"]], fields,
                                idempotency_key=f"scenario-{post['file']}")
        ids.append(created[0]["id"])
    return ids


def wait_done(client: Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    final: dict[str, dict[str, Any]] = {}
    for check_id in ids:
        result = client.wait(check_id, timeout=max(1.0, deadline - time.monotonic()),
                             interval=0.5)
        if result["status"] in ("done", "failed"):
            final[check_id] = result
    return final


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True, help="a `proofcheck synth` folder")
    parser.add_argument("--model", default="off",
                        help="a model folder (models/<version>), or `off` for the rules")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()

    manifest = load_scenario(args.data)
    posts = manifest["posts"]
    work = Path(tempfile.mkdtemp(prefix="proofcheck-scenario-"))
    os.environ["PROOFCHECK_MODEL_DIR"] = models_root_for(args.model, work)
    started = time.perf_counter()
    server, url, key = start_serve(work / "data", args.workers)
    try:
        client = Client(url, key, timeout=120)
        ids = submit_all(client, args.data, posts)
        final = wait_done(client, ids, args.timeout)
        # Re-read every check: later evidence re-scored earlier ones after they finished.
        checks = [client.check(check_id) for check_id in ids]
        names = sorted({c["account"] for c in checks if c.get("account")})
        accounts = {name: client.account(name) for name in names}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(120)
    elapsed = time.perf_counter() - started

    types = [post["fraud_type"] for post in posts]
    truth_of_account = {a["name"].casefold(): int(a["type"] != "honest")
                        for a in manifest["accounts"]}
    data = Dataset(rows=[{} for _ in checks], records=[],
                   y=np.array([int(post["label"]) for post in posts]),
                   accounts=[c.get("account") or "" for c in checks],
                   fraud_type=types, account_label=truth_of_account,
                   account_type={a["name"].casefold(): a["type"] for a in manifest["accounts"]})
    scores = np.array([c["score"] if c.get("score") is not None else np.nan for c in checks])
    top = [next((r["code"] for r in c.get("reasons") or [] if r.get("weight", 0) > 0), None)
           for c in checks]
    thresholds = Thresholds()
    report = metrics(data, scores, top, thresholds)
    from sklearn.metrics import roc_auc_score

    acc_names = sorted(accounts)
    acc_truth = [truth_of_account.get(n, 0) for n in acc_names]
    acc_scores = [accounts[n].get("score") or 0.0 for n in acc_names]
    versions = Counter(c.get("model_version") for c in checks)
    failed = sum(1 for c in final.values() if c["status"] == "failed")
    print(f"\nscenario {args.data} (seed {manifest['seed']}) through the API of "
          f"`proofcheck serve --workers {args.workers}`, model {args.model}")
    print(f"  {len(ids)} posts submitted, {len(final)} final ({failed} failed) in "
          f"{elapsed:.0f} s; scored by {dict(versions)}")
    print(f"  checks with a verdict {sum(1 for c in checks if c.get('verdict'))}, "
          f"with reasons {sum(1 for c in checks if c.get('reasons'))}; accounts with a "
          f"verdict {sum(1 for a in accounts.values() if a.get('verdict'))} of {len(accounts)}")
    print(f"  account ROC-AUC from the account reports: "
          f"{roc_auc_score(acc_truth, acc_scores):.4f}")
    print(format_metrics(report))


if __name__ == "__main__":
    main()

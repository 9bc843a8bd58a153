"""Scenario pairs: every pair of posts the signatures match, judged on pixels.

A regression check for changes to verification (`pixelmatch.compare_images`): in a
`proofcheck synth` scenario, every ordered pair of posts that `matching.compare`
matches on signatures (a post and its `source`, and two copies of one source, left
out) is judged on pixels, and the relations are written to a file. Run it before and
after a change and pass both files to `--compare` to list every pair whose relation
changed. It also prints how many pairs of posts from different accounts, and of an
honest account's own posts, were called duplicates, and how many of a template
account's posts were called `edited`. These counts are not false-match rates: the
generator draws edited siblings without a `source`, and shops share stock photographs.
Prints figures and CPU time per comparison; asserts nothing.

    .venv/bin/python -m proofcheck synth --out /tmp/s11 --seed 11 --photo-half a
    .venv/bin/python bench/scenario_pairs.py /tmp/s11 --out before.json
    .venv/bin/python bench/scenario_pairs.py /tmp/s11 --out after.json
    .venv/bin/python bench/scenario_pairs.py /tmp/s11 --compare before.json after.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofcheck.imaging import decode
from proofcheck.matching import DUPLICATE_RELATIONS, compare
from proofcheck.pixelmatch import compare_images
from proofcheck.views import stored_signatures


def _original(post: str, source: dict[str, str | None]) -> str:
    parent = source.get(post)
    while parent:
        post, parent = parent, source.get(parent)
    return post


def judge(folder: Path, out: Path) -> None:
    posts = json.loads((folder / "scenario.json").read_text())["posts"]
    files = [(folder / "images" / p["file"]).read_bytes() for p in posts]
    decoded = [decode(data, 10**9) for data in files]
    sigs = [stored_signatures(data, 10**9, d) for data, d in zip(files, decoded, strict=True)]
    source = {p["file"]: p.get("source") for p in posts}
    pairs = [(i, j) for i, j in itertools.permutations(range(len(posts)), 2)
             if _original(posts[i]["file"], source) != _original(posts[j]["file"], source)
             and compare(sigs[i], sigs[j]) is not None]
    def name(i: int, j: int) -> str:
        return f"{posts[i]['file']} {posts[j]['file']}"

    relations: dict[str, str | None] = {}
    t0 = time.process_time()
    for i, j in pairs:
        v = compare_images(decoded[i], decoded[j], sigs[i], sigs[j])
        relations[name(i, j)] = v.relation if v else None
    seconds = time.process_time() - t0
    out.write_text(json.dumps(relations, indent=0, sort_keys=True))

    def duplicates(which: list[tuple[int, int]]) -> int:
        return sum(relations[name(i, j)] in DUPLICATE_RELATIONS for i, j in which)

    account = [p["account"] for p in posts]
    cross = [(i, j) for i, j in pairs if account[i] != account[j]]
    honest = [(i, j) for i, j in pairs if account[i] == account[j]
              and posts[i]["label"] == 0 and posts[j]["label"] == 0]
    template = [(i, j) for i, j in pairs if account[i] == account[j]
                and posts[i]["fraud_type"] == posts[j]["fraud_type"] == "template"]
    edited = sum(relations[name(i, j)] == "edited" for i, j in template)
    print(f"{len(pairs)} pairs matched on signatures, "
          f"{1000 * seconds / max(1, len(pairs)):.0f} ms CPU per compare_images")
    print(f"different accounts: {duplicates(cross)} of {len(cross)} called duplicates")
    print(f"an honest account's own posts: {duplicates(honest)} of {len(honest)}")
    print(f"a template account's posts called edited: {edited} of {len(template)}")


def changed(before: Path, after: Path) -> None:
    old, new = json.loads(before.read_text()), json.loads(after.read_text())
    moved = [(pair, old.get(pair), new.get(pair)) for pair in sorted(set(old) | set(new))
             if old.get(pair) != new.get(pair)]
    for pair, was, now in moved:
        print(f"{pair}: {was} -> {now}")
    print(f"{len(moved)} of {len(set(old) | set(new))} pairs changed relation")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path, nargs="?", help="a folder `proofcheck synth` wrote")
    ap.add_argument("--out", type=Path, help="where to write each pair's relation")
    ap.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"),
                    help="list the pairs whose relation differs between two runs")
    args = ap.parse_args(argv)
    if args.compare:
        changed(*args.compare)
    elif args.out and args.scenario:
        judge(args.scenario, args.out)
    else:
        ap.error("give a scenario and --out, or --compare")


if __name__ == "__main__":
    main()

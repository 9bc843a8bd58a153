"""Template pairs: other receipts of one template are not copies; one repainted field is.

The issue's rule for the near-duplicate engine: two different receipts of one bank (or
chats of one messenger) come out `template` or no match, never `exact`, `resized`,
`cropped` or `edited`; a receipt whose amount was repainted comes out `edited`. The
duplicates benchmark's three banks spread their values over the page; a real bank app
(and `proofcheck synth`'s scenarios) puts them in one column, a compact region that an
edit's box could hold. This renders receipts as the scenario generator does
(`proofcheck.scoring.render`): `--templates` templates in the five languages, each with
one status bar and `--per-template` receipts of other values, saved as forwarded
screenshots are (JPEG q72-92). It compares, with `compare_images` (pixels included):

- every ordered pair of different receipts of one template: the share called a
  duplicate (goal 0), and the relations;
- every receipt with one field repainted (amount, payer or date; `render.repaint`, as
  the scenario's edited receipts) against the receipt: the share called `edited`, and
  the share of those whose box overlaps the repainted field;
- with `--crops`, every receipt cut to 80% and 60% of its area (as bench/duplicates.py
  cuts, at a seeded place) against its own receipt (the share found) and against the
  other receipts of its template (the share called a duplicate), and every repainted
  receipt cut so that the field stays whole against its receipt (the share called
  `edited`). A crop can keep little but the labels, which are the template's: then
  nothing tells whose it is.

Prints figures and CPU time per comparison; asserts nothing.

    .venv/bin/python bench/template_pairs.py --templates 15 --per-template 5 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.duplicates import _crop as crop_to
from proofcheck.imaging import DecodedImage, decode
from proofcheck.matching import DUPLICATE_RELATIONS, PairVerdict
from proofcheck.pixelmatch import compare_images
from proofcheck.scoring import render as R

LANGS = ("fas", "ara", "swa", "pol", "eng")
FIELDS = ("amount", "payer", "date")
CROP_AREAS = (0.8, 0.6)


def receipt_values(rng: random.Random, lang: str, payee: str, title: str,
                   id_label: str) -> R.Receipt:
    currency, unit = rng.choice(R.CURRENCY[lang])
    if lang in ("swa", "eng", "pol"):
        txid = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
    else:
        txid = str(rng.randint(10**9, 10**12))
    return R.Receipt(
        lang=lang, amount=rng.randint(13, 480) * unit * rng.randint(1, 4), currency=currency,
        payer=f"{rng.choice(R.FIRST[lang])} {rng.choice(R.SURNAMES[lang])}", payee=payee,
        when=dt.datetime(2026, 1, 1, 8) + dt.timedelta(minutes=rng.randrange(300 * 24 * 60)),
        txid=txid, title=title, id_label=id_label)


def bank_receipts(rng: random.Random, lang: str, count: int) -> list[R.Receipt]:
    """`count` receipts of one bank app to one payee: its title and labels never
    change, only the values."""
    payee = f"{rng.choice(R.FIRST[lang])} {rng.choice(R.SURNAMES[lang])}"
    title, id_label = (str(rng.choice(R.LABELS[lang][key])) for key in ("title", "id"))
    return [receipt_values(rng, lang, payee, title, id_label) for _ in range(count)]


def with_field_changed(rng: random.Random, r: R.Receipt, key: str) -> R.Receipt:
    if key == "amount":
        return replace(r, amount=r.amount * rng.choice((2, 3, 5, 10)))
    if key == "payer":
        others = [f for f in R.FIRST[r.lang] if not r.payer.startswith(f)]
        return replace(r, payer=f"{rng.choice(others)} {r.payer.split(' ', 1)[-1]}")
    return replace(r, when=r.when - dt.timedelta(days=rng.randint(3, 40)))


def box_around(size: tuple[int, int], field: tuple[int, int, int, int], area: float,
               rng: random.Random) -> tuple[int, int, int, int]:
    """A box (x0, y0, x1, y1) of `area` of an image of `size`, its shape kept, at a
    random place that keeps `field` (x0, y0, x1, y1) whole, a sixteenth of the side
    clear of the cut where the image allows."""
    width, height = size
    side = area**0.5
    w, h = round(width * side), round(height * side)
    mx, my = width // 16, height // 16
    x0, y0, x1, y1 = field
    x = rng.randint(*sorted((max(0, min(x1 + mx - w, width - w)),
                             max(0, min(x0 - mx, width - w)))))
    y = rng.randint(*sorted((max(0, min(y1 + my - h, height - h)),
                             max(0, min(y0 - my, height - h)))))
    return x, y, x + w, y + h


def as_forwarded(rng: random.Random, img: Image.Image) -> DecodedImage:
    return decode(R.encode_jpeg(img, rng.randint(72, 92)), 10**9)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--templates", type=int, default=15)
    ap.add_argument("--per-template", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--crops", action="store_true",
                    help="also crops of each receipt against its own and the others")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    templates = R.receipt_templates(rng, args.templates)

    pair_relations: Counter[str] = Counter()
    pair_duplicates: dict[str, list[int]] = {lang: [0, 0] for lang in LANGS}
    edit_relations: dict[str, Counter[str]] = {key: Counter() for key in FIELDS}
    edit_boxed: Counter[str] = Counter()
    crop_own: dict[float, Counter[str]] = {area: Counter() for area in CROP_AREAS}
    crop_others: dict[float, Counter[str]] = {area: Counter() for area in CROP_AREAS}
    crop_edits: dict[float, Counter[str]] = {area: Counter() for area in CROP_AREAS}
    timing = [0.0, 0]  # CPU seconds in compare_images, comparisons

    def judged(query: DecodedImage, other: DecodedImage) -> tuple[PairVerdict | None, str]:
        """`compare_images`, timed: the verdict, and its relation ("none" for none)."""
        t0 = time.process_time()
        verdict = compare_images(query, other)
        timing[0] += time.process_time() - t0
        timing[1] += 1
        return verdict, verdict.relation if verdict else "none"

    for ti, template in enumerate(templates):
        lang = LANGS[ti % len(LANGS)]
        shot = dt.datetime(2026, 3, 1, 8) + dt.timedelta(minutes=rng.randrange(600))
        bar = R.status_bar(rng, shot)
        values = bank_receipts(rng, lang, args.per_template)
        rendered = [R.render_receipt(v, template, bar) for v in values]
        decoded = [as_forwarded(rng, r.image) for r in rendered]
        for i, query in enumerate(decoded):
            for j, other in enumerate(decoded):
                if i == j:
                    continue
                verdict, relation = judged(query, other)
                pair_relations[relation] += 1
                pair_duplicates[lang][1] += 1
                if relation in DUPLICATE_RELATIONS:
                    pair_duplicates[lang][0] += 1
                    if args.show_failures:
                        print(f"template {ti} ({lang}) receipts {i}/{j}: {verdict}")
        crop_rng = random.Random(args.seed * 1000 + ti)  # the same crops whatever else runs
        if args.crops:
            for i, base in enumerate(rendered):
                for area in CROP_AREAS:
                    crop = as_forwarded(crop_rng, crop_to(base.image, crop_rng, area))
                    for j, other in enumerate(decoded):
                        verdict, relation = judged(crop, other)
                        (crop_own if i == j else crop_others)[area][relation] += 1
                        if args.show_failures and (i == j) != (relation in DUPLICATE_RELATIONS):
                            print(f"template {ti} ({lang}) receipt {i} cut to {area:.0%} "
                                  f"against receipt {j}: {verdict}")
        for i, (v, base) in enumerate(zip(values, rendered, strict=True)):
            key = FIELDS[(ti + i) % len(FIELDS)]
            changed = R.render_receipt(with_field_changed(rng, v, key), template, bar)
            edited = R.repaint(base, changed, key, rng)
            verdict, relation = judged(as_forwarded(rng, edited), decoded[i])
            edit_relations[key][relation] += 1
            if relation == "edited" and verdict is not None and verdict.changed_box:
                x, y, w, h = verdict.changed_box
                fx0, fy0, fx1, fy1 = base.boxes[key]
                if x < fx1 and fx0 < x + w and y < fy1 and fy0 < y + h:
                    edit_boxed[key] += 1
            elif args.show_failures:
                print(f"template {ti} ({lang}) receipt {i}, {key} repainted: {verdict}")
            if not args.crops:
                continue
            for area in CROP_AREAS:
                cut = edited.crop(box_around(edited.size, base.boxes[key], area, crop_rng))
                verdict, relation = judged(as_forwarded(crop_rng, cut), decoded[i])
                crop_edits[area][relation] += 1
                if args.show_failures and relation != "edited":
                    print(f"template {ti} ({lang}) receipt {i}, {key} repainted, cut to "
                          f"{area:.0%}: {verdict}")

    n_pairs = sum(pair_relations.values())
    n_dup = sum(c for r, c in pair_relations.items() if r in DUPLICATE_RELATIONS)
    print(f"{args.templates} templates x {args.per_template} receipts, seed {args.seed}")
    print(f"\nother receipts of one template, ordered pairs: {n_pairs}; called a duplicate: "
          f"{n_dup} ({n_dup / max(1, n_pairs):.1%}); "
          f"relations {dict(sorted(pair_relations.items()))}")
    print("| lang | pairs | called a duplicate |")
    print("|---|---|---|")
    for lang, (dup, total) in pair_duplicates.items():
        print(f"| {lang} | {total} | {dup} ({dup / max(1, total):.1%}) |")
    print("\none field repainted, against its receipt:")
    print("| field | edits | called edited | box on the field |")
    print("|---|---|---|---|")
    for key, rels in edit_relations.items():
        total = sum(rels.values())
        print(f"| {key} | {total} | {rels['edited']} ({rels['edited'] / max(1, total):.1%}) | "
              f"{edit_boxed[key]} | {dict(sorted(rels.items()))}")
    all_edits = sum(sum(r.values()) for r in edit_relations.values())
    all_edited = sum(r["edited"] for r in edit_relations.values())
    print(f"| all | {all_edits} | {all_edited} ({all_edited / max(1, all_edits):.1%}) | "
          f"{sum(edit_boxed.values())} |")
    if args.crops:
        print("\ncrops of a receipt, against its own receipt and the template's others:")
        print("| area | own found | others called a duplicate | relations to others | "
              "edited receipts cut around the field: called edited |")
        print("|---|---|---|---|---|")
        for area in CROP_AREAS:
            own, others, edits = crop_own[area], crop_others[area], crop_edits[area]
            found = sum(c for r, c in own.items() if r in DUPLICATE_RELATIONS)
            wrong = sum(c for r, c in others.items() if r in DUPLICATE_RELATIONS)
            print(f"| {area:.0%} | {found} of {sum(own.values())} "
                  f"{dict(sorted(own.items()))} | {wrong} of "
                  f"{sum(others.values())} ({wrong / max(1, sum(others.values())):.1%}) | "
                  f"{dict(sorted(others.items()))} | {edits['edited']} of "
                  f"{sum(edits.values())} {dict(sorted(edits.items()))} |")
    seconds, comparisons = timing
    print(f"\nCPU per comparison: {1000 * seconds / max(1, comparisons):.0f} ms "
          f"({comparisons} comparisons)")


if __name__ == "__main__":
    main()

"""Near duplicates through the whole service: a cropped, re-screenshotted copy posted by
another account is found, attributed to the earlier post, and its diff is served."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from tests.conftest import image_bytes, login, make_user, run_worker
from tests.test_api import post_check


def rescreenshot(data: bytes) -> bytes:
    """Crop the image, then paste it into another phone's frame with a status bar."""
    original = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = original.size
    cropped = original.crop((int(w * 0.05), int(h * 0.08), int(w * 0.95), int(h * 0.92)))
    frame = Image.new("RGB", (w + 40, h + 120), (18, 18, 18))
    draw = ImageDraw.Draw(frame)
    draw.text((16, 12), "12:41   LTE  87%", fill=(240, 240, 240))
    frame.paste(cropped.resize((w, int(cropped.height * w / cropped.width))), (20, 70))
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=80)
    return out.getvalue()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_cropped_rescreenshot_by_another_account_is_found_with_a_diff(client, auth, services):
    original = image_bytes(size=(540, 1170), seed=301, text="Payment received 2,500,000")
    first = post_check(client, auth, original, account="instagram:@owner",
                       posted_at="2026-03-01T10:00:00Z").get_json()["checks"][0]["id"]
    copy = post_check(client, auth, rescreenshot(original), name="copy.jpg",
                      account="instagram:@thief",
                      posted_at="2026-04-01T10:00:00Z").get_json()["checks"][0]["id"]
    unrelated = post_check(client, auth, image_bytes(size=(540, 1170), seed=302),
                           account="instagram:@other").get_json()["checks"][0]["id"]
    run_worker(services)

    result = client.get(f"/api/v1/checks/{copy}", headers=auth).get_json()
    [match] = [m for m in result["matches"] if m["check_id"] == first]
    assert match["relation"] in ("cropped", "resized")
    assert match["earlier"] is True and match["account"] == "instagram:@owner"
    # A near duplicate is strong evidence but not proof: it goes to a moderator.
    assert result["verdict"] in ("review", "fabricated"), result["reasons"]
    assert result["reasons"][0]["code"] == "stolen_from_other_account"
    assert not any(m["check_id"] == unrelated for m in result["matches"])

    diff = client.get(match["diff_url"], headers=auth)
    assert diff.status_code == 200 and diff.mimetype == "image/png"
    assert Image.open(io.BytesIO(diff.data)).size[0] > 100
    assert client.get(f"/api/v1/checks/{copy}/matches/{unrelated}/diff.png",
                      headers=auth).status_code == 404

    # Provenance: the copy knows where its picture was first seen; the owner is it.
    assert result["earliest_sighting"] == {
        "check_id": first, "account": "instagram:@owner", "post_id": None,
        "seen_at": "2026-03-01T10:00:00+00:00", "relation": match["relation"]}
    owner = client.get(f"/api/v1/checks/{first}", headers=auth).get_json()
    assert owner["verdict"] == "authentic"  # the original is never the one flagged
    assert owner["earliest_sighting"]["check_id"] == first
    assert owner["earliest_sighting"]["relation"] == "self"
    # Posted earlier but processed later: the first check learns of it from its rows.
    earliest = post_check(client, auth, rescreenshot(original), name="early.jpg",
                          account="instagram:@early",
                          posted_at="2026-02-01T10:00:00Z").get_json()["checks"][0]["id"]
    run_worker(services)
    owner = client.get(f"/api/v1/checks/{first}", headers=auth).get_json()
    assert owner["earliest_sighting"]["check_id"] == earliest
    assert owner["earliest_sighting"]["account"] == "instagram:@early"
    login(client, make_user(services, "vera"))
    page = client.get(f"/checks/{copy}").get_data(as_text=True)
    assert "First seen on" in page and "instagram:@owner" in page

    found = client.post("/api/v1/search", headers=auth, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(rescreenshot(original)), "q.jpg")}).get_json()
    assert first in {m["check_id"] for m in found["matches"]}


def _banked_then_copied(client, auth, services) -> dict:
    """A moderator calls a check fabricated; another account then posts the same file.
    The copy's check must cite the bank entry by name and be called fabricated."""
    fake = image_bytes(size=(360, 640), seed=311, text="Deposit 9,000,000")
    first = post_check(client, auth, fake, account="instagram:@faker").get_json()["checks"][0]
    run_worker(services)
    decided = client.post(f"/api/v1/review/items/{first['id']}/decision", headers=auth,
                          json={"decision": "fabricated", "note": "made in an editor"})
    assert decided.status_code == 200
    bank_name = decided.get_json()["bank"]
    assert bank_name and "instagram:@faker" in bank_name

    again = post_check(client, auth, fake, account="instagram:@reseller").get_json()
    run_worker(services)
    result = client.get(again["checks"][0]["url"], headers=auth).get_json()
    cited = [r for r in result["reasons"] if r["code"] == "known_fabricated"]
    assert cited and bank_name in cited[0]["message"]
    assert result["verdict"] == "fabricated"
    return result


def test_later_matches_cite_the_known_fabricated_bank_by_name(client, auth, services):
    _banked_then_copied(client, auth, services)


def test_with_a_model_too_the_moderators_word_on_an_image_is_cited(
        client, auth, services, tmp_path, monkeypatch):
    """The model has no feature for the known-fabricated bank; its re-scoring keeps the
    moderators' decision as a reason and as a floor under the score."""
    from proofcheck.scoring.train import write_model
    from tests.test_scoring_model import trained_model

    write_model(*trained_model(), tmp_path)
    monkeypatch.setenv("PROOFCHECK_MODEL_DIR", str(tmp_path))
    result = _banked_then_copied(client, auth, services)
    assert result["model_version"] == "test-1"


def test_rotated_copy_is_found_and_another_receipt_of_the_bank_is_not(client, auth,
                                                                      services):
    """Through the worker, on the stored originals' pixels: the signatures alone miss
    this rotated receipt (keypoints align it) and take a crop of another receipt of
    the same bank for a copy (the blocks see other names and numbers)."""
    from tests.test_matching import receipt

    original = receipt(51)
    first = post_check(client, auth, jpeg(original), name="a.jpg", account="instagram:@owner",
                       posted_at="2026-03-01T10:00:00Z").get_json()["checks"][0]["id"]
    rotated = original.rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white")
    copy = post_check(client, auth, jpeg(rotated), name="b.jpg", account="instagram:@thief",
                      posted_at="2026-04-01T10:00:00Z").get_json()["checks"][0]["id"]
    stranger = receipt(52).crop((0, 260, 1080, 1900))  # the same bank, other values
    other = post_check(client, auth, jpeg(stranger), name="c.jpg", account="instagram:@x",
                       posted_at="2026-04-02T10:00:00Z").get_json()["checks"][0]["id"]
    run_worker(services)

    found = client.get(f"/api/v1/checks/{copy}", headers=auth).get_json()["matches"]
    [match] = [m for m in found if m["check_id"] == first]
    assert match["relation"] in ("cropped", "resized") and match["earlier"] is True
    duplicates = ("exact", "resized", "cropped", "edited")
    for m in client.get(f"/api/v1/checks/{other}", headers=auth).get_json()["matches"]:
        assert m["relation"] not in duplicates, m


def test_a_copy_held_at_an_angle_is_found_by_its_keypoints_votes(client, auth, services,
                                                                  monkeypatch):
    """A receipt photographed at 40 degrees: past the straightened view's 8, every hash
    key moves, and keys do not bring the original. The copy's keypoint descriptors
    vote for it (`votes`): it takes a place in the pool and is confirmed on pixels;
    the bank's other receipt is still not a copy. Without the votes' places the
    original is not found at all."""
    from proofcheck import candidates, processing
    from proofcheck.imaging import decode
    from proofcheck.views import stored_signatures
    from tests.test_matching import receipt

    original = receipt(61)
    first = post_check(client, auth, jpeg(original), name="a.jpg", account="instagram:@owner",
                       posted_at="2026-03-01T10:00:00Z").get_json()["checks"][0]["id"]
    other = post_check(client, auth, jpeg(receipt(62)), name="b.jpg", account="instagram:@x",
                       posted_at="2026-03-02T10:00:00Z").get_json()["checks"][0]["id"]
    tilted = jpeg(original.rotate(40, resample=Image.Resampling.BILINEAR, expand=True,
                                  fillcolor=(40, 40, 40)))
    copy = post_check(client, auth, tilted, name="c.jpg", account="instagram:@thief",
                      posted_at="2026-04-01T10:00:00Z").get_json()["checks"][0]["id"]
    run_worker(services)

    found = client.get(f"/api/v1/checks/{copy}", headers=auth).get_json()["matches"]
    [match] = [m for m in found if m["check_id"] == first]
    assert match["relation"] in ("cropped", "resized") and match["earlier"] is True
    assert all(m["relation"] in ("template", "similar") for m in found if m["check_id"] == other)

    query = decode(tilted, services.settings.max_pixels)
    signature = stored_signatures(tilted, services.settings.max_pixels, query)
    monkeypatch.setattr(candidates, "VOTED", 0)
    without_votes = processing.near_duplicates_of(services, {copy}, signature, query)
    assert first not in {sighting.check_id for sighting, _verdict in without_votes}


def test_a_tilted_copy_checked_first_is_found_by_its_straight_original(client, auth,
                                                                      services):
    """The photographed, tilted copy reaches us before the straight original: the
    worker stores the copy with its straightened keys, and the original's check finds
    it, posted earlier by the other account."""
    from sqlalchemy import select

    from proofcheck.db import Hash
    from proofcheck.hashing import Signatures
    from proofcheck.neardup import ALGORITHM
    from tests.test_matching import chat

    original = chat(83)
    tilted = original.rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white")
    first = post_check(client, auth, jpeg(tilted), name="a.jpg", account="instagram:@thief",
                       posted_at="2026-03-01T10:00:00Z").get_json()["checks"][0]["id"]
    later = post_check(client, auth, jpeg(original), name="b.jpg",
                       account="instagram:@owner",
                       posted_at="2026-03-02T10:00:00Z").get_json()["checks"][0]["id"]
    run_worker(services)

    with services.db.session() as session:
        stored = {row.check_id: Signatures.from_bytes(row.value)
                  for row in session.scalars(select(Hash).where(Hash.algorithm == ALGORITHM))}
    assert stored[first].straightened_hashes and stored[later].straightened_hashes == ()
    found = client.get(f"/api/v1/checks/{later}", headers=auth).get_json()["matches"]
    [match] = [m for m in found if m["check_id"] == first]
    assert match["relation"] in ("cropped", "resized") and match["earlier"] is True


def test_a_repainted_name_is_an_edit_and_its_diff_boxes_it(client, auth, services):
    """A receipt posted at its own size with only its payer's first name repainted: the
    blocks see the one or two blocks it changed (the pixel grids do not), and the diff
    image draws the box the check reported."""
    import datetime as dt
    import random
    from dataclasses import replace

    from proofcheck.scoring import render

    template = render.receipt_templates(random.Random(3), 1)[0]
    bar = render.status_bar(random.Random(3), dt.datetime(2026, 3, 1, 9, 41))
    values = render.Receipt(lang="fas", amount=4_050_000, currency="تومان",
                            payer="حسین محمدی", payee="زهرا کریمی",
                            when=dt.datetime(2026, 2, 27, 14, 5), txid="821444089926",
                            title="انتقال کارت به کارت", id_label="کد رهگیری")
    base = render.render_receipt(values, template, bar)
    edited = render.repaint(base, render.render_receipt(replace(values, payer="امیر محمدی"),
                                                        template, bar),
                            "payer", random.Random(1))
    first = post_check(client, auth, render.encode_png(base.image), name="r.png",
                       account="instagram:@shop", posted_at="2026-03-01T10:00:00Z")
    first_id = first.get_json()["checks"][0]["id"]
    copy = post_check(client, auth, render.encode_jpeg(edited, 85), name="r2.jpg",
                      account="instagram:@other", posted_at="2026-03-05T10:00:00Z")
    copy_id = copy.get_json()["checks"][0]["id"]
    run_worker(services)

    result = client.get(f"/api/v1/checks/{copy_id}", headers=auth).get_json()
    [match] = [m for m in result["matches"] if m["check_id"] == first_id]
    assert match["relation"] == "edited" and match["earlier"] is True, match
    x, y, w, h = match["changed_box"]
    ax0, ay0, ax1, ay1 = base.boxes["payer"]
    assert x < ax1 and ax0 < x + w and y < ay1 and ay0 < y + h, (match["changed_box"], base.boxes)
    diff = Image.open(io.BytesIO(client.get(match["diff_url"], headers=auth).data)).convert("RGB")
    scale = diff.width / edited.width
    edge = diff.getpixel((round((x + w / 2) * scale), round(y * scale)))
    assert edge == (0, 90, 255), edge  # the reported box, drawn on the query


def test_the_worker_stores_keypoint_sketches_and_ranks_candidates_by_them(
        client, auth, services, monkeypatch, caplog):
    """Each check's strongest keypoints are stored beside its signature, and a search
    ranks the candidates past its nearest few by them before decoding any: here, with
    one candidate checked and none taken by keys alone, the original is the only image
    decoded, and found. A candidate without a readable sketch (stored before sketches,
    or damaged) is ranked on its pixels as before: the whole pool decoded, the original
    still found."""
    from sqlalchemy import event, select, update

    from proofcheck import candidates, processing
    from proofcheck.db import Hash
    from proofcheck.features import Sketch
    from proofcheck.imaging import decode
    from proofcheck.neardup import SKETCH_ALGORITHM
    from proofcheck.views import stored_signatures

    original = image_bytes(size=(540, 1170), seed=311, text="Payment received 870,000")
    ids = [post_check(client, auth, data, name=f"{k}.png", account=f"instagram:@s{k}"
                      ).get_json()["checks"][0]["id"]
           for k, data in enumerate((image_bytes(size=(540, 1170), seed=312), original,
                                     image_bytes(size=(540, 1170), seed=313)))]
    run_worker(services)
    with services.db.session() as session:
        sketches = dict(session.execute(select(Hash.check_id, Hash.value)
                                        .where(Hash.algorithm == SKETCH_ALGORITHM)).all())
    assert sorted(sketches) == sorted(ids)
    assert all(len(Sketch.from_bytes(v).points) >= 12 for v in sketches.values())

    monkeypatch.setattr(candidates, "PIXEL_CHECKS", 1)
    monkeypatch.setattr(candidates, "KEY_FIRST", 0)
    decoded_for: list[str] = []
    read = processing.candidate_pixels

    def counted(services_, check_id: str):
        decoded_for.append(check_id)
        return read(services_, check_id)

    monkeypatch.setattr(processing, "candidate_pixels", counted)
    copy = rescreenshot(original)
    query = decode(copy, services.settings.max_pixels)
    signature = stored_signatures(copy, services.settings.max_pixels, query)

    def search() -> dict[str, str]:
        decoded_for.clear()
        found = processing.near_duplicates_of(services, set(), signature, query)
        return {sighting.check_id: verdict.relation for sighting, verdict in found}

    # The candidates' stored rows are read in one query for their signatures (none
    # cached here) and one for their sketches, not one query each.
    reads: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:
        if "hashes.value" in statement:
            reads.append(statement)

    services.neardup.catch_up(services.db)
    services.neardup._cache.clear()
    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        assert search()[ids[1]] in ("cropped", "resized")
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)
    assert decoded_for == [ids[1]]
    assert len(reads) == 2, reads

    # Checks to exclude make the search ask the index for more candidates, often for
    # none it has: it still reads only as many signatures as the pool takes.
    from proofcheck import neardup
    monkeypatch.setattr(neardup, "RANK_POOL", 1)
    services.neardup._cache.clear()
    reads.clear()
    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        processing.near_duplicates_of(services, {f"c_gone{k}" for k in range(50)},
                                      signature, query)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)
    assert [statement.count("?") for statement in reads[:1]] == [1], reads
    monkeypatch.setattr(neardup, "RANK_POOL", candidates.RANK_POOL)  # for what follows
    with services.db.session() as session:
        session.execute(update(Hash).where(Hash.algorithm == SKETCH_ALGORITHM)
                        .values(value=b"\x01damaged"))
    assert search()[ids[1]] in ("cropped", "resized")
    assert len(decoded_for) > 1 and ids[1] in decoded_for
    assert "skipping keypoint sketch" in caplog.text

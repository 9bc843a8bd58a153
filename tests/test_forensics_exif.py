"""EXIF/XMP/PNG-text signals on files made here, including hostile ones."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from proofcheck.forensics import all_flags, exif, jpeg, run_all, synth
from proofcheck.forensics._container import png_without_text
from proofcheck.imaging import DecodedImage, decode

MAX_PIXELS = 50_000_000
POSTED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _decode(data: bytes) -> DecodedImage:
    return decode(data, MAX_PIXELS)


def _codes(result: dict) -> set[str]:
    return {f["code"] for f in result["flags"]}


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synth.photo(960, 720, seed=7)


def _camera_jpeg(img: Image.Image, **spec: object) -> bytes:
    fields: dict = {"make": "samsung", "model": "SM-G991B", "camera_settings": True,
                    "datetime_original": "2026:11:19 09:30:00",
                    "datetime": "2026:11:19 09:30:00", "pixel_size": img.size}
    fields.update(spec)
    return synth.jpeg_bytes(img, 92, exif=synth.exif_bytes(synth.ExifSpec(**fields)))


def test_photoshop_software_tag_is_flagged_and_firmware_is_not(photo: Image.Image) -> None:
    edited = exif.analyse(d := _camera_jpeg(photo, software="Adobe Photoshop 25.0 (Windows)"),
                          _decode(d), POSTED)
    assert "edited_with_software" in _codes(edited)
    [f] = [f for f in edited["flags"] if f["code"] == "edited_with_software"]
    assert "Adobe Photoshop" in f["message"] and f["severity"] >= 0.5
    assert edited["software"] == "Adobe Photoshop 25.0 (Windows)"

    phone = exif.analyse(d := _camera_jpeg(photo, software="G991BXXU5CVF1"), _decode(d), POSTED)
    assert phone["programs"] == []
    assert not _codes(phone) & {"edited_with_software", "resaved_with_software"}
    assert phone["make"] == "samsung" and phone["model"] == "SM-G991B"


@pytest.mark.parametrize("tool", ["Snapseed 2.0", "Canva", "PicsArt Photo Studio", "GIMP 2.10.36",
                                  "Pixlr X", "Meitu", "VSCO"])
def test_mobile_and_desktop_editors_are_recognised(photo: Image.Image, tool: str) -> None:
    small = photo.resize((240, 180))
    result = exif.analyse(d := _camera_jpeg(small, software=tool), _decode(d), POSTED)
    assert "edited_with_software" in _codes(result), tool


def test_capture_date_after_the_post_is_impossible(photo: Image.Image) -> None:
    # No time zone in the EXIF: 2 days later is after the post in every zone.
    late = exif.analyse(d := _camera_jpeg(photo, datetime_original="2026:11:22 10:00:00",
                                          datetime="2026:11:22 10:00:00"), _decode(d), POSTED)
    assert "dated_after_post" in _codes(late)
    assert any(a["certain"] for a in late["dates_after_post"])

    # 8 hours "after" a UTC post could be a time zone east of UTC: noted, not flagged.
    maybe = exif.analyse(d := _camera_jpeg(photo, datetime_original="2026:11:20 20:00:00",
                                           datetime="2026:11:20 20:00:00"), _decode(d), POSTED)
    assert "dated_after_post" not in _codes(maybe)
    assert maybe["dates_after_post"] and not any(a["certain"] for a in maybe["dates_after_post"])

    # With an explicit offset the comparison is exact: 20:00+03:30 is 16:30 UTC.
    exact = exif.analyse(d := _camera_jpeg(photo, datetime_original="2026:11:20 20:00:00",
                                           offset_original="+03:30"), _decode(d), POSTED)
    assert "dated_after_post" in _codes(exact)

    before = exif.analyse(d := _camera_jpeg(photo), _decode(d), POSTED)
    assert before["dates_after_post"] == [] and "dated_after_post" not in _codes(before)
    no_post = exif.analyse(d, _decode(d), None)
    assert "dated_after_post" not in _codes(no_post)


def test_modified_long_after_capture(photo: Image.Image) -> None:
    result = exif.analyse(d := _camera_jpeg(photo, datetime="2026:11:19 18:45:00"),
                          _decode(d), POSTED)
    assert "modified_after_capture" in _codes(result)
    assert result["dates"]["datetime_original"] == "2026-11-19T09:30:00"


def test_gps_presence_is_reported_without_coordinates(photo: Image.Image) -> None:
    result = exif.analyse(d := _camera_jpeg(photo, gps=True), _decode(d), POSTED)
    assert result["gps"] == {"present": True, "has_position": True}
    assert "35" not in json.dumps(result["gps"])  # the latitude is not stored
    plain = exif.analyse(d := _camera_jpeg(photo), _decode(d), POSTED)
    assert plain["gps"]["present"] is False


def test_thumbnail_matches_an_untouched_photo(photo: Image.Image) -> None:
    data = _camera_jpeg(photo, thumbnail=synth.thumbnail_jpeg(photo))
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["thumbnail"]["matches"] is True
    assert "exif_thumbnail_mismatch" not in _codes(result)


def test_thumbnail_mismatch_reveals_an_edit(photo: Image.Image) -> None:
    thumb = synth.thumbnail_jpeg(photo)  # the camera's preview of the original
    edited = photo.copy()
    d = ImageDraw.Draw(edited)
    d.rectangle((300, 250, 560, 340), fill=(250, 250, 250))
    d.text((310, 260), "9,999,000", fill=(0, 0, 0), font=synth.font(60))
    data = _camera_jpeg(edited, thumbnail=thumb)  # old metadata and preview kept
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["thumbnail"]["matches"] is False
    assert result["thumbnail"]["mismatch"] == "content"
    assert "exif_thumbnail_mismatch" in _codes(result)


def test_thumbnail_of_a_cropped_photo_has_the_wrong_shape(photo: Image.Image) -> None:
    thumb = synth.thumbnail_jpeg(photo)
    cropped = photo.crop((0, 0, 700, 720))
    data = _camera_jpeg(cropped, thumbnail=thumb, pixel_size=photo.size)
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["thumbnail"]["mismatch"] == "aspect"
    assert {"exif_thumbnail_mismatch", "exif_size_mismatch"} <= _codes(result)


def test_letterboxed_thumbnail_still_matches() -> None:
    wide = synth.photo(1280, 720, seed=3)
    box = Image.new("RGB", (160, 120))
    t = wide.resize((160, 90), Image.Resampling.LANCZOS)
    box.paste(t, (0, 15))  # cameras pad a 16:9 preview into 160x120 with black bars
    data = _camera_jpeg(wide, thumbnail=synth.jpeg_bytes(box, 90))
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["thumbnail"]["matches"] is True


def _xmp_app1(packet: str) -> bytes:
    return b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode()


XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/"
  xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
  xmp:CreatorTool="Canva" xmp:CreateDate="2026-11-21T09:00:00+00:00">
<xmpMM:History><rdf:Seq>
<rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 13.0"/>
</rdf:Seq></xmpMM:History>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def test_xmp_creator_tool_history_and_dates(photo: Image.Image) -> None:
    data = synth.insert_segment(synth.jpeg_bytes(photo, 90), 0xE1, _xmp_app1(XMP))
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["xmp"]["creator_tool"] == "Canva"
    names = {p["name"] for p in result["programs"]}
    assert {"Canva", "Adobe Lightroom"} <= names
    assert "dated_after_post" in _codes(result)  # xmp:CreateDate with a zone, a day late


def test_png_text_chunks_name_the_editor_and_the_generator() -> None:
    img = synth.phone_screenshot(540, 1170, seed=1)
    info = PngInfo()
    info.add_text("Software", "GIMP 2.10.34")
    gimp = synth.png_bytes(img, pnginfo=info)
    result = exif.analyse(gimp, _decode(gimp), POSTED)
    assert "edited_with_software" in _codes(result) and "Software" in result["png_text_keys"]

    info = PngInfo()
    info.add_text("parameters", "a bank transfer receipt, 1,250,000 rial, Steps: 30, Sampler")
    ai = synth.png_bytes(img, pnginfo=info)
    assert "ai_generator_metadata" in _codes(exif.analyse(ai, _decode(ai), POSTED))

    plain = synth.png_bytes(img)
    clean = exif.analyse(plain, _decode(plain), POSTED)
    assert clean["present"] is False and clean["flags"] == [] and "error" not in clean


# ---- hostile inputs: each must come back as a signal error, never an exception ----


def _everything(data: bytes, decoded: DecodedImage) -> dict[str, dict]:
    signals = run_all(data, decoded, POSTED)
    json.dumps(signals)  # JSON-native all the way down
    return signals


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # raised inside imaging.decode
@pytest.mark.parametrize("tiff", [
    b"XX*\x00\x08\x00\x00\x00" + b"\x01" * 12,  # not a TIFF header
    b"II*\x00\xff\xff\x00\x00" + b"\x01" * 12,  # IFD offset past the end
    b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 4,  # 65535 entries in 6 bytes
])
def test_corrupt_exif_block_is_a_signal_error(photo: Image.Image, tiff: bytes) -> None:
    data = synth.insert_segment(synth.jpeg_bytes(photo, 85), 0xE1, b"Exif\x00\x00" + tiff)
    signals = _everything(data, _decode(data))
    assert "corrupt EXIF" in signals["exif"]["error"]
    assert signals["jpeg"]["quality"] == 85  # the other families carry on


def test_zero_byte_jpeg_segments_are_signal_errors(photo: Image.Image) -> None:
    base = synth.jpeg_bytes(photo, 85)
    empty = base[:2] + b"\xff\xe1\x00\x02" + base[2:]  # a 0-byte APP1 payload
    signals = _everything(empty, _decode(empty))
    assert "empty (0-byte) APP1" in signals["exif"]["error"]
    assert "empty (0-byte) APP1" in signals["jpeg"]["error"]

    impossible = base[:2] + b"\xff\xe1\x00\x00" + base[2:]  # length 0 cannot exist
    signals = _everything(impossible, _decode(impossible))
    assert "impossible length 0" in signals["exif"]["error"]
    assert "malformed_file" in _codes(signals["jpeg"])


def test_huge_xmp_packet_is_bounded_and_reported(photo: Image.Image) -> None:
    head = ('<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:Description xmp:CreatorTool="Adobe Photoshop 25.1">')
    filler = "<photoshop:DocumentAncestors>" + "<rdf:li>xmp.did:0123456789abcdef</rdf:li>" * 500_000
    packet = (head + filler).encode()
    assert len(packet) > 20_000_000
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode())
    data = synth.png_bytes(photo.resize((200, 150)), pnginfo=info)
    signals = _everything(data, _decode(data))
    result = signals["exif"]
    assert "XMP packet is 20." in result["error"]
    assert result["xmp_bytes"] > 20_000_000
    assert result["xmp"]["creator_tool"] == "Adobe Photoshop 25.1"  # the start was read
    assert "edited_with_software" in _codes(result)

    # The JPEG way: extended XMP spread over ~330 APP1 segments.
    jpeg = synth.jpeg_bytes(photo.resize((200, 150)), 85)
    chunk = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 40 + b"x" * 60_000
    big = jpeg[:2] + b"".join(b"\xff\xe1" + struct.pack(">H", len(chunk) + 2) + chunk
                              for _ in range(340)) + jpeg[2:]
    result = _everything(big, _decode(big))["exif"]
    assert "XMP packet is 20." in result["error"]


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


@pytest.mark.parametrize(("chunk", "expected"), [
    (_png_chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00not zlib at all"), "cannot be decompressed"),
    (_png_chunk(b"tEXt", b"NoSeparatorHere"), "no valid keyword"),
    (_png_chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00\xff\xfe\xfa"), "not valid UTF-8"),
    (_png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (5 << 20))), "more than"),
    (struct.pack(">I", 4) + b"tEXt" + b"a\x00bc" + b"\x00\x00\x00\x00", "bad CRC"),
])
def test_png_with_a_bogus_text_chunk_is_a_signal_error(chunk: bytes, expected: str) -> None:
    png = synth.png_bytes(Image.new("RGB", (64, 64), (9, 9, 9)))
    data = png[:33] + chunk + png[33:]  # right after IHDR
    # Pillow refuses some of these outright (the zTXt bomb, the bad CRC); the pixels
    # are then decoded from a copy without text chunks, the metadata from the original.
    try:
        decoded = _decode(data)
    except ValueError:
        decoded = _decode(png_without_text(data))
    signals = _everything(data, decoded)
    assert expected in signals["exif"]["error"]
    assert "error" not in signals["screenshot"]


def test_unexpected_failure_inside_a_family_does_not_stop_the_others(photo: Image.Image) -> None:
    data = synth.jpeg_bytes(photo, 80)

    def broken(data: bytes, decoded: DecodedImage, posted_at: datetime | None) -> dict:
        raise RuntimeError("parser bug")

    signals = run_all(data, _decode(data), POSTED,
                      families={"exif": broken, "jpeg": jpeg.analyse})
    assert "parser bug" in signals["exif"]["error"]
    assert signals["jpeg"]["quality"] == 80
    assert all("took_ms" in s and "flags" in s for s in signals.values())


def test_run_all_reports_every_family(photo: Image.Image) -> None:
    data = _camera_jpeg(_jpeg_roundtrip(photo, 70), software="Snapseed",
                        datetime_original="2026:11:25 10:00:00")
    signals = _everything(data, _decode(data))
    assert set(signals) == {"exif", "jpeg", "ela", "c2pa", "screenshot"}
    assert all(s["took_ms"] >= 0 for s in signals.values())
    assert signals["screenshot"]["is_phone_screenshot"] is False
    flat = all_flags(signals)
    assert [f["code"] for f in flat][:1] == ["dated_after_post"]  # most severe first
    assert {"edited_with_software", "jpeg_double_compressed"} <= {f["code"] for f in flat}
    assert {f["family"] for f in flat} == {"exif", "jpeg"}


def _jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(synth.jpeg_bytes(img, quality))).convert("RGB")


def test_webp_exif_and_xmp_are_read(photo: Image.Image) -> None:
    small = photo.resize((320, 240))
    spec = synth.ExifSpec(software="PicsArt", datetime_original="2026:11:01 10:00:00")
    ex = synth.exif_bytes(spec)
    buf = io.BytesIO()
    small.save(buf, "WEBP", quality=80, exif=ex, xmp=XMP.encode())
    data = buf.getvalue()
    result = exif.analyse(data, _decode(data), POSTED)
    assert result["software"] == "PicsArt" and result["xmp"]["creator_tool"] == "Canva"
    assert {"PicsArt", "Canva"} <= {p["name"] for p in result["programs"]}

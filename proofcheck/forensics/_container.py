"""Bounded walkers over the JPEG segment and PNG chunk structure of the original file.

Pillow is deliberately forgiving: it skips a JPEG segment with a length of 0, ignores
a PNG text chunk whose zlib stream is broken, and turns a corrupt EXIF block into a
warning. That is right for showing pixels and wrong for forensics, where malformed
structure is itself evidence (a hand-edited or tool-damaged file). These walkers
read the structure themselves and report every problem instead of hiding it.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field

MAX_SEGMENTS = 5_000  # a real JPEG has < 50; this only bounds hostile files
MAX_CHUNKS = 50_000  # PNG encoders may split IDAT finely, so be generous
MAX_TEXT_BYTES = 1 << 20  # a decompressed PNG text chunk larger than 1 MiB is hostile

JPEG_MARKER_NAMES = {
    0xC0: "SOF0", 0xC1: "SOF1", 0xC2: "SOF2", 0xC3: "SOF3", 0xC4: "DHT",
    0xC5: "SOF5", 0xC6: "SOF6", 0xC7: "SOF7", 0xC9: "SOF9", 0xCA: "SOF10",
    0xCB: "SOF11", 0xCC: "DAC", 0xCD: "SOF13", 0xCE: "SOF14", 0xCF: "SOF15",
    0xD8: "SOI", 0xD9: "EOI", 0xDA: "SOS", 0xDB: "DQT", 0xDD: "DRI", 0xFE: "COM",
    **{0xE0 + i: f"APP{i}" for i in range(16)},
}
# Markers that stand alone, without a length field.
_STANDALONE = {0x01, 0xD8, 0xD9, *range(0xD0, 0xD8)}
# After SOS the entropy-coded data runs until a marker other than a stuffed 0xFF00 or
# a restart marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True)
class Segment:
    marker: int
    offset: int  # of the 0xFF byte
    start: int  # first payload byte
    end: int  # one past the last payload byte

    @property
    def name(self) -> str:
        return JPEG_MARKER_NAMES.get(self.marker, f"0x{self.marker:02X}")


@dataclass
class JpegStructure:
    segments: list[Segment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    trailing_bytes: int = 0  # bytes after EOI (appended data, a second image...)
    has_eoi: bool = False


def walk_jpeg(data: bytes) -> JpegStructure:
    """Split a JPEG file into segments; never raises, problems go to `.errors`."""
    out = JpegStructure()
    if data[:2] != b"\xff\xd8":
        out.errors.append("not a JPEG file (no SOI marker)")
        return out
    pos = 2
    n = len(data)
    while pos < n:
        if len(out.segments) >= MAX_SEGMENTS:
            out.errors.append(f"more than {MAX_SEGMENTS} JPEG segments")
            return out
        if data[pos] != 0xFF:
            out.errors.append(f"garbage instead of a marker at byte {pos}")
            return out
        while pos < n and data[pos] == 0xFF:  # fill bytes are legal
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            out.segments.append(Segment(marker, pos - 2, pos, pos))
            if marker == 0xD9:
                out.has_eoi = True
                out.trailing_bytes = n - pos
                return out
            continue
        if pos + 2 > n:
            out.errors.append("file ends inside a segment header")
            return out
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        name = JPEG_MARKER_NAMES.get(marker, f"0x{marker:02X}")
        if length < 2:
            # The length counts its own two bytes, so 0 or 1 is impossible: the file
            # was written by a broken or hostile tool.
            out.errors.append(f"{name} segment at byte {pos - 2} has impossible length {length}")
            return out
        if length == 2:
            out.errors.append(f"empty (0-byte) {name} segment at byte {pos - 2}")
        end = pos + length
        if end > n:
            out.errors.append(f"{name} segment at byte {pos - 2} runs past the end of the file")
            out.segments.append(Segment(marker, pos - 2, pos + 2, n))
            return out
        out.segments.append(Segment(marker, pos - 2, pos + 2, end))
        pos = end
        if marker == 0xDA:
            m = _NEXT_MARKER.search(data, pos)
            if m is None:
                out.errors.append("entropy-coded data runs to the end of the file (no EOI)")
                return out
            pos = m.start()
    if not out.has_eoi:
        out.errors.append("no EOI marker: the file is truncated")
    return out


@dataclass(frozen=True)
class Chunk:
    type: str
    offset: int
    start: int
    end: int
    crc_ok: bool


@dataclass
class PngStructure:
    chunks: list[Chunk] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    trailing_bytes: int = 0


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def walk_png(data: bytes) -> PngStructure:
    """Split a PNG file into chunks, checking lengths, types and CRCs."""
    out = PngStructure()
    if not data.startswith(PNG_SIGNATURE):
        out.errors.append("not a PNG file")
        return out
    pos = len(PNG_SIGNATURE)
    n = len(data)
    while pos < n:
        if len(out.chunks) >= MAX_CHUNKS:
            out.errors.append(f"more than {MAX_CHUNKS} PNG chunks")
            return out
        if pos + 8 > n:
            out.errors.append("file ends inside a chunk header")
            return out
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if not ctype.isalpha():
            out.errors.append(f"invalid chunk type {ctype!r} at byte {pos}")
            return out
        name = ctype.decode("ascii")
        start, end = pos + 8, pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > n:
            out.errors.append(f"{name} chunk at byte {pos} runs past the end of the file")
            return out
        (crc,) = struct.unpack(">I", data[end : end + 4])
        crc_ok = zlib.crc32(data[pos + 4 : end]) == crc
        if not crc_ok:
            out.errors.append(f"{name} chunk at byte {pos} has a bad CRC")
        out.chunks.append(Chunk(name, pos, start, end, crc_ok))
        pos = end + 4
        if name == "IEND":
            out.trailing_bytes = n - pos
            return out
    out.errors.append("no IEND chunk: the file is truncated")
    return out


@dataclass(frozen=True)
class PngText:
    keyword: str
    text: str
    error: str | None


def _bounded_inflate(blob: bytes) -> bytes:
    """zlib-decompress at most MAX_TEXT_BYTES; raise ValueError past that (a bomb)."""
    d = zlib.decompressobj()
    out = d.decompress(blob, MAX_TEXT_BYTES)
    if d.unconsumed_tail:
        raise ValueError(f"decompresses to more than {MAX_TEXT_BYTES} bytes")
    if not d.eof:
        raise zlib.error("incomplete or truncated zlib stream")
    return out


def parse_png_text(data: bytes, chunk: Chunk) -> PngText:
    """Decode one tEXt/zTXt/iTXt chunk; a malformed chunk gives `error`, not an exception."""
    body = data[chunk.start : chunk.end]
    key_raw, sep, rest = body.partition(b"\x00")
    keyword = key_raw[:79].decode("latin-1", "replace")
    if not sep or not 1 <= len(key_raw) <= 79:
        return PngText(keyword, "", f"{chunk.type} chunk has no valid keyword")
    try:
        if chunk.type == "tEXt":
            if len(rest) > MAX_TEXT_BYTES:
                return PngText(keyword, "", f"tEXt chunk '{keyword}' is larger than 1 MiB")
            return PngText(keyword, rest.decode("latin-1"), None)
        if chunk.type == "zTXt":
            if not rest or rest[0] != 0:
                return PngText(keyword, "", f"zTXt chunk '{keyword}' has an unknown compression")
            return PngText(keyword, _bounded_inflate(rest[1:]).decode("latin-1"), None)
        # iTXt: compression flag, method, language\0, translated keyword\0, text
        if len(rest) < 2:
            return PngText(keyword, "", f"iTXt chunk '{keyword}' is truncated")
        cflag, cmethod, tail = rest[0], rest[1], rest[2:]
        parts = tail.split(b"\x00", 2)
        if len(parts) != 3 or cflag not in (0, 1) or (cflag == 1 and cmethod != 0):
            return PngText(keyword, "", f"iTXt chunk '{keyword}' is malformed")
        text_raw = parts[2]
        if cflag == 1:
            text_raw = _bounded_inflate(text_raw)
        elif len(text_raw) > MAX_TEXT_BYTES:
            # Returned truncated rather than refused: an XMP packet this big is itself
            # the finding, and the caller reports it.
            return PngText(keyword, text_raw[:MAX_TEXT_BYTES].decode("utf-8", "replace"),
                           f"iTXt chunk '{keyword}' is larger than 1 MiB")
        return PngText(keyword, text_raw.decode("utf-8"), None)
    except UnicodeDecodeError:
        return PngText(keyword, "", f"{chunk.type} chunk '{keyword}' is not valid UTF-8")
    except (zlib.error, ValueError) as exc:
        return PngText(keyword, "", f"{chunk.type} chunk '{keyword}' cannot be decompressed: {exc}")


def png_without_text(data: bytes) -> bytes:
    """The PNG with its tEXt/zTXt/iTXt chunks removed, other chunks byte for byte.

    Pillow refuses a whole PNG over one bad text chunk (a bad CRC, a zTXt that
    inflates past its limit), although text carries no pixels. A decoder can fall
    back to this copy so such a file still gets checked, while the metadata family
    reports the bad chunk from the original bytes.
    """
    st = walk_png(data)
    if not st.chunks:
        return data
    parts = [PNG_SIGNATURE]
    for chunk in st.chunks:
        if chunk.type not in ("tEXt", "zTXt", "iTXt"):
            parts.append(data[chunk.offset : chunk.end + 4])
    return b"".join(parts)

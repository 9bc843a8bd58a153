"""JPEG history: quantization tables, estimated quality, editor segments, and signs
of double compression, all from the uploaded file (never from a re-encode).

Double compression is estimated with the calibration method of Lukáš & Fridrich
("Estimation of primary quantization matrix in double compressed JPEG images",
2003): the luminance is decoded exactly as stored (libjpeg's Y plane, no colour
conversion), cut into the file's own 8x8 grid and brought back to quantized DCT
coefficients. A copy shifted by 4 pixels breaks that grid and approximates the
coefficients before any compression. For each low frequency we simulate "quantized
with step q1, then with the file's step q2" for every q1 and ask which q1 explains
the observed histogram best; q1 == q2 is the single-compression hypothesis.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from proofcheck.forensics import software
from proofcheck.forensics._common import Flag, clean_str, flag, join_errors, open_quietly
from proofcheck.forensics._container import JpegStructure, walk_jpeg
from proofcheck.imaging import DecodedImage

# ITU-T T.81 Annex K tables in natural (row-major) order, as IJG libjpeg scales them.
STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.int64)
STD_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
], dtype=np.int64)
# Zig-zag scan order: natural index of the k-th coefficient.
ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
])
# Standard (Annex K) AC luminance Huffman code-length counts: libjpeg's default when
# the encoder does not optimise its tables.
STD_AC_LUMA_BITS = bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D])

MAX_BLOCKS = 30_000  # ~2 megapixels of 8x8 blocks: enough statistics, bounded time
MAX_WINDOW = 1600  # pixels per side examined for double compression
# AC frequencies (zig-zag 1..12) examined: higher ones are too sparse and the shifted
# grid estimates them badly (single-compressed files voted "double" there).
DQ_FREQS = 12
HIST_RANGE = 30  # histogram bins -30..30 of quantized coefficients
MIN_SAMPLES = 2_000  # non-zero coefficients a frequency needs to be judged
# Share of frequencies voting "double" that makes a verdict. On 100 generated photos
# (4 sizes, 5 qualities) single saves scored <= 0.17; on 80 re-saved ones (90->70,
# 70->90, 60->85, 85->75) every score was >= 0.42. The threshold sits between.
DQ_THRESHOLD = 0.3
# Photos keep > 70 % of their blocks as textured, screenshots and receipts < 11 %.
MIN_TEXTURED_SHARE = 0.3
# A frequency votes "double" when some other first step explains its histogram this
# much better than a single save does.
DQ_RATIO = 0.8


def ijg_table(quality: int, base: np.ndarray) -> np.ndarray:
    """The table libjpeg (and Pillow, GIMP, Android's Skia...) writes for `quality`."""
    q = min(100, max(1, quality))
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((base * scale + 50) // 100, 1, 255)


_IJG_LUMA = np.stack([ijg_table(q, STD_LUMA) for q in range(1, 101)])
_IJG_CHROMA = np.stack([ijg_table(q, STD_CHROMA) for q in range(1, 101)])


def estimate_quality(luma: np.ndarray, chroma: np.ndarray | None) -> dict[str, Any]:
    """Nearest IJG quality for the tables, and whether they are exactly IJG's."""
    err = np.abs(_IJG_LUMA - luma[None, :]).sum(axis=1).astype(np.float64)
    if chroma is not None:
        err += np.abs(_IJG_CHROMA - chroma[None, :]).sum(axis=1)
    best = int(np.argmin(err))
    cells = 64 * (2 if chroma is not None else 1)
    return {"quality": best + 1, "standard_tables": bool(err[best] == 0),
            "table_mean_abs_error": round(float(err[best]) / cells, 3)}


def analyse(data: bytes, decoded: DecodedImage, posted_at: object = None) -> dict[str, Any]:
    """JPEG signals for one upload; `{"applicable": False}` for other formats."""
    if decoded.format != "JPEG":
        return {"applicable": False, "flags": []}
    errors: list[str] = []
    out: dict[str, Any] = {"applicable": True, "flags": []}
    try:
        _analyse(data, out, errors)
    except Exception as exc:  # keep whatever was measured before the failure
        errors.append(f"JPEG analysis failed: {type(exc).__name__}: {str(exc)[:100]}")
    err = join_errors(errors)
    if err:
        out["error"] = err
    return out


def _analyse(data: bytes, out: dict[str, Any], errors: list[str]) -> None:
    flags: list[Flag] = out["flags"]
    structure = walk_jpeg(data)
    errors.extend(structure.errors)
    _structure(data, structure, out, flags)
    if structure.errors:
        flags.append(flag("malformed_file",
                          f"The file's structure is damaged ({structure.errors[0]}); "
                          "phone and camera encoders do not write such files.", 0.15))

    with open_quietly(data) as im:
        raw_tables = getattr(im, "quantization", None) or {}
        tables = {int(k): np.array(v, dtype=np.int64) for k, v in raw_tables.items()}
        if not tables or any(t.size != 64 for t in tables.values()):
            errors.append("no usable quantization tables")
            return
        luma = tables[min(tables)]
        chroma = tables.get(sorted(tables)[1]) if len(tables) > 1 else None
        out["quantization"] = {str(k): v.tolist() for k, v in tables.items()}
        digest = hashlib.sha1(b"".join(t.astype(np.uint16).tobytes() for t in tables.values()))
        out["tables_sha1"] = digest.hexdigest()[:16]  # for a bank of known encoders
        out.update(estimate_quality(luma, chroma))
        if im.mode not in ("L", "RGB"):  # CMYK/YCCK: rare for proof images, skip pixels
            out["double_compression"] = {"checked": False, "reason": f"mode {im.mode}"}
            return
        im.draft("L", None)  # libjpeg's own Y plane, as stored
        y = np.asarray(im.convert("L"), dtype=np.float32)
    out["double_compression"] = dq = double_compression(y, luma)
    if dq.get("detected"):
        primary = dq.get("primary_quality")
        first = f"first at about quality {primary}, " if primary else ""
        flags.append(flag(
            "jpeg_double_compressed",
            f"The JPEG was saved twice ({first}then at quality {out['quality']}): it was "
            "re-saved after an earlier save, as editors and forwarding apps do.", 0.35))


def _structure(data: bytes, st: JpegStructure, out: dict[str, Any], flags: list[Flag]) -> None:
    apps: list[str] = []
    comments: list[str] = []
    photoshop = False
    for seg in st.segments:
        head = data[seg.start : seg.start + 16]
        if seg.marker == 0xE0 and head.startswith(b"JFIF\x00"):
            apps.append("JFIF")
        elif seg.marker == 0xE1 and head.startswith(b"Exif\x00"):
            apps.append("Exif")
        elif seg.marker == 0xE1 and head.startswith(b"http://ns.adobe"):
            apps.append("XMP")
        elif seg.marker == 0xE2 and head.startswith(b"ICC_PROFILE"):
            apps.append("ICC")
        elif seg.marker == 0xE2 and head.startswith(b"MPF"):
            apps.append("MPF")  # multi-picture: phones append depth maps / previews
        elif seg.marker == 0xEC and head.startswith(b"Ducky"):
            apps.append("Ducky")  # Photoshop "Save for Web"
            photoshop = True
        elif seg.marker == 0xED and head.startswith(b"Photoshop 3.0"):
            apps.append("Photoshop IRB")
            photoshop = True
        elif seg.marker == 0xEE and head.startswith(b"Adobe"):
            apps.append("Adobe")
        elif seg.marker == 0xFE and len(comments) < 5:
            text = clean_str(data[seg.start : min(seg.end, seg.start + 400)])
            if text:
                comments.append(text)
        elif seg.marker in (0xC0, 0xC1, 0xC2) and seg.end - seg.start >= 6:
            _frame(data, seg.start, seg.marker, out)
        elif seg.marker == 0xC4:
            out.setdefault("huffman", "optimized")
            body = data[seg.start : seg.end]
            # A DHT may hold several tables; the AC luma one has class/id byte 0x10.
            i = 0
            while i + 17 <= len(body):
                tc_th, counts = body[i], body[i + 1 : i + 17]
                if tc_th == 0x10 and counts == STD_AC_LUMA_BITS:
                    out["huffman"] = "standard"
                i += 17 + sum(counts)
    out["segments"] = list(dict.fromkeys(apps))
    out["comments"] = comments
    out["trailing_bytes"] = st.trailing_bytes
    for text in comments:
        prog = software.identify(text)
        if prog and prog.kind in ("editor", "ai_generator"):
            flags.append(flag("edited_with_software",
                              f"A JPEG comment names {prog.name} (\u201c{text[:60]}\u201d).",
                              prog.severity))
    if photoshop:
        flags.append(flag("photoshop_segments",
                          "The file carries Photoshop's own data blocks (APP13 image resources "
                          "or Save-for-Web), so an Adobe editor wrote it.", 0.5))
    if st.trailing_bytes > 64 and "MPF" not in apps:
        flags.append(flag("data_after_end",
                          f"{st.trailing_bytes} bytes follow the end of the image: something "
                          "was appended to the file after it was encoded.", 0.2))


def _frame(data: bytes, start: int, marker: int, out: dict[str, Any]) -> None:
    body = data[start : start + 6 + 3 * 4]
    ncomp = body[5]
    out["progressive"] = marker == 0xC2
    out["components"] = ncomp
    if ncomp >= 3 and len(body) >= 6 + 3 * 3:
        h, v = body[7] >> 4, body[7] & 15
        out["subsampling"] = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0",
                              (1, 2): "4:4:0", (4, 1): "4:1:1"}.get((h, v), f"{h}x{v}")


def _dct_matrix() -> np.ndarray:
    x = np.arange(8)
    m = np.cos((2 * x[None, :] + 1) * x[:, None] * math.pi / 16) / 2
    m[0, :] /= math.sqrt(2)
    return m


_DCT = _dct_matrix()


def _blocks(y: np.ndarray, dy: int, dx: int) -> tuple[np.ndarray, float]:
    """DCT coefficients (natural order, n x 64) of the 8x8 blocks of a shifted grid,
    keeping only textured blocks that are not clipped at black or white; and the
    share of all blocks that were kept."""
    h = (y.shape[0] - dy) // 8 * 8
    w = (y.shape[1] - dx) // 8 * 8
    if h < 8 or w < 8:
        return np.empty((0, 64), dtype=np.float32), 0.0
    b = y[dy : dy + h, dx : dx + w].reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2).reshape(-1, 8, 8)
    keep = (b.min(axis=(1, 2)) > 1) & (b.max(axis=(1, 2)) < 254) & (b.std(axis=(1, 2)) > 1.5)
    share = float(keep.mean())
    b = b[keep]
    if len(b) > MAX_BLOCKS:  # deterministic thinning, spread over the whole image
        b = b[np.linspace(0, len(b) - 1, MAX_BLOCKS).astype(np.int64)]
    dct = _DCT.astype(np.float32)
    coef = dct @ (b - 128.0) @ dct.T
    return coef.reshape(-1, 64).astype(np.float32), share


def _round(x: np.ndarray) -> np.ndarray:
    # libjpeg rounds half away from zero; numpy's rint rounds half to even.
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _hist(values: np.ndarray) -> np.ndarray:
    v = np.clip(values, -HIST_RANGE - 1, HIST_RANGE + 1).astype(np.int64) + HIST_RANGE + 1
    h = np.bincount(v, minlength=2 * HIST_RANGE + 3)[1:-1].astype(np.float64)
    return h / max(1.0, h.sum())


def double_compression(y: np.ndarray, luma: np.ndarray) -> dict[str, Any]:
    """Per-frequency primary-step estimates and an overall verdict."""
    # A centred window, cut on the 8-pixel grid, bounds the time on big photos.
    if y.shape[0] > MAX_WINDOW or y.shape[1] > MAX_WINDOW:
        top = max(0, (y.shape[0] - MAX_WINDOW) // 16 * 8)
        left = max(0, (y.shape[1] - MAX_WINDOW) // 16 * 8)
        y = y[top : top + MAX_WINDOW, left : left + MAX_WINDOW]
    observed, share = _blocks(y, 0, 0)
    calibrated, _ = _blocks(y, 4, 4)
    if len(observed) < 200 or len(calibrated) < 200:
        return {"checked": False, "reason": "too few textured 8x8 blocks"}
    if share < MIN_TEXTURED_SHARE:
        # Flat graphics and text (screenshots, receipts) have spiky coefficient
        # histograms the shifted grid cannot model: 6 of 6 single-saved generated
        # screenshots were called "double". The test is for photographs only.
        return {"checked": False, "textured_share": round(share, 3),
                "reason": "mostly flat graphics or text; the test only works on photos"}
    # How close the stored-grid coefficients are to integers after division by the
    # table: ~0.1 means we are on the file's real grid and table, ~0.25 means not.
    q2s = luma.astype(np.float32)
    obs_q = observed / q2s[None, :]
    low = ZIGZAG[1:10]
    out: dict[str, Any] = {
        "checked": True, "blocks": len(observed), "textured_share": round(share, 3),
        "grid_residual": round(float(np.abs(obs_q[:, low] - np.rint(obs_q[:, low])).mean()), 3),
    }
    votes: list[dict[str, Any]] = []
    for k in range(1, DQ_FREQS + 1):
        idx = int(ZIGZAG[k])
        q2 = int(luma[idx])
        if q2 < 2:
            continue  # a step of 1 leaves no trace of an earlier step
        obs = _round(obs_q[:, idx])
        cal = calibrated[:, idx]
        if np.count_nonzero(obs) < MIN_SAMPLES // 4 or len(cal) < MIN_SAMPLES:
            continue
        h_obs = _hist(obs)
        errs: dict[int, float] = {}
        for q1 in range(1, min(2 * q2 + 16, 100) + 1):
            sim = _round(_round(cal / q1) * q1 / q2)
            errs[q1] = float(((_hist(sim) - h_obs) ** 2).sum())
        single = errs[q2]
        best = min(errs, key=lambda q: errs[q])
        # Two histograms of n samples differ by about 2/n in this squared distance from
        # sampling alone; below 4/n the single hypothesis is not contradicted.
        floor = 4.0 / max(1, len(cal))
        double = best != q2 and errs[best] < DQ_RATIO * single and single > floor
        # A best q1 of 1 means "an earlier, finer step we cannot size".
        votes.append({"freq": k, "q2": q2, "q1": (best if best > 1 else None) if double else q2,
                      "double": double,
                      "ratio": round(errs[best] / single, 3) if single > 0 else 1.0})
    out["frequencies"] = len(votes)
    if len(votes) < 3:
        out.update(checked=False, reason="too few usable frequencies")
        return out
    double_votes = [v for v in votes if v["double"]]
    score = len(double_votes) / len(votes)
    out["score"] = round(score, 3)
    out["detected"] = score >= DQ_THRESHOLD and len(double_votes) >= 3
    out["primary_steps"] = {str(v["freq"]): v["q1"] for v in votes}
    if out["detected"]:
        out["primary_quality"] = _primary_quality(double_votes)
    return out


def _primary_quality(votes: list[dict[str, Any]]) -> int | None:
    """The IJG quality whose table has the most of the estimated first steps."""
    sized = [v for v in votes if v["q1"]]
    if len(sized) < 2:
        return None
    idx = np.array([int(ZIGZAG[v["freq"]]) for v in sized])
    steps = np.array([v["q1"] for v in sized])
    hits = (_IJG_LUMA[:, idx] == steps[None, :]).sum(axis=1)
    if hits.max() < max(2, len(sized) // 2):
        return None
    # Several qualities can share the hits; take the middle of the best run.
    best = np.flatnonzero(hits == hits.max())
    return int(best[len(best) // 2]) + 1

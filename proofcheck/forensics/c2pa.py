"""C2PA content credentials, verified fully offline with c2pa-python.

A valid manifest is a positive signal (the pixels are unchanged since a known tool
signed them), an invalid one a strong negative (the file claims a history it no
longer matches), and absence carries no weight: almost no proof image has one.

Offline means: no remote manifest fetch, no OCSP, and no network host allowed at
all. The SDK's trust decision uses only the anchors passed in (`trust_anchors_pem`),
so "valid" (signature intact, signer unknown) and "trusted" are kept apart: anyone
can sign with a certificate they made themselves.
"""

from __future__ import annotations

import functools
import io
import json
from datetime import datetime
from typing import Any

from proofcheck.forensics._common import Flag, clean_str, flag
from proofcheck.imaging import DecodedImage

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# IPTC digital source types that mean "made by a generative model".
_AI_SOURCES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia",
               "algorithmicMedia")
MAX_CODES = 20


@functools.lru_cache(maxsize=4)
def _settings(trust_anchors_pem: str | None) -> str:
    settings: dict[str, Any] = {
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "ocsp_fetch": False,
            "remote_manifest_fetch": False,
        },
        "core": {"allowed_network_hosts": []},
    }
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return json.dumps(settings)


def has_jumbf(data: bytes) -> bool:
    """Cheap pre-check: C2PA manifests live in a JUMBF box labelled "c2pa"."""
    return b"jumb" in data and b"c2pa" in data


def analyse(data: bytes, decoded: DecodedImage, posted_at: datetime | None,
            trust_anchors_pem: str | None = None) -> dict[str, Any]:
    """Content-credential signals for one upload; never raises."""
    flags: list[Flag] = []
    out: dict[str, Any] = {"present": False, "flags": flags}
    mime = _MIME.get(decoded.format)
    if mime is None:
        return out
    try:
        import c2pa as sdk
    except ImportError:  # optional at run time; the other signals still work
        out["error"] = "c2pa-python is not installed"
        return out
    embedded = has_jumbf(data)
    try:
        ctx = sdk.Context.from_json(_settings(trust_anchors_pem))
        reader = sdk.Reader.try_create(mime, io.BytesIO(data), None, ctx)
    except Exception as exc:  # C2paError and friends: the manifest cannot be parsed
        if not embedded:
            # Nothing that looks like a manifest: an SDK complaint about the container
            # is not evidence about credentials.
            out["error"] = f"C2PA reader failed: {_short(exc)}"
            return out
        out.update(present=True, state="Invalid", valid=False,
                   failures=[{"code": "manifest.unreadable", "explanation": _short(exc)}])
        flags.append(flag("c2pa_invalid",
                          "The file carries content credentials that are damaged and cannot "
                          "be read: it was altered after it was signed.", 0.8))
        return out
    if reader is None:
        return out
    try:
        with reader:
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
            manifest = reader.get_active_manifest() or {}
    except Exception as exc:
        out.update(present=True, error=f"C2PA manifest could not be read: {_short(exc)}")
        return out
    _describe(state, results, manifest, out, flags)
    return out


def _describe(state: str | None, results: dict[str, Any], manifest: dict[str, Any],
              out: dict[str, Any], flags: list[Flag]) -> None:
    active = results.get("activeManifest") or {}
    failures = [{"code": clean_str(f.get("code"), 80),
                 "explanation": clean_str(f.get("explanation"))}
                for f in active.get("failure", [])[:MAX_CODES] if isinstance(f, dict)]
    # An unknown signer is a trust question, not damage: keep it out of "invalid".
    untrusted = {"signingCredential.untrusted"}
    damage = [f for f in failures if f["code"] not in untrusted]
    sig = manifest.get("signature_info") or {}
    actions = _actions(manifest)
    sources = [a.get("digitalSourceType") or "" for a in actions]
    out.update(
        present=True,
        state=state,
        valid=state in ("Valid", "Trusted") and not damage,
        trusted=state == "Trusted",
        failures=failures,
        signer={"issuer": clean_str(sig.get("issuer")),
                "common_name": clean_str(sig.get("common_name")),
                "time": clean_str(sig.get("time"))},
        claim_generator=_generator(manifest),
        title=clean_str(manifest.get("title")),
        actions=[clean_str(a.get("action"), 60) for a in actions][:20],
    )
    who = out["signer"]["issuer"] or out["signer"]["common_name"] or "an unknown signer"
    if not out["valid"]:
        first = damage[0]["code"] if damage else state
        flags.append(flag("c2pa_invalid",
                          f"The content credentials (signed by {who}) no longer match the file "
                          f"({first}): it was altered after it was signed.", 0.85))
        return
    if out["trusted"]:
        flags.append(flag("c2pa_valid",
                          f"Carries valid content credentials from a trusted signer ({who}); "
                          "the image is unchanged since it was signed.", 0.0))
    else:
        flags.append(flag("c2pa_valid_untrusted",
                          f"Carries intact content credentials, but the signer ({who}) is not "
                          "on our trust list: anyone can sign with their own certificate.", 0.0))
    if any(s.endswith(_AI_SOURCES) for s in sources):
        flags.append(flag("c2pa_ai_generated",
                          "Its content credentials declare it was generated by an AI model.", 0.8))
    edits = [a for a in out["actions"] if a and a not in ("c2pa.created", "c2pa.opened")]
    if edits:
        flags.append(flag("c2pa_declared_edits",
                          "Its content credentials record edits: " + ", ".join(edits[:5]) + ".",
                          0.2))


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions") or []:
        if not isinstance(assertion, dict):
            continue
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            data = assertion.get("data") or {}
            found.extend(a for a in data.get("actions") or [] if isinstance(a, dict))
    return found[:50]


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name = info[0].get("name")
        version = info[0].get("version")
        return clean_str(f"{name} {version}" if version else name)
    return clean_str(manifest.get("claim_generator"))


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"

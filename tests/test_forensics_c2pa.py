"""C2PA content credentials, signed here with a throw-away CA and verified offline."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from proofcheck.forensics import c2pa as credentials
from proofcheck.forensics import synth
from proofcheck.imaging import DecodedImage, decode

sdk = pytest.importorskip("c2pa", reason="c2pa-python is needed for content credentials")


def _decode(data: bytes) -> DecodedImage:
    return decode(data, 50_000_000)


@dataclass(frozen=True)
class Pki:
    root_pem: str
    chain_pem: bytes  # signer certificate, then the root
    key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ProofCheck Test CA")])


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A root CA and an ES256 end-entity certificate fit for C2PA claim signing."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder()
            .subject_name(_name("Test Root")).issuer_name(_name("Test Root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(sign=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                           critical=False)
            .sign(root_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(_name("Test Signer")).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return Pki(
        root_pem=root.public_bytes(pem).decode(),
        chain_pem=leaf.public_bytes(pem) + root.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
    )


def _sign(pki: Pki, asset: bytes, mime: str, source_type: str = "digitalCapture") -> bytes:
    """Sign offline: no timestamp authority, so nothing leaves the machine."""
    info = sdk.C2paSignerInfo(sdk.C2paSigningAlg.ES256, pki.chain_pem, pki.key_pem, None)
    signer = sdk.Signer.from_info(info)
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": "proofcheck-tests", "version": "1.0"}],
        "title": "proof", "format": mime,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": f"http://cv.iptc.org/newscodes/digitalsourcetype/{source_type}",
        }]}}],
    }
    ctx = sdk.Context.from_dict({"builder": {"thumbnail": {"enabled": False}},
                                 "verify": {"verify_after_sign": False}})
    out = io.BytesIO()
    with sdk.Builder(manifest, context=ctx) as builder:
        builder.sign(signer, mime, io.BytesIO(asset), out)
    signer.close()
    return out.getvalue()


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return synth.jpeg_bytes(synth.photo(320, 240, seed=5), 90)


@pytest.fixture(scope="module")
def signed_jpeg(pki: Pki, photo_jpeg: bytes) -> bytes:
    return _sign(pki, photo_jpeg, "image/jpeg")


def _codes(result: dict) -> set[str]:
    return {f["code"] for f in result["flags"]}


def test_valid_manifest_from_a_trusted_root(pki: Pki, signed_jpeg: bytes) -> None:
    result = credentials.analyse(signed_jpeg, _decode(signed_jpeg), None,
                                 trust_anchors_pem=pki.root_pem)
    assert result["present"] is True and result["valid"] is True and result["trusted"] is True
    assert result["state"] == "Trusted"
    assert result["signer"]["common_name"] == "Test Signer"
    assert result["claim_generator"] == "proofcheck-tests 1.0"
    assert result["actions"] == ["c2pa.created"]
    [f] = result["flags"]
    assert f["code"] == "c2pa_valid" and f["severity"] == 0
    json.dumps(result)


def test_valid_manifest_from_an_unknown_signer_is_not_trusted(signed_jpeg: bytes) -> None:
    result = credentials.analyse(signed_jpeg, _decode(signed_jpeg), None)
    assert result["valid"] is True and result["trusted"] is False
    assert _codes(result) == {"c2pa_valid_untrusted"}


def test_pixels_changed_after_signing_is_a_strong_negative(pki: Pki,
                                                           signed_jpeg: bytes) -> None:
    tampered = bytearray(signed_jpeg)
    tampered[-300] ^= 0xFF  # inside the entropy-coded image data, after the manifest
    data = bytes(tampered)
    result = credentials.analyse(data, _decode(data), None, trust_anchors_pem=pki.root_pem)
    assert result["present"] is True and result["valid"] is False
    assert any("mismatch" in (f["code"] or "") for f in result["failures"])
    [f] = result["flags"]
    assert f["code"] == "c2pa_invalid" and f["severity"] >= 0.8


def test_corrupt_manifest_bytes_are_invalid_not_an_exception(pki: Pki,
                                                             signed_jpeg: bytes) -> None:
    start = signed_jpeg.find(b"c2pa")
    broken = bytearray(signed_jpeg)
    for i in range(start + 40, start + 600):
        broken[i] ^= 0x5A
    data = bytes(broken)
    result = credentials.analyse(data, _decode(data), None, trust_anchors_pem=pki.root_pem)
    assert result["present"] is True and result["valid"] is False
    assert "c2pa_invalid" in _codes(result)


def test_absent_manifest_carries_no_weight(photo_jpeg: bytes) -> None:
    result = credentials.analyse(photo_jpeg, _decode(photo_jpeg), None)
    assert result == {"present": False, "flags": []}
    png = synth.png_bytes(Image.new("RGB", (40, 40)))
    assert credentials.analyse(png, _decode(png), None) == {"present": False, "flags": []}


def test_signed_png_and_declared_ai_generation(pki: Pki) -> None:
    png = synth.png_bytes(synth.phone_screenshot(360, 780, seed=2))
    signed = _sign(pki, png, "image/png", source_type="trainedAlgorithmicMedia")
    result = credentials.analyse(signed, _decode(signed), None, trust_anchors_pem=pki.root_pem)
    assert result["valid"] is True
    assert "c2pa_ai_generated" in _codes(result)


def test_settings_forbid_every_network_fetch() -> None:
    settings = json.loads(credentials._settings(None))
    assert settings["verify"]["ocsp_fetch"] is False
    assert settings["verify"]["remote_manifest_fetch"] is False
    assert settings["core"]["allowed_network_hosts"] == []

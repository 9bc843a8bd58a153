"""The Persian web fonts apps print proof in, fetched once at set-up for the digit
templates (`glyphs`): Vazirmatn, Sahel, Samim, Shabnam, Tanha, Parastoo and Gandom are
what Iranian apps, shops and bank pages use, and Debian packages none of them.

They come from the npm registry (a package registry, reached at set-up only), pinned by
version and checked against the registry's sha512 integrity before anything is
written; a font already in place is not fetched again. Without them the templates use
the Debian fonts alone. Run by `scripts/bootstrap.sh`:

    python -m proofcheck.text.webfonts
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
# Relative to a font root (`glyphs.FONT_ROOTS`): the template fonts' names say this.
SUBDIR = "proofcheck-web"


@dataclass(frozen=True)
class WebFont:
    package: str
    version: str
    integrity: str  # the registry's dist.integrity of the tarball
    files: tuple[str, ...]  # paths inside the tarball; saved under their base names


WEB_FONTS = (
    WebFont("vazirmatn", "33.0.3",
            "sha512-fbjNc0CMjazZpIegWzz9OHGzI1APFboT+x7ZecXlUCtDe/nkyx7gtCTZnWS/+eeXG7fbfXymCPKJI8EsnM3iqw==",
            ("package/fonts/ttf/Vazirmatn-Regular.ttf", "package/fonts/ttf/Vazirmatn-Bold.ttf")),
    WebFont("sahel-font", "3.4.0",
            "sha512-aKJSOrGizh5YBDNl1pt9p1XKgJcmcvej4oGCdSRl4XtcfGRKP18P+6cDs4GGtJSZr36MZoa926DZ1ISAs0zz6g==",
            ("package/dist/Sahel.ttf", "package/dist/Sahel-Bold.ttf")),
    WebFont("samim-font", "4.0.5",
            "sha512-6pbs2J5SE28g86CK6SwF8A56xzSVnvo730K2nsONLbznYlWLA5nB4LcxWboKdC0K8AMzbRSjf17zK3PKFGxGFw==",
            ("package/dist/Samim.ttf", "package/dist/Samim-Bold.ttf")),
    WebFont("shabnam-font", "5.0.0",
            "sha512-ngRcvlyoq7Ka42uXmy+YjKQBaspOZSRBvGbN6mKeBM2oBj7DgdAWVvxHetvZPyxHS4fsD91Wap5uccg1MwquCQ==",
            ("package/dist/Shabnam.ttf", "package/dist/Shabnam-Bold.ttf")),
    WebFont("tanha-font", "0.10.0",
            "sha512-yxlMC/s7gP6agMzeqpjV4lcc+fg8QMSXueDxGqZ6X7o/KBNuO5FQ7ENPJDEO3tJ5O+5JxnVDcivOnoGw9EhqKg==",
            ("package/dist/Tanha.ttf",)),
    WebFont("parastoo-font", "2.0.1",
            "sha512-jHkzWCHV5qIokefcgN8xxNKmFBK8byIydH1H6vCfzSk+HHRlnUeF8gn0UyL7o/6lamfMQ0Ih7atxB+zXdfA8WA==",
            ("package/dist/Parastoo.ttf", "package/dist/Parastoo-Bold.ttf")),
    WebFont("gandom-font", "0.8.0",
            "sha512-rRy6/Xghh2PTcFqi/79psihHVz9JFrPNWOeikXWvU0Tth0iKGovXdEcn53HcujBrZ1dK0P7RGyVdQog2qW4mRg==",
            ("package/dist/Gandom.ttf",)),
)


class FetchError(Exception):
    """A font package could not be fetched, or was not the one pinned."""


def font_root() -> Path:
    """Where fetched fonts live: inside the Python environment, beside the packages."""
    return Path(sys.prefix) / "share" / "fonts"


def template_names() -> tuple[str, ...]:
    """The fetched fonts as template font names (relative to a font root)."""
    return tuple(f"{SUBDIR}/{Path(f).name}" for font in WEB_FONTS for f in font.files)


def _tarball(font: WebFont, registry: str, timeout: float) -> bytes:
    url = f"{registry}/{font.package}/-/{font.package}-{font.version}.tgz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
    except OSError as exc:
        raise FetchError(f"{font.package}: cannot fetch {url}: {exc}") from exc
    algorithm, _, expected = font.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise FetchError(f"{font.package}@{font.version}: integrity mismatch, nothing written")
    return data


def fetch(font: WebFont, dest: Path, registry: str = REGISTRY, timeout: float = 60.0) -> list[Path]:
    """Fetch one pinned package and write its font files into `dest` (each by an atomic
    rename, so a file there is whole); files already there are kept. Returns the paths
    written."""
    missing = [f for f in font.files if not (dest / Path(f).name).exists()]
    if not missing:
        return []
    data = _tarball(font, registry, timeout)
    written: list[Path] = []
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member_name in missing:
            try:
                member = tar.getmember(member_name)
            except KeyError as exc:
                raise FetchError(f"{font.package}@{font.version}: no {member_name}") from exc
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                raise FetchError(f"{font.package}@{font.version}: {member_name} is no file")
            fd, tmp = tempfile.mkstemp(dir=dest, suffix=".part")
            target = dest / Path(member_name).name
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(source.read())
                os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service user
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(target)
    return written


def main(registry: str = REGISTRY) -> int:
    dest = font_root() / SUBDIR
    failures = 0
    for font in WEB_FONTS:
        try:
            for path in fetch(font, dest, registry):
                print(f"[setup] font {path.name} ({font.package}@{font.version})")
        except FetchError as exc:
            # The fonts widen the digit templates; the service runs without them.
            print(f"[setup] optional font not installed: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures == len(WEB_FONTS) else 0


if __name__ == "__main__":
    sys.exit(main())

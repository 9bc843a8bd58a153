"""The Persian web fonts apps print proof in, fetched once at set-up for the digit
templates (`glyphs`): Vazirmatn, Sahel, Samim, Shabnam, Tanha, Parastoo and Gandom are
what Iranian apps, shops and bank pages use, and Debian packages none of them.

They come from the npm registry, pinned by version and checked before anything is
written (`pinned`). Without them the templates use the Debian fonts alone. Run by
`scripts/bootstrap.sh`:

    python -m proofcheck.text.webfonts
"""

from __future__ import annotations

import sys
from pathlib import Path

from .pinned import REGISTRY, FetchError, Pinned, fetch

# Relative to a font root (`glyphs.FONT_ROOTS`): the template fonts' names say this.
SUBDIR = "proofcheck-web"

WEB_FONTS = (
    Pinned("vazirmatn", "33.0.3",
           "sha512-fbjNc0CMjazZpIegWzz9OHGzI1APFboT+x7ZecXlUCtDe/nkyx7gtCTZnWS/+eeXG7fbfXymCPKJI8EsnM3iqw==",
           ("package/fonts/ttf/Vazirmatn-Regular.ttf", "package/fonts/ttf/Vazirmatn-Bold.ttf")),
    Pinned("sahel-font", "3.4.0",
           "sha512-aKJSOrGizh5YBDNl1pt9p1XKgJcmcvej4oGCdSRl4XtcfGRKP18P+6cDs4GGtJSZr36MZoa926DZ1ISAs0zz6g==",
           ("package/dist/Sahel.ttf", "package/dist/Sahel-Bold.ttf")),
    Pinned("samim-font", "4.0.5",
           "sha512-6pbs2J5SE28g86CK6SwF8A56xzSVnvo730K2nsONLbznYlWLA5nB4LcxWboKdC0K8AMzbRSjf17zK3PKFGxGFw==",
           ("package/dist/Samim.ttf", "package/dist/Samim-Bold.ttf")),
    Pinned("shabnam-font", "5.0.0",
           "sha512-ngRcvlyoq7Ka42uXmy+YjKQBaspOZSRBvGbN6mKeBM2oBj7DgdAWVvxHetvZPyxHS4fsD91Wap5uccg1MwquCQ==",
           ("package/dist/Shabnam.ttf", "package/dist/Shabnam-Bold.ttf")),
    Pinned("tanha-font", "0.10.0",
           "sha512-yxlMC/s7gP6agMzeqpjV4lcc+fg8QMSXueDxGqZ6X7o/KBNuO5FQ7ENPJDEO3tJ5O+5JxnVDcivOnoGw9EhqKg==",
           ("package/dist/Tanha.ttf",)),
    Pinned("parastoo-font", "2.0.1",
           "sha512-jHkzWCHV5qIokefcgN8xxNKmFBK8byIydH1H6vCfzSk+HHRlnUeF8gn0UyL7o/6lamfMQ0Ih7atxB+zXdfA8WA==",
           ("package/dist/Parastoo.ttf", "package/dist/Parastoo-Bold.ttf")),
    Pinned("gandom-font", "0.8.0",
           "sha512-rRy6/Xghh2PTcFqi/79psihHVz9JFrPNWOeikXWvU0Tth0iKGovXdEcn53HcujBrZ1dK0P7RGyVdQog2qW4mRg==",
           ("package/dist/Gandom.ttf",)),
)


def font_root() -> Path:
    """Where fetched fonts live: inside the Python environment, beside the packages."""
    return Path(sys.prefix) / "share" / "fonts"


def template_names() -> tuple[str, ...]:
    """The fetched fonts as template font names (relative to a font root)."""
    return tuple(f"{SUBDIR}/{Path(f).name}" for font in WEB_FONTS for f in font.files)


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

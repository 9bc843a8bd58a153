"""Recognising the program named in a Software / CreatorTool / history tag.

Only the program's own name is matched, case-insensitively; version numbers vary.
The severity says how much the tag alone suggests a doctored proof: a photo editor
is a reason to look closely, a converter such as ImageMagick is often a platform's
own pipeline, and phone firmware strings ("17.1.2", "G998BXXU5...") mean nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Program:
    name: str
    kind: str  # "editor", "ai_generator", "converter", "desktop_capture"
    severity: float


_TABLE: list[tuple[str, Program]] = [
    # AI image generators: a "receipt" or "parcel photo" they made is fabricated.
    (r"midjourney", Program("Midjourney", "ai_generator", 0.85)),
    (r"dall[-·\s]?e|openai", Program("DALL-E", "ai_generator", 0.85)),
    (r"stable[\s_-]?diffusion|automatic1111|comfyui|invokeai",
     Program("Stable Diffusion", "ai_generator", 0.85)),
    (r"firefly", Program("Adobe Firefly", "ai_generator", 0.85)),
    # Photo and design editors.
    # Order matters: "Adobe Photoshop Lightroom" and "Adobe Photoshop Camera Raw" are
    # the raw developers, not the pixel editor.
    (r"lightroom", Program("Adobe Lightroom", "editor", 0.4)),
    (r"camera raw", Program("Adobe Camera Raw", "editor", 0.3)),
    (r"photoshop", Program("Adobe Photoshop", "editor", 0.6)),
    (r"adobe express|adobe spark", Program("Adobe Express", "editor", 0.6)),
    (r"fireworks|imageready", Program("Adobe Fireworks", "editor", 0.6)),
    (r"snapseed", Program("Snapseed", "editor", 0.5)),
    (r"\bcanva\b", Program("Canva", "editor", 0.7)),
    (r"picsart", Program("PicsArt", "editor", 0.6)),
    (r"\bgimp\b", Program("GIMP", "editor", 0.6)),
    (r"pixlr", Program("Pixlr", "editor", 0.6)),
    (r"meitu|meipai", Program("Meitu", "editor", 0.5)),
    (r"\bvsco\b", Program("VSCO", "editor", 0.4)),
    (r"photopea", Program("Photopea", "editor", 0.6)),
    (r"affinity", Program("Affinity Photo", "editor", 0.6)),
    (r"pixelmator", Program("Pixelmator", "editor", 0.6)),
    (r"paint\.net", Program("Paint.NET", "editor", 0.6)),
    (r"paintshop|paint shop", Program("PaintShop Pro", "editor", 0.6)),
    (r"\bfotor\b", Program("Fotor", "editor", 0.5)),
    (r"polarr", Program("Polarr", "editor", 0.4)),
    (r"facetune", Program("Facetune", "editor", 0.4)),
    (r"photodirector", Program("PhotoDirector", "editor", 0.5)),
    (r"photoscape", Program("PhotoScape", "editor", 0.5)),
    (r"\bkrita\b", Program("Krita", "editor", 0.6)),
    (r"luminar", Program("Luminar", "editor", 0.4)),
    (r"capture one", Program("Capture One", "editor", 0.3)),
    (r"darktable", Program("darktable", "editor", 0.3)),
    (r"rawtherapee", Program("RawTherapee", "editor", 0.3)),
    (r"inkscape", Program("Inkscape", "editor", 0.6)),
    (r"picasa", Program("Picasa", "editor", 0.3)),
    (r"airbrush|beautyplus|youcam", Program("beauty editor", "editor", 0.4)),
    (r"inshot", Program("InShot", "editor", 0.5)),
    (r"\bremini\b", Program("Remini", "editor", 0.4)),
    # Converters and viewers: re-saved, not necessarily edited.
    (r"imagemagick", Program("ImageMagick", "converter", 0.15)),
    (r"graphicsmagick", Program("GraphicsMagick", "converter", 0.15)),
    (r"libvips|\bvips\b", Program("libvips", "converter", 0.1)),
    (r"xnview", Program("XnView", "converter", 0.2)),
    (r"irfanview", Program("IrfanView", "converter", 0.2)),
    (r"faststone", Program("FastStone", "converter", 0.2)),
    (r"acdsee", Program("ACDSee", "converter", 0.2)),
    (r"windows photo|photos legacy", Program("Windows Photos", "converter", 0.2)),
    (r"^preview\b|macos preview", Program("macOS Preview", "converter", 0.2)),
    # Desktop screen capture tools: a "phone screenshot" made on a PC is a composition.
    (r"greenshot", Program("Greenshot", "desktop_capture", 0.2)),
    (r"sharex", Program("ShareX", "desktop_capture", 0.2)),
    (r"lightshot", Program("Lightshot", "desktop_capture", 0.2)),
    (r"snipping tool|snip & sketch|screenclip", Program("Snipping Tool", "desktop_capture", 0.2)),
    (r"snagit", Program("Snagit", "desktop_capture", 0.2)),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), prog) for p, prog in _TABLE]


def identify(tag_value: str) -> Program | None:
    """The known program a tag names, or None for firmware strings and unknowns."""
    text = tag_value[:300]
    for pattern, prog in _COMPILED:
        if pattern.search(text):
            return prog
    return None

"""Reading a phone status bar's values: clock, battery, network, carrier."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from proofcheck.forensics.screenshot import status_bar
from proofcheck.text.statusbar import parse_status_text, read_status_bar

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def phone(clock: str, right: str, dark: bool = False, carrier: str = "") -> Image.Image:
    """A 1080x2340 screenshot with a status bar over a chat-like body."""
    bg, fg = ((20, 20, 20), (240, 240, 240)) if dark else ((250, 250, 250), (20, 20, 20))
    image = Image.new("RGB", (1080, 2340), bg)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    draw.text((50, 22), f"{clock}  {carrier}".strip(), fill=fg, font=font)
    width = draw.textlength(right, font=font)
    draw.text((1030 - width - 90, 22), right, fill=fg, font=font)
    draw.rectangle((950, 28, 1020, 62), outline=fg, width=4)  # the battery glyph
    draw.rectangle((956, 34, 990, 56), fill=fg)
    draw.rectangle((0, 110, 1080, 260), fill=(40, 120, 200))  # the app bar below
    for row in range(10):
        draw.rounded_rectangle((60, 320 + row * 180, 800, 440 + row * 180), 30,
                               fill=(255, 255, 255) if not dark else (60, 60, 60))
    return image


@pytest.mark.parametrize("clock, right, dark, carrier, expected", [
    ("9:41", "LTE 87%", False, "", {"clock": "9:41", "battery": 87, "network": "LTE"}),
    ("23:05", "5G 100%", True, "Safaricom",
     {"clock": "23:05", "battery": 100, "network": "5G", "carrier": "Safaricom"}),
])
def test_status_bar_values_are_read(clock, right, dark, carrier, expected):
    image = phone(clock, right, dark, carrier)
    bar = status_bar(image)
    assert bar is not None and bar["present"]
    values = read_status_bar(image, bar)
    assert {k: values[k] for k in expected} == expected, values["text"]


def test_two_posts_from_one_screenshot_show_the_same_bar_values():
    """A series made from one screenshot: same clock and battery on every image, which
    is what the cross-post rules compare; another screenshot differs."""
    first, second = phone("10:17", "4G 64%"), phone("10:17", "4G 64%")
    ImageDraw.Draw(second).rectangle((60, 600, 900, 900), fill=(200, 230, 200))
    other = phone("18:52", "4G 31%")
    read = [read_status_bar(img, status_bar(img)) for img in (first, second, other)]
    assert read[0]["clock"] == read[1]["clock"] == "10:17"
    assert read[0]["battery"] == read[1]["battery"] == 64
    assert (read[2]["clock"], read[2]["battery"]) == ("18:52", 31)


def test_parsing_handles_persian_digits_twelve_hour_clocks_and_noise():
    assert parse_status_text("۱۰:۴۵  ایرانسل  ۸۸%")["clock"] == "10:45"
    assert parse_status_text("۱۰:۴۵  ایرانسل  ۸۸%")["battery"] == 88
    assert parse_status_text("2:07 PM  Play  LTE  45 %") == {
        "clock": "2:07 PM", "battery": 45, "network": "LTE", "carrier": "Play"}
    assert parse_status_text("") == {"clock": None, "battery": None, "network": None,
                                     "carrier": None}
    assert parse_status_text("99:99 250%")["clock"] is None
    assert parse_status_text("99:99 250%")["battery"] is None


def test_a_check_reports_the_bar_values_under_signals_screenshot():
    from proofcheck import pipeline

    out = io.BytesIO()
    phone("9:41", "LTE 87%").save(out, "PNG")
    item = pipeline.CheckInput(check_id="c1", account=None, post_id=None, posted_at=None,
                               submitted_at=dt.datetime.now(dt.UTC))
    result = pipeline.run(out.getvalue(), item, lambda _sha: [], pipeline.Thresholds(),
                          max_pixels=50_000_000)
    bar = result.signals["screenshot"]["status_bar"]
    assert (bar["clock"], bar["battery"], bar["network"]) == ("9:41", 87, "LTE")

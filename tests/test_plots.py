"""The SVG plot geometry: positions follow the data and stay inside the plot."""

from __future__ import annotations

import datetime as dt

from proofcheck import plots


def test_timeline_places_posts_by_time_and_score():
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    posts = [plots.Post(f"c{n}", start + dt.timedelta(days=n), score, "review", f"p{n}")
             for n, score in enumerate([0.1, 0.9, 0.5])]
    chart = plots.timeline(posts, current="c1")
    xs = [m.x for m in chart.marks]
    assert xs == sorted(xs) and len(set(xs)) == 3
    ys = {m.title: m.y for m in chart.marks}
    assert ys["p1"] < ys["p2"] < ys["p0"]  # a higher score is drawn higher up
    assert [m.css for m in chart.marks] == ["dot-review", "dot-current", "dot-review"]
    for mark in chart.marks:
        assert chart.left <= mark.x <= chart.right and chart.top <= mark.y <= chart.bottom
    assert plots.timeline([]).empty


def test_stacked_bars_stack_to_the_day_total():
    days = [dt.date(2026, 11, d) for d in (21, 22, 23)]
    chart = plots.stacked_bars(days, {"bar-fabricated": [0, 2, 1], "bar-authentic": [0, 1, 3]})
    bars = [m for m in chart.marks if "23 Nov" in m.title]
    assert len(bars) == 2
    top = min(b.y for b in bars)
    assert abs(sum(b.h for b in bars) - (chart.bottom - top)) < 1e-6
    assert chart.x_ticks[0].label == "23 Nov"  # the latest day is always labelled
    assert plots.stacked_bars(days, {"bar-unsure": [0, 0, 0]}).empty


def test_line_has_a_point_per_day():
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=n) for n in range(30)]
    chart = plots.line(days, list(range(30)))
    [(css, points)] = chart.lines
    assert css == "line-depth" and len(points.split()) == 30

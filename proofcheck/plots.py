"""Geometry for the small server-rendered SVG plots (timeline, dashboard).

Only numbers and labels are computed here; the templates draw them, so every label
goes through Jinja's escaping and the pages need no JavaScript to show a chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the edge labels must stay inside the plot


@dataclass(frozen=True)
class Mark:
    """A dot or a bar: (x, y) is its centre (dot) or top-left corner (bar)."""

    x: float
    y: float
    css: str  # a class name from app.css; never user input
    title: str
    w: float = 0.0
    h: float = 0.0
    href: str | None = None


@dataclass(frozen=True)
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM
    marks: list[Mark] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, "x,y x,y ...")
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    empty: bool = False


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi <= lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) / (hi - lo) * (out_hi - out_lo)


def _nice_max(value: float) -> float:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    return float(value)


@dataclass(frozen=True)
class Post:
    check_id: str
    when: dt.datetime
    score: float | None
    verdict: str | None
    label: str


def timeline(posts: Sequence[Post], current: str | None = None,
             href: str = "/checks/{}") -> Chart:
    """One account's posts over time, scored 0-1; the current check drawn larger."""
    chart = Chart(legend=[("dot-authentic", "authentic"), ("dot-review", "review"),
                          ("dot-fabricated", "fabricated"), ("dot-current", "this check")])
    if not posts:
        return Chart(empty=True)
    times = [p.when.timestamp() for p in posts]
    lo, hi = min(times), max(times)
    if hi - lo < 3600:  # a burst within an hour still spreads across the plot
        lo, hi = lo - 1800, hi + 1800
    for post in posts:
        x = _scale(post.when.timestamp(), lo, hi, chart.left + 16, chart.right - 16)
        y = _scale(post.score if post.score is not None else 0.0, 0.0, 1.0, chart.bottom,
                   chart.top)
        css = "dot-current" if post.check_id == current else f"dot-{post.verdict or 'pending'}"
        chart.marks.append(Mark(x, y, css, post.label, w=8 if post.check_id == current else 5,
                                href=href.format(post.check_id)))
    for value in (0.0, 0.5, 1.0):
        chart.y_ticks.append(Tick(_scale(value, 0, 1, chart.bottom, chart.top), f"{value:.1f}"))
    for i in range(4):
        t = lo + (hi - lo) * i / 3
        when = dt.datetime.fromtimestamp(t, dt.UTC)
        fmt = "%d %b %H:%M" if hi - lo < 3 * 86400 else "%d %b %Y"
        chart.x_ticks.append(Tick(_scale(t, lo, hi, chart.left + 16, chart.right - 16),
                                  when.strftime(fmt), ("start", "middle", "middle", "end")[i]))
    return chart


def stacked_bars(days: Sequence[dt.date], series: dict[str, Sequence[int]]) -> Chart:
    """Counts per day, one stacked bar per day; `series` maps a css class to counts."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    chart = Chart(legend=[(css, css.removeprefix("bar-")) for css in series])
    if not days or max(totals, default=0) == 0:
        return Chart(empty=True, legend=chart.legend)
    top = _nice_max(max(totals))
    slot = (chart.right - chart.left) / len(days)
    for i, day in enumerate(days):
        base = float(chart.bottom)
        for css, values in series.items():
            count = values[i]
            if not count:
                continue
            h = (chart.bottom - chart.top) * count / top
            base -= h
            chart.marks.append(Mark(chart.left + i * slot + slot * 0.15, base, css,
                                    f"{day:%d %b}: {count} {css.removeprefix('bar-')}",
                                    w=slot * 0.7, h=h))
    _day_ticks(chart, days, slot)
    _count_ticks(chart, top)
    return chart


def line(days: Sequence[dt.date], values: Sequence[int], css: str = "line-depth") -> Chart:
    """One count per day as a line with a dot per day."""
    chart = Chart()
    if not days:
        return Chart(empty=True)
    top = _nice_max(max(max(values, default=0), 1))
    slot = (chart.right - chart.left) / len(days)
    points = []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        x = chart.left + i * slot + slot / 2
        y = _scale(value, 0, top, chart.bottom, chart.top)
        points.append(f"{x:.1f},{y:.1f}")
        chart.marks.append(Mark(x, y, "dot-depth", f"{day:%d %b}: {value}", w=3))
    chart.lines.append((css, " ".join(points)))
    _day_ticks(chart, days, slot)
    _count_ticks(chart, top)
    return chart


def _day_ticks(chart: Chart, days: Sequence[dt.date], slot: float) -> None:
    # Counted back from today, so the most recent day always has its label.
    every = max(len(days) // 6, 1)
    for i in range(len(days) - 1, -1, -every):
        anchor = "end" if i == len(days) - 1 else "start" if i < every else "middle"
        chart.x_ticks.append(Tick(chart.left + i * slot + slot / 2, f"{days[i]:%d %b}", anchor))


def _count_ticks(chart: Chart, top: float) -> None:
    # Counts are whole numbers: no tick at 2.5 decisions.
    for value in (0, top / 2, top) if top % 2 == 0 else (0, top):
        chart.y_ticks.append(Tick(_scale(value, 0, top, chart.bottom, chart.top),
                                  f"{value:g}"))

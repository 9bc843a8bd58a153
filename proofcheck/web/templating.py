"""Template helpers shared by the portal and the review pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_login import current_user

# How deep and how long a signal value is drawn: a runaway dict from a new forensic
# module must not turn the evidence screen into megabytes of HTML.
MAX_DEPTH = 5
MAX_ITEMS = 200


def columns(rows: list[Any]) -> list[str]:
    """The keys of a list of dicts, in first-seen order: the columns of its table."""
    seen: dict[str, None] = {}
    for row in rows[:MAX_ITEMS]:
        if isinstance(row, Mapping):
            for key in row:
                seen.setdefault(str(key), None)
    return list(seen)


def is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping)
                                                          for v in value[:MAX_ITEMS])


def age(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return "—"
    seconds = int(((now or dt.datetime.now(dt.UTC)) - value).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{max(seconds, 0)} s"


def init_templating(app: Flask) -> None:
    app.add_template_filter(columns, "columns")
    app.add_template_test(is_table, "table")
    app.add_template_filter(age, "age")

    @app.context_processor
    def _user() -> dict[str, Any]:
        user = current_user if current_user and current_user.is_authenticated else None
        return {"user": user, "signal_max_depth": MAX_DEPTH, "signal_max_items": MAX_ITEMS}

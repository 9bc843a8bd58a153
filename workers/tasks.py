"""Job functions. Each takes ids, not objects, and is a thin wrapper around a service.

The Services object is built once per worker process (before RQ forks a work horse for
each job), so the database engine and later the in-memory index are shared
copy-on-write instead of being rebuilt for every job.
"""

from __future__ import annotations

from proofcheck import batches, callbacks
from proofcheck.config import load_settings
from proofcheck.processing import process_check
from proofcheck.services import Services

_services: Services | None = None


def use_services(services: Services | None) -> None:
    """Set the Services jobs in this process use (the worker does it at start)."""
    global _services
    _services = services


def current_services() -> Services:
    global _services
    if _services is None:
        _services = Services(load_settings())
    return _services


def run_check(check_id: str) -> str:
    services = current_services()
    status = process_check(services, check_id)
    if status in ("done", "failed"):
        callbacks.notify_check(services, check_id)
    return status


def run_batch(batch_id: str) -> str:
    return batches.run_batch(current_services(), batch_id, process_check)


def deliver_callback(delivery_id: int) -> str:
    return callbacks.deliver(current_services(), delivery_id)

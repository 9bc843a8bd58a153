"""Signed callbacks: POST the final JSON of a check or batch to its callback_url.

Each delivery runs as its own job on the "webhooks" queue, so a receiver that hangs
never holds up a check; a failed attempt is retried later with exponential backoff,
and every attempt is recorded on the delivery row (shown on the check and the batch).
Callbacks to loopback, private, link-local and other non-public addresses are refused
(SSRF) unless PROOFCHECK_ALLOW_PRIVATE_CALLBACKS=1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from rq import Queue
from sqlalchemy import select

from proofcheck.db import ApiKey, Batch, Check, Delivery, utcnow
from proofcheck.services import Services

log = logging.getLogger(__name__)

WEBHOOK_QUEUE = "webhooks"
DELIVER = "workers.tasks.deliver_callback"
SIGNATURE_HEADER = "X-ProofCheck-Signature"


class UnsafeCallback(ValueError):
    pass


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_destination(url: str, allow_private: bool, resolve: bool = True) -> None:
    """Raise UnsafeCallback unless `url` is http(s) to public addresses only."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UnsafeCallback("callback_url must be an http(s) URL")
    if parsed.username or parsed.password:
        raise UnsafeCallback("callback_url must not carry credentials")
    if allow_private:
        return
    host = parsed.hostname
    try:
        addresses = [host] if _is_ip(host) else (
            [info[4][0] for info in socket.getaddrinfo(host, parsed.port or 443)]
            if resolve else [])
    except socket.gaierror as exc:
        raise UnsafeCallback(f"callback host {host} does not resolve ({exc})") from None
    for address in addresses:
        if not _public(str(address)):
            raise UnsafeCallback(
                f"callback_url resolves to a non-public address ({address}); set "
                "PROOFCHECK_ALLOW_PRIVATE_CALLBACKS=1 for on-premise receivers")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point the request at an internal address: never follow one."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_queue(services: Services) -> Queue:
    return Queue(WEBHOOK_QUEUE, connection=services.redis)


def schedule(services: Services, delivery_id: int, delay_s: float = 0) -> None:
    queue = webhook_queue(services)
    if delay_s <= 0:
        queue.enqueue_call(DELIVER, args=(delivery_id,), timeout=60, result_ttl=3600)
    else:
        queue.enqueue_in(dt.timedelta(seconds=delay_s), DELIVER, delivery_id)


def create_delivery(services: Services, url: str, check_id: str | None = None,
                    batch_id: str | None = None) -> int:
    with services.db.session() as session:
        delivery = Delivery(url=url, check_id=check_id, batch_id=batch_id)
        session.add(delivery)
        session.flush()
        delivery_id = delivery.id
    schedule(services, delivery_id)
    return delivery_id


def _payload(services: Services, delivery: Delivery) -> tuple[bytes, str | None]:
    """The body (the same JSON as the matching GET) and the signing secret."""
    from proofcheck.batches import batch_json
    from proofcheck.serialize import check_json

    with services.db.session() as session:
        if delivery.check_id is not None:
            check = session.get(Check, delivery.check_id)
            assert check is not None
            body = check_json(session, check)
            key_id = check.api_key_id
        else:
            batch = session.get(Batch, delivery.batch_id)
            assert batch is not None
            body = batch_json(session, batch)
            key_id = batch.api_key_id
        secret = session.scalar(select(ApiKey.webhook_secret).where(ApiKey.id == key_id))
    return json.dumps(body, ensure_ascii=False).encode(), secret


def deliver(services: Services, delivery_id: int) -> str:
    """One attempt; on failure schedule the next one, until the backoff list runs out."""
    settings = services.settings
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "missing"
        delivery.attempts += 1
        attempt = delivery.attempts
        session.flush()
        session.expunge(delivery)
    body, secret = _payload(services, delivery)
    status_code: int | None = None
    error: str | None = None
    try:
        check_destination(delivery.url, settings.allow_private_callbacks)
        request = urllib.request.Request(delivery.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "ProofCheck-Callback/1",
            SIGNATURE_HEADER: sign(secret or "", body),
        })
        with _opener.open(request, timeout=settings.callback_timeout_s) as response:
            status_code = response.status
    except UnsafeCallback as exc:
        error = str(exc)
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivered = status_code is not None and 200 <= status_code < 300
    backoff = settings.callback_backoff_s
    give_up = not delivered and (attempt > len(backoff) or
                                 (error is not None and error.startswith("callback_url")))
    with services.db.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.last_status_code = status_code
        row.last_error = None if delivered else (error or f"HTTP {status_code}")
        if delivered:
            row.status, row.delivered_at = "delivered", utcnow()
        elif give_up:
            row.status = "failed"
    if not delivered and not give_up:
        schedule(services, delivery_id, backoff[attempt - 1])
    outcome = "delivered" if delivered else ("failed" if give_up else "retrying")
    log.info("callback %s attempt %d: %s (%s)", delivery_id, attempt, outcome,
             error or status_code)
    return outcome


def notify_check(services: Services, check_id: str) -> int | None:
    """Queue the callback of a check that reached a final status, once."""
    with services.db.session() as session:
        check = session.get(Check, check_id)
        if (check is None or not check.callback_url or check.batch_id is not None
                or check.status not in ("done", "failed")):
            return None
        if session.scalar(select(Delivery.id).where(Delivery.check_id == check_id)) is not None:
            return None
        url = check.callback_url
    return create_delivery(services, url, check_id=check_id)

"""The `proofcheck` command. Every sub-command creates or migrates the database first."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from proofcheck.config import load_settings
from proofcheck.db import KINDS
from proofcheck.services import Services


def _services() -> Services:
    services = Services(load_settings())
    services.migrate()
    return services


@click.group()
@click.option("--verbose", "-v", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """ProofCheck: finds reused, edited and fabricated social proof."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="RQ worker processes to run.")
@click.option("--web-processes", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, web_processes: int) -> None:
    """Run the web app, workers and (without REDIS_URL) a private Redis, until Ctrl-C."""
    from proofcheck.supervisor import Supervisor

    services = _services()
    code = Supervisor(services.settings, host, port, workers, web_processes).run()
    sys.exit(code)


@main.command()
@click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
@click.option("--fork/--no-fork", default=False, show_default=True,
              help="Run each job in a forked child (isolation) instead of in this process "
                   "(warm OCR engines and index; the default).")
@click.option("--queues", default="checks,batch,webhooks", show_default=True,
              help="Comma-separated queues to work on, most urgent first.")
def worker(burst: bool, fork: bool, queues: str) -> None:
    """Run one RQ worker (REDIS_URL must be set)."""
    from workers.runner import make_worker

    services = _services()
    if not services.settings.redis_url:
        raise click.ClickException("REDIS_URL is not set; use `proofcheck serve` for a local Redis")
    # The scheduler runs delayed jobs: callback retries with backoff.
    names = [name.strip() for name in queues.split(",") if name.strip()]
    # In-process by default: a forked child would reload Tesseract's language models
    # (about a second) for every job. A crash still only costs a restart: `serve`
    # restarts the worker and the sweeper re-queues the check.
    make_worker(services, simple=not fork, queues=names).work(burst=burst,
                                                               with_scheduler=True)


@main.command()
def sweep() -> None:
    """Re-queue checks stuck in queued/running whose job was lost."""
    from proofcheck.queueing import sweep as run_sweep

    report = run_sweep(_services())
    click.echo(f"examined {report.examined}, requeued {len(report.requeued)}, "
               f"failed {len(report.failed)}, still waiting {report.left_waiting}")


@main.command()
@click.option("--grace", default=3600, show_default=True, type=int,
              help="Keep files younger than this many seconds.")
def gc(grace: int) -> None:
    """Delete stored originals no check refers to (left by failed uploads)."""
    from proofcheck.queueing import collect_orphan_blobs

    removed = collect_orphan_blobs(_services(), grace_s=grace)
    click.echo(f"removed {len(removed)} orphaned file(s)")


@main.command()
@click.option("--all", "everything", is_flag=True,
              help="Recompute every check's signatures, not only outdated ones.")
def resign(everything: bool) -> None:
    """Recompute near-duplicate signatures from the stored originals: those of an
    older version (which the search no longer reads) or lacking newer keys."""
    from proofcheck.resign import resign as run_resign

    report = run_resign(_services(), everything=everything)
    click.echo(f"examined {report.examined}, re-signed {len(report.resigned)}, "
               f"failed {len(report.failed)}")
    for check_id, why in report.failed.items():
        click.echo(f"  {check_id}: {why}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--account", help="Account for every file (default: folder:<parent folder>).")
def scan(paths: tuple[Path, ...], as_json: bool, account: str | None) -> None:
    """Check local files in-process, each against the ones before it (no Redis)."""
    from proofcheck.scan import format_table
    from proofcheck.scan import scan as run_scan

    services = _services()
    settings = services.settings
    rows = run_scan(paths, services.thresholds, settings.max_pixels, settings.max_upload_bytes,
                    account=account.strip().casefold() if account else None)
    if not rows:
        raise click.ClickException("no files found")
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=2))
    else:
        click.echo(format_table(rows))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--account", help="Who published the images (platform:handle).")
@click.option("--kind", type=click.Choice(KINDS), help="What the images show.")
@click.option("--post-id", help="The post the images come from.")
@click.option("--posted-at", help="When the post was published (ISO 8601).")
@click.option("--wait", is_flag=True, help="Wait for the results and print them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--url", envvar="PROOFCHECK_URL", default="http://127.0.0.1:8000",
              show_default=True, help="The ProofCheck server.")
@click.option("--api-key", envvar="PROOFCHECK_API_KEY", required=True,
              help="An API key with the submit and read scopes ($PROOFCHECK_API_KEY).")
def submit(paths: tuple[Path, ...], account: str | None, kind: str | None,
           post_id: str | None, posted_at: str | None, wait: bool, as_json: bool, url: str,
           api_key: str) -> None:
    """Send images to a ProofCheck server's API (one request per file)."""
    from proofcheck.client import ApiError, Client
    from proofcheck.scan import expand

    client = Client(url, api_key)
    fields = {name: value for name, value in (("account", account), ("kind", kind),
              ("post_id", post_id), ("posted_at", posted_at)) if value}
    files = list(expand(paths))
    results: list[dict[str, object]] = []
    with click.progressbar(files, label="submitting", file=sys.stderr) as bar:
        for path in bar:
            try:
                created = client.submit([path], fields)[0]
                results.append({"path": str(path), **created})
            except ApiError as exc:
                results.append({"path": str(path), "status": "refused", "error": str(exc)})
    if wait:
        pending = [r for r in results if r.get("id")]
        with click.progressbar(pending, label="waiting", file=sys.stderr) as bar:
            for row in bar:
                done = client.wait(str(row["id"]))
                row.update({k: done.get(k) for k in ("status", "verdict", "score", "error")})
                row["reason"] = (done.get("reasons") or [{}])[0].get("message", "")
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for row in results:
        score = row.get("score")
        click.echo("\t".join([str(row["path"]), str(row.get("id", "-")), str(row["status"]),
                              str(row.get("verdict") or "-"),
                              f"{score:.2f}" if isinstance(score, float) else "-",
                              str(row.get("reason") or row.get("error") or "")]))


@main.command("create-api-key")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True,
              help="submit, read, search, review or admin (repeatable; default: all).")
def create_api_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    from proofcheck.apikeys import create_key

    try:
        row, plain = create_key(_services().db, name, scopes)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created key {row.id} '{row.name}' with scopes {', '.join(row.scopes)}; "
               "store it now, it is not shown again:")
    click.echo(plain)


@main.command("list-api-keys")
def list_api_keys() -> None:
    """List API keys (never the keys themselves)."""
    from proofcheck.apikeys import list_keys

    for row in list_keys(_services().db):
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.name}\t{','.join(row.scopes)}\t{state}")


@main.command("revoke-api-key")
@click.argument("key_id", type=int)
def revoke_api_key(key_id: int) -> None:
    """Revoke an API key by its id (see list-api-keys)."""
    from proofcheck.apikeys import revoke_key

    if not revoke_key(_services().db, key_id):
        raise click.ClickException(f"no active key with id {key_id}")
    click.echo(f"revoked key {key_id}")


@main.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["viewer", "moderator", "admin"]), default="viewer",
              show_default=True, help="viewer: upload and read; moderator: also review; "
                                      "admin: also manage users and keys.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def create_user(username: str, role: str, password_stdin: bool) -> None:
    """Create a portal user (the password is prompted for unless --password-stdin)."""
    from proofcheck.users import UserError
    from proofcheck.users import create_user as make_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = make_user(_services().db, username, password, role)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.username}")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
def upgrade() -> None:
    """Create or upgrade the database schema to the newest revision."""
    from proofcheck.migrations import current_revision

    services = _services()
    click.echo(f"database at revision {current_revision(services.db.engine)}")


def _add_scoring_commands() -> None:
    # synth, train, evaluate live with the classifier they build (proofcheck/scoring/cli.py).
    from proofcheck.scoring.cli import register

    register(main)


_add_scoring_commands()


if __name__ == "__main__":  # pragma: no cover
    main()

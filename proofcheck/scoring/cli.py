"""`proofcheck synth`, `train` and `evaluate`, registered on the main command group."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from proofcheck.scoring.synth import DEFAULT_PHOTO_DIRS


def _progress(label: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            click.echo(f"{label}: {done}/{total} posts processed", err=True)

    return report


@click.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Folder to write the scenario to.")
@click.option("--accounts", default=60, show_default=True, type=click.IntRange(2, 5000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--photos-from", "photos_from", multiple=True,
              help="Folder of photographs for parcel and product posts (repeatable; "
                   "`skimage` for scikit-image's samples). Default: Debian's wallpapers.")
@click.option("--photo-half", type=click.Choice(["a", "b"]),
              help="Use one of two disjoint halves of the photographs (train on a, "
                   "evaluate on b).")
def synth(out: Path, accounts: int, seed: int, photos_from: tuple[str, ...],
          photo_half: str | None) -> None:
    """Generate a labelled scenario of accounts and their posts."""
    from proofcheck.scoring.synth import photo_sources, write_scenario

    if (out / "scenario.json").exists():
        raise click.ClickException(f"{out} already holds a scenario")
    photos = photo_sources(photos_from or DEFAULT_PHOTO_DIRS, photo_half)
    try:
        manifest = write_scenario(out, accounts, seed, photos)
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    fraud = sum(p["label"] for p in manifest["posts"])
    click.echo(f"wrote {len(manifest['posts'])} posts ({fraud} fraudulent) of "
               f"{len(manifest['accounts'])} accounts from {len(photos)} photographs to {out}")


@click.command()
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path),
              help="Models folder (default: the checkout's models/ or $PROOFCHECK_MODEL_DIR).")
@click.option("--version", help="Model version (default: date, estimator and seed).")
@click.option("--no-ocr", is_flag=True, help="Skip OCR while processing (much faster, weaker).")
@click.option("--include-reviews", is_flag=True,
              help="Add moderators' fabricated/authentic decisions from this service's "
                   "database as labels.")
def train(data_dir: Path, out: Path | None, version: str | None, no_ocr: bool,
          include_reviews: bool) -> None:
    """Fit and calibrate the classifier on a scenario; write models/<version>/."""
    from proofcheck.cli import _services
    from proofcheck.scoring.model import models_root
    from proofcheck.scoring.train import build_dataset, format_metrics, review_dataset, write_model
    from proofcheck.scoring.train import train as fit

    services = _services()
    data = build_dataset(data_dir, ocr=not no_ocr, progress=_progress("train"))
    if include_reviews:
        extra = review_dataset(services)
        click.echo(f"adding {len(extra.rows)} reviewed checks as labels", err=True)
        data = data.merged(extra)
    try:
        model, report = fit(data, services.thresholds, version)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    folder = write_model(model, report, out or models_root())
    click.echo(format_metrics(report["out_of_fold"]))
    click.echo(f"model {model.version} ({report['estimator']}) written to {folder}")


@click.command()
@click.option("--data", "data_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False,
                                                      path_type=Path),
              help="A model folder (default: the newest under models/).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--no-ocr", is_flag=True, help="Skip OCR while processing.")
def evaluate(data_dir: Path, model_dir: Path | None, as_json: bool, no_ocr: bool) -> None:
    """Measure a trained model on a scenario (use one it was not trained on)."""
    from proofcheck.cli import _services
    from proofcheck.scoring.model import latest_model_dir, load
    from proofcheck.scoring.train import build_dataset, format_metrics
    from proofcheck.scoring.train import evaluate as run_evaluation

    folder = model_dir or latest_model_dir()
    if folder is None:
        raise click.ClickException("no trained model: run `proofcheck train --data DIR` first")
    model = load(folder)
    data = build_dataset(data_dir, ocr=not no_ocr, progress=_progress("evaluate"))
    result = run_evaluation(data, model, _services().thresholds)
    result["model_version"] = model.version
    if as_json:
        json.dump(result, sys.stdout, indent=1)
        click.echo()
    else:
        click.echo(f"model {model.version} on {data_dir}")
        click.echo(format_metrics(result))
        click.echo("\nrule engine on the same checks (the baseline without a model):")
        click.echo(format_metrics(result["rule_engine"]))


def register(group: click.Group) -> None:
    for command in (synth, train, evaluate):
        group.add_command(command)

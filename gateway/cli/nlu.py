"""`gateway nlu`: the Rasa project of the services, its training, and classifier evaluation."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dialogs.catalog import Catalog
from gateway.catalog.repository import load_repository
from gateway.settings import Settings

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)

ServicesOption = Annotated[
    Path | None, typer.Option("--services", help="Definitions folder (default: settings).")
]


def _catalog(services: Path | None) -> Catalog:
    folder = services or Settings().services_dir
    repository = load_repository([folder])
    errors = [p for p in repository.problems if p.severity == "error"]
    for problem in errors:
        typer.echo(problem.format(), err=True)
    if errors:
        typer.echo("definitions with errors are left out; run `gateway check`", err=True)
    return repository.catalog


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Folder of the Rasa project.")],
    services: ServicesOption = None,
) -> None:
    """Write a Rasa 3.x project (config.yml, domain.yml, data/nlu.yml) from the services."""
    from nlu.rasa_project import export_project
    from nlu.rasa_runtime import project_hash

    for path in export_project(_catalog(services), directory):
        typer.echo(f"wrote {path}")
    typer.echo(f"project {project_hash(directory)[:12]}")


@app.command()
def train(
    project: Annotated[
        Path | None,
        typer.Option(help="An exported project (default: export the services afresh)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also copy the model into this folder.")] = None,
    force: Annotated[bool, typer.Option(help="Train even when the model is cached.")] = False,
    services: ServicesOption = None,
) -> None:
    """Train the Rasa model (with the installation of `make rasa`); cached per project."""
    from nlu.rasa_runtime import RasaFailedError, RasaUnavailableError

    try:
        with _project(project, services) as folder:
            model = _train(folder, out, force)
    except (RasaUnavailableError, RasaFailedError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(str(model))


@app.command("eval")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Evaluation cases (YAML list).")],
    rasa_url: Annotated[
        str | None,
        typer.Option(help="Also evaluate this Rasa server (default: GATEWAY_RASA_URL)."),
    ] = None,
    rasa_token: Annotated[
        str | None, typer.Option(help="Its --auth-token (default: GATEWAY_RASA_TOKEN).")
    ] = None,
    train_rasa: Annotated[
        bool,
        typer.Option("--train", help="Train and start a Rasa of its own for the evaluation."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds per Rasa parse (evaluation, not a USSD hop).")
    ] = 5.0,
    services: ServicesOption = None,
) -> None:
    """Accuracy and per-intent precision/recall of each classifier on FILE."""
    from nlu.embedded import EmbeddedClassifier
    from nlu.evaluation import evaluate, load_cases
    from nlu.rasa_client import RasaClassifier
    from nlu.rasa_runtime import RasaFailedError, RasaUnavailableError, serve

    cases = load_cases(file)
    embedded = EmbeddedClassifier.from_catalog(_catalog(services))
    typer.echo(f"== embedded ({len(cases)} cases)")
    typer.echo(asyncio.run(evaluate(embedded.classify, cases)).format())

    settings = Settings()
    url = rasa_url or settings.rasa_url
    secret = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    token = rasa_token or secret
    with ExitStack() as stack:
        if train_rasa:
            try:
                folder = stack.enter_context(_project(None, services))
                model = _train(folder, None, False)
                server = stack.enter_context(serve(model))
            except (RasaUnavailableError, RasaFailedError) as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
            typer.echo(f"rasa started in {server.start_seconds:.1f} s at {server.url}")
            url, token = server.url, None
        if not url:
            typer.echo("(no Rasa: give --rasa-url, set GATEWAY_RASA_URL or use --train)")
            return
        rasa = RasaClassifier(url, embedded, token=token, timeout=timeout)
        report, seconds = asyncio.run(_evaluate_rasa(rasa, cases))
        typer.echo(f"== rasa at {url}")
        typer.echo(report.format())
        stats = rasa.stats()
        typer.echo(
            f"{stats['answered']} answered by Rasa, {stats['fallbacks']} by the fallback "
            f"({stats['timeouts']} timeouts); {seconds * 1000 / max(1, len(cases)):.1f} ms "
            "a case"
        )
        if stats["fallbacks"]:
            typer.echo("warning: Rasa's figures include the fallback's answers", err=True)


async def _evaluate_rasa(rasa: Any, cases: Any) -> tuple[Any, float]:
    from nlu.evaluation import evaluate

    started = time.perf_counter()
    try:
        report = await evaluate(rasa.classify, cases)
    finally:
        await rasa.aclose()
    return report, time.perf_counter() - started


@contextmanager
def _project(project: Path | None, services: Path | None) -> Iterator[Path]:
    """`project`, or the services exported into a temporary folder."""
    if project is not None:
        yield project
        return
    from nlu.rasa_project import export_project

    with tempfile.TemporaryDirectory(prefix="rasa-project-") as scratch:
        export_project(_catalog(services), Path(scratch))
        yield Path(scratch)


def _train(folder: Path, out: Path | None, force: bool) -> Path:
    from nlu.rasa_runtime import models_dir, project_hash
    from nlu.rasa_runtime import train as train_model

    digest = project_hash(folder)
    sha = digest[:12]
    if force or not (models_dir() / f"{digest}.tar.gz").is_file():
        typer.echo(f"training project {sha} (a minute or two)...", err=True)
    model = train_model(folder, out, force=force)
    if model.cached:
        typer.echo(f"project {sha}: model from the cache", err=True)
    else:
        typer.echo(f"project {sha}: trained in {model.seconds:.0f} s", err=True)
    return model.path

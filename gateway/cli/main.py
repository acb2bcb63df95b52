"""The `gateway` command: check, draw, simulate and test services; serve the gateway."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from dialogs.case_checks import check_tests
from dialogs.checks.translations import missing_totals
from dialogs.conversation_tests import parse_tests, run_file
from dialogs.media import Medium
from dialogs.problems import has_errors
from dialogs.schema import json_schema_text
from gateway.catalog.repository import load_repository, test_files
from gateway.cli.exchange import export_services, import_services
from gateway.cli.keys import app as keys_app
from gateway.cli.nlu import app as nlu_app
from gateway.cli.report import report
from gateway.cli.stats import time_to_finish
from gateway.cli.tests_check import check_test_files, definitions, refused
from gateway.cli.users import app as users_app
from gateway.settings import Settings
from nlu.embedded import EmbeddedClassifier

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(nlu_app, name="nlu")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.command("report")(report)
app.command("import")(import_services)
app.command("export")(export_services)

Paths = Annotated[list[Path] | None, typer.Argument(help="Definition files or folders.")]


def _services_dir() -> Path:
    return Settings().services_dir


@app.command()
def schema() -> None:
    """Print the JSON Schema of the service definition format."""
    typer.echo(json_schema_text(), nl=False)


@app.command()
def docs(
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file is out of date.")
    ] = False,
    path: Annotated[
        Path, typer.Option(help="Guide whose reference section is regenerated.")
    ] = Path("docs/authoring.md"),
    schema_path: Annotated[
        Path, typer.Option("--schema", help="Where the JSON Schema is written.")
    ] = Path("schema/service.schema.json"),
) -> None:
    """Regenerate the format reference in the guide and the JSON Schema file."""
    from dialogs.reference import ReferenceMarkersError, replace_reference

    try:
        current = path.read_text(encoding="utf-8")
        guide = replace_reference(current)
    except (OSError, ReferenceMarkersError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    old_schema = schema_path.read_text(encoding="utf-8") if schema_path.is_file() else None
    stale = 0
    for target, old, new in ((path, current, guide), (schema_path, old_schema, json_schema_text())):
        if old == new:
            typer.echo(f"{target}: up to date")
        elif check_only:
            stale += 1
            typer.echo(f"{target}: out of date; run `gateway docs`")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(new, encoding="utf-8")
            typer.echo(f"{target}: updated")
    raise typer.Exit(1 if stale else 0)


@app.command()
def check(
    paths: Paths = None,
    errors_only: Annotated[
        bool, typer.Option("--errors-only", help="Print the errors only (warnings are counted).")
    ] = False,
    stats: Annotated[
        bool,
        typer.Option("--stats", help="Also print the time a citizen takes to finish each service."),
    ] = False,
    ussd_timeout: Annotated[
        float | None,
        typer.Option(
            "--ussd-timeout",
            min=1,
            help="Seconds the operator keeps a USSD session open (default 180).",
        ),
    ] = None,
) -> None:
    """Check definitions and the conversation tests beside them; print problems as
    file:line:col: CODE message."""
    chosen = paths or [_services_dir()]
    repository = load_repository(chosen)
    problems = repository.problems + check_test_files(chosen, repository)
    timing = time_to_finish(repository, ussd_timeout) if stats else None
    problems += timing.problems if timing else []
    for problem in problems:
        if not errors_only or problem.severity == "error":
            typer.echo(problem.format())
    if not errors_only:
        read = (loaded.definition for loaded in repository.loaded if loaded.definition)
        for line in missing_totals(read):
            typer.echo(line)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    hidden = " (hidden)" if errors_only and warnings else ""
    typer.echo(
        f"{len(repository.loaded)} definition(s): {errors} error(s), {warnings} warning(s)" + hidden
    )
    if timing:
        typer.echo(timing.text)
    raise typer.Exit(1 if has_errors(problems) else 0)


@app.command("test")
def run_tests(
    paths: Paths = None,
    channel: Annotated[list[Medium] | None, typer.Option(help="Only these channels.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print transcripts.")] = False,
) -> None:
    """Run the conversation tests (<service>.tests.yaml) beside the definitions."""
    chosen = paths or [_services_dir()]
    folders = [p if p.is_dir() else p.parent for p in chosen]
    repository = load_repository(folders)
    known, refusing = definitions(repository), refused(repository)
    # Free text in a test is understood as the gateway understands it without Rasa.
    understand = EmbeddedClassifier.from_catalog(repository.catalog).understand
    passed = failed = 0
    for path in test_files(chosen):
        text = path.read_text(encoding="utf-8")
        tests, _ = parse_tests(text, str(path))
        if tests is not None and tests.service in refusing:  # not compiled: nothing to play
            typer.echo(
                f"{path}: service {tests.service} is refused by the checker, see `gateway check`"
            )
            failed += 1
            continue
        errors = [p for p in check_tests(text, str(path), known) if p.severity == "error"]
        for problem in errors:
            typer.echo(problem.format())
        failed += bool(errors)
        if tests is None or tests.service not in known:
            continue
        for result in run_file(repository.catalog, tests, channel, understand):
            label = f"{path.name} :: {result.case} [{result.medium}]"
            if result.passed:
                passed += 1
                typer.echo(f"PASS {label}")
            else:
                failed += 1
                typer.echo(f"FAIL {label}")
                for failure in result.failures:
                    typer.echo("  " + failure.replace("\n", "\n  "))
            if verbose or not result.passed:
                typer.echo(
                    "  transcript:\n"
                    + "\n".join(
                        "    " + line for turn in result.transcript for line in turn.splitlines()
                    )
                )
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(1 if failed or not passed else 0)


@app.command()
def simulate(
    service: Annotated[str, typer.Argument(help="Service id or file name.")],
    channel: Annotated[Medium, typer.Option(help="The medium of the screens.")] = Medium.USSD,
    lang: Annotated[str, typer.Option(help="Language code.")] = "en",
    live: Annotated[bool, typer.Option(help="Call real registries for lookups.")] = False,
    phone: Annotated[
        str,
        typer.Option(
            help="The citizen's number (given by the operator; on web and telegram, proved "
            "with the code 123456)."
        ),
    ] = "+97517123456",
) -> None:
    """Play the citizen in a terminal; reads one answer a line when not a terminal."""
    from gateway.cli.simulator import simulate as run_simulation

    repository = load_repository([_services_dir()])
    compiled = repository.service(service)
    if compiled is None:
        typer.echo(f"unknown service {service!r}; run `gateway check` for problems", err=True)
        raise typer.Exit(2)
    run_simulation(
        repository.catalog,
        compiled.id,
        channel,
        lang,
        live=live,
        interactive=sys.stdin.isatty(),
        phone=phone,
    )


@app.command()
def graph(
    service: Annotated[str, typer.Argument(help="Service id or file name.")],
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write the diagram: .mmd (Mermaid) or .dot/.gv (Graphviz source) always; "
            ".svg, .png or .pdf with graphviz's `dot` installed."
        ),
    ] = None,
) -> None:
    """Print the conversation as a Mermaid diagram; optionally write it to a file."""
    from gateway.catalog.graph import GraphError, mermaid, write

    repository = load_repository([_services_dir()])
    compiled = repository.service(service)
    if compiled is None:
        typer.echo(f"unknown service {service!r}", err=True)
        raise typer.Exit(2)
    typer.echo(mermaid(compiled))
    if output is not None:
        try:
            typer.echo(write(compiled, output), err=True)
        except (GraphError, OSError) as exc:
            typer.echo(f"gateway graph: {exc}", err=True)
            raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Start the gateway (FastAPI on uvicorn)."""
    import uvicorn
    from pydantic import ValidationError

    try:
        Settings()  # a placeholder or short secret stops the start here, named
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            where = [str(part) for part in error.get("loc", ())]
            named = f"GATEWAY_{where[0].upper()}: " if where else ""  # a field's own error
            typer.echo(f"gateway: {named}{message}", err=True)
        raise typer.Exit(2) from exc
    # Who the client is comes from GATEWAY_TRUSTED_PROXIES (the app's own middleware):
    # uvicorn's default would believe X-Forwarded-For from any local process.
    options: dict[str, object] = {
        "factory": True,
        "workers": workers,
        "access_log": access_log,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run("gateway.app:create_app", host=host, port=port, **options)  # type: ignore[arg-type]
        return
    listener = shared_socket(host, port)  # held here: closed once collected
    with contextlib.ExitStack() as metrics:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Each worker process counts for itself: without a folder they share, a scrape
            # of /metrics would show whichever worker answered it (gateway.ops.metrics). A new
            # folder each start, since prometheus-client needs it empty; the workers
            # inherit the variable, which goes with the folder.
            folder = metrics.enter_context(tempfile.TemporaryDirectory(prefix="gateway-metrics-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
            metrics.callback(os.environ.pop, "PROMETHEUS_MULTIPROC_DIR")
        uvicorn.run("gateway.app:create_app", fd=listener.fileno(), **options)  # type: ignore[arg-type]


def shared_socket(host: str, port: int) -> socket.socket:
    """The listening socket several workers share, bound here with TCP_NODELAY: Linux
    passes it on to every accepted connection. Bound by uvicorn, the shared socket reaches
    the workers without it, and each reply on a kept-alive connection then waits ~40 ms
    for the peer's delayed ACK (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener


@app.command()
def worker(
    burst: Annotated[
        bool, typer.Option(help="Stop once the queue is empty (for cron jobs and tests).")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            help="Exit 0 if this host's worker is alive (it records so every 10 s), else 1:"
            " a liveness probe."
        ),
    ] = False,
) -> None:
    """Run the outbound worker: sends queued messages, retrying with backoff."""
    import asyncio

    from gateway.delivery.queue import QueueConfigError, alive, queue_url_for

    settings = Settings()
    try:
        url = queue_url_for(settings)
    except QueueConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if check:
        ok = asyncio.run(alive(url, settings.queue_name))
        typer.echo("alive" if ok else "no sign of life from this host's worker", err=not ok)
        raise typer.Exit(0 if ok else 1)
    from gateway.delivery.worker import run_forever  # the PDF stack and more: not for a probe

    failed = run_forever(settings, url, burst=burst)
    raise typer.Exit(1 if failed else 0)


if __name__ == "__main__":
    app()

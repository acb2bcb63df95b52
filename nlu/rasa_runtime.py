"""Training and running Rasa from its own installation (`make rasa`).

Rasa 3.6 needs Python 3.10 and pins dependencies (TensorFlow, SQLAlchemy 1.4...) that
the gateway cannot share, so it lives in a virtual environment of its own, outside the
checkout (`~/.cache/gateway/rasa-3.6.21`, or `GATEWAY_RASA_HOME`) so clones reuse it. The
gateway only ever talks to it through its command line and its HTTP API.

Trained models are cached by a hash of the exported project (`GATEWAY_RASA_MODELS`,
default `~/.cache/gateway/rasa-models/<sha>.tar.gz`): an unchanged catalog is never
retrained (a training takes a minute or two of both cores), a changed one always is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from nlu.rasa_project import PROJECT_FILES, RASA_VERSION

DEFAULT_HOME = Path.home() / ".cache" / "gateway" / f"rasa-{RASA_VERSION}"
DEFAULT_MODELS = Path.home() / ".cache" / "gateway" / "rasa-models"
START_TIMEOUT = 300.0  # loading TensorFlow and the model: 15-60 s on two busy cores
TRAIN_TIMEOUT = 900.0  # a training takes 1-3 minutes of both cores; a stuck one is stopped


class RasaUnavailableError(RuntimeError):
    """The Rasa installation is missing or broken."""


class RasaFailedError(RuntimeError):
    """Rasa ran but training or starting failed; the message ends with its log."""


def rasa_home() -> Path:
    """The Rasa virtual environment: `GATEWAY_RASA_HOME`, else the default of `make rasa`."""
    return Path(os.environ.get("GATEWAY_RASA_HOME") or DEFAULT_HOME)


def rasa_executable(home: Path | None = None) -> Path:
    """`bin/rasa` of the installation; `RasaUnavailableError` telling how to install it."""
    home = home or rasa_home()
    executable = home / "bin" / "rasa"
    if not os.access(executable, os.X_OK):
        raise RasaUnavailableError(
            f"Rasa {RASA_VERSION} is not installed at {home}: run `make rasa` "
            "(or set GATEWAY_RASA_HOME to a virtual environment with rasa installed)"
        )
    return executable


def models_dir() -> Path:
    return Path(os.environ.get("GATEWAY_RASA_MODELS") or DEFAULT_MODELS)


def project_hash(project: Path) -> str:
    """SHA-256 of the project's files and the Rasa version: the model cache key."""
    digest = hashlib.sha256(f"rasa {RASA_VERSION}\0".encode())
    for relative in PROJECT_FILES:
        digest.update(relative.encode() + b"\0")
        digest.update((project / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def rasa_environment() -> dict[str, str]:
    """The environment for Rasa's processes: none of the gateway's Python settings, no
    telemetry (it would call out), quiet TensorFlow."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONWARNINGS")
    }
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    return env


@dataclass(frozen=True)
class TrainedModel:
    path: Path
    cached: bool  # found in the cache: no training ran
    seconds: float  # training time (0 when cached)


def train(project: Path, out: Path | None = None, *, force: bool = False) -> TrainedModel:
    """The model of `project` (`rasa train nlu`), from the cache unless it changed.

    With `out`, the model is also copied there as `<sha>.tar.gz`.
    """
    executable = rasa_executable()
    sha = project_hash(project)
    cache = models_dir()
    cache.mkdir(parents=True, exist_ok=True)
    model = cache / f"{sha}.tar.gz"
    cached = model.is_file() and not force
    seconds = 0.0
    if not cached:
        started = time.monotonic()
        _train_into(executable, project, model)
        seconds = time.monotonic() - started
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, out / model.name)
        model = out / model.name
    return TrainedModel(model, cached, seconds)


def _train_into(executable: Path, project: Path, model: Path) -> None:
    # Trained in a scratch folder and renamed into place: a training that fails or is
    # interrupted never leaves a model behind for the next run to trust.
    with tempfile.TemporaryDirectory(prefix="rasa-train-", dir=model.parent) as scratch:
        work = Path(scratch)
        log = work / "train.log"
        command = [
            str(executable),
            "train",
            "nlu",
            "--config",
            str(project / "config.yml"),
            "--nlu",
            str(project / "data" / "nlu.yml"),
            "--domain",
            str(project / "domain.yml"),
            "--out",
            str(work),
            "--fixed-model-name",
            "model",
        ]
        env = rasa_environment() | {"RASA_CACHE_DIRECTORY": str(work / "cache")}
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=work,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            code = process.wait(timeout=TRAIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RasaFailedError(
                f"`rasa train nlu` did not finish in {TRAIN_TIMEOUT:.0f} s:\n{_tail(log)}"
            ) from None
        finally:
            _stop(process)
        trained = work / "model.tar.gz"
        if code != 0 or not trained.is_file():
            raise RasaFailedError(f"`rasa train nlu` failed (exit {code}):\n{_tail(log)}")
        os.replace(trained, model)


@dataclass(frozen=True)
class RasaServer:
    url: str  # http://127.0.0.1:PORT
    token: str | None
    process: subprocess.Popen[bytes]
    log: Path
    start_seconds: float  # from the process start until the model answered


@contextmanager
def serve(
    model: Path,
    port: int | None = None,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    timeout: float = START_TIMEOUT,
) -> Iterator[RasaServer]:
    """`rasa run --enable-api` with `model`, once its model is loaded; stopped on exit.

    The server runs in a process group of its own, killed whole on exit (Rasa's Sanic
    may fork workers).
    """
    executable = rasa_executable()
    port = port or free_port(host)
    with tempfile.TemporaryDirectory(prefix="rasa-run-") as scratch:
        log = Path(scratch) / "run.log"
        command = [
            str(executable),
            "run",
            "--enable-api",
            "--interface",
            host,
            "--port",
            str(port),
            "--model",
            str(model),
        ]
        if token:
            command += ["--auth-token", token]
        started = time.monotonic()
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=scratch,
                env=rasa_environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        url = f"http://{host}:{port}"
        try:
            _wait_ready(process, url, token, log, started + timeout)
            yield RasaServer(url, token, process, log, time.monotonic() - started)
        finally:
            _stop(process)


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, token: str | None, log: Path, deadline: float
) -> None:
    """Until `/status` names the loaded model (the API answers before it is loaded)."""
    status = url + "/status" + (f"?token={token}" if token else "")
    while True:
        if process.poll() is not None:
            raise RasaFailedError(f"`rasa run` exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(status, timeout=2) as response:
                if json.loads(response.read()).get("model_file"):
                    return
        except (OSError, ValueError):  # not listening yet, or loading (409/503)
            pass
        if time.monotonic() > deadline:
            raise RasaFailedError(f"`rasa run` did not answer at {url} in time:\n{_tail(log)}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    # Rasa's children may outlive their parent's exit; the group goes with it.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])

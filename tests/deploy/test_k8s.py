"""deploy/k8s: valid for Kubernetes, and wired the way docs/deploy.md says it runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.errors import ConfigError
from app.web.setup_gate import setup_closed
from tests.deploy.project import (
    ALL_INTERFACES,
    DEPLOY,
    load_yaml,
    settings_env_names,
    settings_from,
    version,
)
from tests.deploy.test_dockerfile import env_of, final_stage, values

K8S = DEPLOY / "k8s"
# The oldest Kubernetes still commonly run, and the newest kubernetes-validate knows.
VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
PLACEHOLDER = "REPLACE_ME"


def documents(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs, f"{path.name} is empty"
    return docs


def one(kind: str) -> dict[str, Any]:
    found = [doc for path in MANIFESTS for doc in documents(path) if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def deployment() -> dict[str, Any]:
    return one("Deployment")


def pod() -> dict[str, Any]:
    spec = deployment()["spec"]["template"]["spec"]
    assert isinstance(spec, dict)
    return spec


def server() -> dict[str, Any]:
    (container,) = pod()["containers"]
    assert isinstance(container, dict)
    return container


def all_containers() -> list[dict[str, Any]]:
    return [*pod().get("initContainers", []), *pod()["containers"]]


def config() -> dict[str, str]:
    data = one("ConfigMap")["data"]
    assert isinstance(data, dict)
    return data


def secret_keys() -> tuple[set[str], set[str]]:
    """(keys the Secret template sets, keys it shows commented out as optional)."""
    path = K8S / "secret.example.yaml"
    present = set(load_yaml(path)["stringData"])
    optional = set(re.findall(r"^  # ([A-Za-z0-9_.-]+): ", path.read_text(), re.MULTILINE))
    return present, optional


def quantity(value: str | int) -> float:
    """A Kubernetes quantity as a number (cores or bytes), for the units these files use."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|)", str(value))
    assert match, value
    return float(match.group(1)) * units[match.group(2)]


def drain_seconds() -> float:
    return float(config()["BACKEND_REVIEW_DRAIN_SECONDS"])


@pytest.mark.parametrize("k8s_version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_for_kubernetes(path: Path, k8s_version: str) -> None:
    for doc in documents(path):
        # Strict: an unknown field (a typo) is an error, as `kubectl apply` would silently drop it.
        try:
            kubernetes_validate.validate(doc, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            # The exception's own text carries the whole schema; the place and reason suffice.
            where = "/".join(str(part) for part in exc.absolute_path)
            pytest.fail(f"{path.name} {doc['kind']} at {where}: {exc.message}", pytrace=False)


def test_strict_validation_rejects_a_misspelled_field() -> None:
    broken = load_yaml(K8S / "deployment.yaml")
    probe = broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["pat"] = probe["httpGet"].pop("path")
    with pytest.raises(kubernetes_validate.ValidationError, match="pat"):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_kustomization_applies_everything_but_the_secret_template() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    names = {p.name for p in MANIFESTS}
    assert set(kustomization["resources"]) == names - {"secret.example.yaml"}
    assert kustomization["namespace"] == one("Namespace")["metadata"]["name"]
    (image,) = kustomization["images"]
    assert {c["image"] for c in all_containers()} == {f"{image['name']}:{version()}"}
    assert image["newTag"] == version()


def test_scaled_out_with_a_budget_that_still_lets_nodes_drain() -> None:
    replicas = deployment()["spec"]["replicas"]
    assert replicas >= 2
    budget = one("PodDisruptionBudget")["spec"]
    assert 1 <= budget["minAvailable"] < replicas
    assert deployment()["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_selectors_match_the_pods() -> None:
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    selectors = [
        deployment()["spec"]["selector"]["matchLabels"],
        one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        one("Service")["spec"]["selector"],
    ]
    for selector in selectors:
        assert selector, selector
        assert selector.items() <= labels.items(), selector


def test_every_replica_serves_and_migrations_run_first() -> None:
    assert server()["command"] == ["backend-review", "serve"]
    (migrate,) = pod()["initContainers"]
    assert migrate["command"] == ["backend-review", "db", "upgrade"]
    assert migrate["image"] == server()["image"]


def test_probes_and_service_reach_the_port_the_app_listens_on() -> None:
    ports = {p["name"]: p["containerPort"] for p in server()["ports"]}
    assert ports == {"http": int(config()["BACKEND_REVIEW_PORT"])}
    assert config()["BACKEND_REVIEW_HOST"] == ALL_INTERFACES
    assert values(final_stage(), "EXPOSE") == [config()["BACKEND_REVIEW_PORT"]]
    paths = {}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = server()[probe]["httpGet"]
        assert get["port"] in ports, probe
        paths[probe] = get["path"]
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    (service_port,) = one("Service")["spec"]["ports"]
    assert service_port["targetPort"] in ports


def test_old_pods_stay_ready_while_the_new_one_starts_after_a_migration() -> None:
    # Their /readyz says "not migrated" once the new schema is in; see the comment in the file.
    readiness = server()["readinessProbe"]
    assert readiness["periodSeconds"] * readiness["failureThreshold"] >= 30


def test_termination_leaves_time_to_stop_routing_and_drain() -> None:
    pre_stop = server()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = pod()["terminationGracePeriodSeconds"]
    assert grace >= int(pre_stop[1]) + drain_seconds() + 10


def test_pods_run_unprivileged_on_a_read_only_root() -> None:
    context = pod()["securityContext"]
    assert context["runAsNonRoot"] is True
    (user,) = values(final_stage(), "USER")
    assert str(context["runAsUser"]) == user.partition(":")[0] != "0"
    assert context["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod()["automountServiceAccountToken"] is False
    empty_dirs = {v["name"] for v in pod()["volumes"] if "emptyDir" in v}
    for container in all_containers():
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, container["name"]
        assert sc["readOnlyRootFilesystem"] is True, container["name"]
        assert sc["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert sc.get("privileged") is not True, container["name"]
        tmp = [m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp, container["name"]
        assert tmp[0] in empty_dirs, container["name"]


def test_every_container_has_requests_within_limits() -> None:
    for container in all_containers():
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request = quantity(resources["requests"][kind])
            limit = quantity(resources["limits"][kind])
            assert 0 < request <= limit, (container["name"], kind)
    # An idle `serve` holds ~140 MB; a 5,000-file review peaks near 340 MB (docs/performance.md),
    # and BACKEND_REVIEW_WORKER_CONCURRENCY of them run at once per pod.
    limit = quantity(server()["resources"]["limits"]["memory"])
    workers = int(config()["BACKEND_REVIEW_WORKER_CONCURRENCY"])
    assert limit >= (140 + workers * 340) * 2**20


def test_every_variable_is_one_the_settings_read() -> None:
    assert set(config()) <= settings_env_names()
    for container in all_containers():
        names = {e["name"] for e in container.get("env", [])}
        assert names <= settings_env_names(), container["name"]
        for source in container.get("envFrom", []):
            assert source == {"configMapRef": {"name": one("ConfigMap")["metadata"]["name"]}}


def test_secret_references_name_keys_the_template_has() -> None:
    present, optional = secret_keys()
    name = one("Secret")["metadata"]["name"]
    for container in all_containers():
        for env in container.get("env", []):
            ref = env["valueFrom"]["secretKeyRef"]
            assert ref["name"] == name
            if ref.get("optional"):
                assert ref["key"] in present | optional, ref["key"]
            else:
                assert ref["key"] in present, ref["key"]
    (key_volume,) = [v for v in pod()["volumes"] if "secret" in v]
    assert key_volume["secret"]["secretName"] == name
    (item,) = key_volume["secret"]["items"]
    assert item["key"] in present
    (mount,) = [m for m in server()["volumeMounts"] if m["name"] == key_volume["name"]]
    assert config()["GITHUB_PRIVATE_KEY_PATH"] == f"{mount['mountPath']}/{item['path']}"
    # fsGroup owns the file; the mode must let that group read it, and no one else.
    assert key_volume["secret"]["defaultMode"] == 0o440


def test_the_secret_template_holds_placeholders_only() -> None:
    secret = one("Secret")
    assert "data" not in secret, "base64 `data` hides what it holds; the template uses stringData"
    for key, value in secret["stringData"].items():
        assert PLACEHOLDER in value, key
    present, optional = secret_keys()
    env_like = {k for k in present | optional if k.isupper()}
    assert env_like <= settings_env_names()


def test_the_app_comes_from_the_secret_since_one_click_cannot_keep_it_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """docs/deploy.md: one-click registration saves the App under the data directory, which no
    pod here keeps (read-only root, nothing mounted there, several replicas). So the App's id,
    webhook secret and key come from the Secret, required: a pod never starts offering a
    registration it could not save."""
    data_dir = Path(env_of(final_stage())["BACKEND_REVIEW_DATA_DIR"])
    assert "BACKEND_REVIEW_DATA_DIR" not in config()
    for container in all_containers():
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        for mount in container.get("volumeMounts", []):
            path = Path(mount["mountPath"])
            assert data_dir not in (path, *path.parents), container["name"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in server()["env"]}
    for name in ("GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET"):
        assert not refs[name].get("optional", False), name
    (key_volume,) = [v for v in pod()["volumes"] if "secret" in v]
    assert not key_volume["secret"].get("optional", False)

    key = tmp_path / "github-app.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n")
    filled = {"GITHUB_APP_ID": "1", "GITHUB_WEBHOOK_SECRET": "s" * 16}
    settings = settings_from(
        {**config(), **filled, "GITHUB_PRIVATE_KEY_PATH": str(key)}, monkeypatch
    )
    assert settings.missing_github_app() == []
    assert setup_closed(settings), "the home page offers no registration"


def test_the_placeholders_stop_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = one("Secret")["stringData"]
    env = {**config(), "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "key.pem")}
    (tmp_path / "key.pem").write_text(secret["github-app.pem"], encoding="utf-8")
    with pytest.raises(ConfigError, match="GITHUB_APP_ID"):
        settings_from({**env, "GITHUB_APP_ID": secret["GITHUB_APP_ID"]}, monkeypatch)
    settings = settings_from({**env, "GITHUB_APP_ID": "1"}, monkeypatch)
    # `serve` reads the key file before it listens (app/cli/main.py).
    with pytest.raises(ConfigError, match="GITHUB_PRIVATE_KEY_PATH"):
        settings.private_key_pem()


def test_the_config_map_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(config(), monkeypatch)
    assert settings.host == ALL_INTERFACES
    assert settings.drain_seconds == drain_seconds()

"""docker-compose.yml, docker-compose.scaled.yml and the Dockerfile, checked statically (no
Docker engine here)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import yaml

from bot.settings import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_services_depend_on_healthy_parts() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "rasa", "app"}
    assert services["app"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "rasa": {"condition": "service_healthy"},
    }
    for name in ("postgres", "rasa", "app"):
        assert "healthcheck" in services[name], name


def test_rasa_is_the_pinned_version_with_a_token() -> None:
    assert COMPOSE["services"]["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    command = COMPOSE["services"]["rasa"]["command"]
    assert "--auth-token" in command and "--enable-api" in command


def test_the_app_trains_into_the_models_rasa_loads() -> None:
    """PUT /model names a file: the app and Rasa must see the models at the same path."""
    app, rasa = COMPOSE["services"]["app"], COMPOSE["services"]["rasa"]
    models = app["environment"]["RASA_MODEL_DIR"]
    assert f"rasa-models:{models}" in app["volumes"]
    assert f"rasa-models:{models}:ro" in rasa["volumes"]
    assert rasa["command"][rasa["command"].index("--model") + 1] == models
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "RASA_EXECUTABLE=/opt/rasa/bin/rasa" in dockerfile
    assert "rasa_project/requirements.lock" in dockerfile


def test_rasa_can_import_the_pipelines_own_components() -> None:
    """A component named by module path in config.yml must be a file the Rasa service
    mounts under a folder on its PYTHONPATH."""
    rasa = COMPOSE["services"]["rasa"]
    config = yaml.safe_load((PROJECT_ROOT / "rasa_project" / "config.yml").read_text())
    own = [step["name"] for step in config["pipeline"] if "." in step["name"]]
    assert own, "the pipeline names its own component"
    for name in own:
        module = name.rsplit(".", 1)[0].replace(".", "/") + ".py"
        assert (PROJECT_ROOT / "rasa_project" / module).is_file(), name
        folder = module.split("/")[0]
        root = rasa["environment"]["PYTHONPATH"]
        assert f"./rasa_project/{folder}:{root}/{folder}:ro" in rasa["volumes"], name


def test_app_environment_names_real_settings() -> None:
    environment = COMPOSE["services"]["app"]["environment"]
    assert set(environment) <= {name.upper() for name in Settings.model_fields}
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_named_volumes_are_declared() -> None:
    assert _named_volumes(COMPOSE) == set(COMPOSE["volumes"])


def _named_volumes(compose: dict) -> set[str]:
    """The named volumes the services mount (not the files and folders of the clone)."""
    return {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }


def test_dockerfile_copies_what_exists() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", dockerfile, flags=re.MULTILINE):
        for source in line.split()[:-1]:
            assert (PROJECT_ROOT / source).exists(), source
    assert "requirements.lock" in dockerfile


def test_app_serves_the_web_app_with_a_health_check() -> None:
    app = COMPOSE["services"]["app"]
    assert "127.0.0.1:8000:8000" in app["ports"]
    assert any("/healthz" in part for part in app["healthcheck"]["test"])
    assert app["environment"]["SESSION_COOKIE_SECURE"] == "true"
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "wegwijs", "run"]' in dockerfile and "/healthz" in dockerfile


SCALED = yaml.safe_load((PROJECT_ROOT / "docker-compose.scaled.yml").read_text())


def test_the_scaled_stack_runs_two_bots_in_webhook_mode_behind_a_proxy() -> None:
    services = SCALED["services"]
    bot = services["bot"]
    assert bot["command"][-1] == "bot" and bot["deploy"]["replicas"] >= 2
    assert ":?" in bot["environment"]["TELEGRAM_WEBHOOK_URL"]  # polling bots would conflict
    assert ":?" in bot["environment"]["TELEGRAM_WEBHOOK_SECRET"]
    proxy = services["telegram-proxy"]
    config = _mounted_nginx_config(proxy)
    assert f"server bot:{bot['environment']['TELEGRAM_WEBHOOK_PORT']} resolve;" in config
    assert "location /telegram" in config
    assert services["app"]["command"][-1] == "web"  # the web app runs no third bot


def test_the_scaled_stack_loads_models_into_both_rasa_servers_behind_a_proxy() -> None:
    services = SCALED["services"]
    replicas = json.loads(services["app"]["environment"]["RASA_REPLICA_URLS"])
    names = [urlparse(url).hostname for url in replicas]
    assert names == ["rasa-1", "rasa-2"]
    config = _mounted_nginx_config(services["rasa"])
    for url in replicas:
        assert f"server {urlparse(url).netloc} " in config
        assert services[urlparse(url).hostname]["image"] == "rasa/rasa:3.6.21-full"
    assert "proxy_next_upstream error timeout" in config
    assert services["app"]["environment"]["RASA_URL"] == "http://rasa:5005"


def test_the_scaled_stack_names_real_settings_and_declared_volumes() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    for name in ("app", "bot"):
        assert set(SCALED["services"][name]["environment"]) <= settings, name
    assert _named_volumes(SCALED) == set(SCALED["volumes"])


def _mounted_nginx_config(service: dict) -> str:
    (mount,) = [v for v in service["volumes"] if v.endswith("/etc/nginx/conf.d/default.conf:ro")]
    return (PROJECT_ROOT / mount.split(":")[0]).read_text()

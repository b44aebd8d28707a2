"""The production-like stack in compose/ and the environment it documents. Docker is not needed:
these read the files and check the promises docs/operations.md makes about them."""

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"

DJANGO_SERVICES = ("web", "worker", "beat")
REQUIRED_SERVICES = ("web", "worker", "beat", "postgres", "redis", "prometheus", "grafana")
MAIL_CATCHERS = ("mailpit", "mailcatcher")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _as_text(command: Any) -> str:
    return " ".join(command) if isinstance(command, list) else str(command or "")


def _is_one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "")) == "no"


def _long_running(services: dict[str, Any]) -> dict[str, Any]:
    return {name: svc for name, svc in services.items() if not _is_one_shot(svc)}


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):  # short form: no condition
        return {name: {} for name in deps}
    return deps


def _host_path(service: dict[str, Any], container_path: str) -> Path:
    """The compose/-relative host path bind-mounted at `container_path` in `service`."""
    for volume in service.get("volumes", []):
        source, target, *_mode = volume.split(":")
        if target == container_path and source.startswith("."):
            return (COMPOSE_DIR / source).resolve()
    raise AssertionError(f"nothing from compose/ is mounted at {container_path}")


# --- Services ---------------------------------------------------------------------------------


def test_stack_has_every_service_the_design_names(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"compose/docker-compose.yml lacks {missing}"
    assert any(name in services for name in MAIL_CATCHERS), "no mail catcher (mailpit) in the stack"


def test_every_long_running_service_has_a_healthcheck(services):
    long_running = _long_running(services)
    assert set(REQUIRED_SERVICES) <= set(long_running)
    for name, service in long_running.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        test = check.get("test")
        assert test, f"{name}'s healthcheck has no test command"
        if isinstance(test, list):
            assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: malformed healthcheck {test}"
            assert len(test) > 1, f"{name}: healthcheck {test} has no command"


def test_healthchecks_probe_what_each_service_does(services):
    assert "/healthz" in _as_text(services["web"]["healthcheck"]["test"])
    assert "pg_isready" in _as_text(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in _as_text(services["redis"]["healthcheck"]["test"])
    worker_check = _as_text(services["worker"]["healthcheck"]["test"])
    assert "inspect ping" in worker_check
    assert "celery@$$HOSTNAME" in worker_check
    assert "/-/healthy" in _as_text(services["prometheus"]["healthcheck"]["test"])
    assert "/api/health" in _as_text(services["grafana"]["healthcheck"]["test"])


def test_web_waits_for_a_healthy_database_and_redis(services):
    deps = _depends_on(services["web"])
    for dependency in ("postgres", "redis"):
        assert deps.get(dependency, {}).get("condition") == "service_healthy", f"web must wait for {dependency}"


def test_migrations_run_once_before_web_worker_and_beat(services):
    one_shots = {name: svc for name, svc in services.items() if _is_one_shot(svc)}
    migrators = [name for name, svc in one_shots.items() if "manage.py migrate" in _as_text(svc.get("command"))]
    assert migrators, "no one-shot service runs manage.py migrate"
    migrator = migrators[0]
    assert _depends_on(services[migrator])["postgres"]["condition"] == "service_healthy"
    for name in DJANGO_SERVICES:
        assert _depends_on(services[name]).get(migrator, {}).get("condition") == "service_completed_successfully"


def test_processes_are_granian_a_celery_worker_and_one_database_scheduled_beat(services):
    web = _as_text(services["web"]["command"])
    assert "granian" in web
    # ASGI: the click edge in front of Django (config/asgi.py), bounded, pooled.
    assert "--interface asgi" in web
    assert "config.asgi:application" in web
    assert "--workers" in web
    assert "--backpressure" in web
    assert services["web"]["environment"]["DATABASE_POOL"] == "true"
    assert "celery -A config worker" in _as_text(services["worker"]["command"])
    beat = services["beat"]
    assert "celery -A config beat" in _as_text(beat["command"])
    assert "DatabaseScheduler" in _as_text(beat["command"])
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_django_services_run_production_settings(services):
    for name in (*DJANGO_SERVICES, "migrate"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        assert "@postgres:5432/" in env["DATABASE_URL"], name


def test_the_application_connects_with_a_role_that_owns_no_tables(services):
    app_user = services["web"]["environment"]["DATABASE_URL"].split("://", 1)[1].split(":", 1)[0]
    owner_user = services["migrate"]["environment"]["DATABASE_URL"].split("://", 1)[1].split(":", 1)[0]
    assert app_user != owner_user
    init_sql = "\n".join(path.read_text() for path in (COMPOSE_DIR / "postgres" / "initdb").glob("*.sh"))
    assert f"CREATE ROLE {app_user}" in init_sql
    assert "TRUNCATE" not in init_sql.split("<<'SQL'", 1)[1], "the app role must not be granted TRUNCATE"


def test_every_compose_variable_is_documented_in_the_compose_env_example():
    text = COMPOSE_FILE.read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    listed = _listed_variables(COMPOSE_DIR / ".env.example")
    assert {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "METRICS_TOKEN"} <= required, "secrets must be required"
    assert used <= listed, f"compose/.env.example does not list {sorted(used - listed)}"


# --- Prometheus and Grafana -------------------------------------------------------------------


def test_prometheus_scrapes_web_metrics_with_the_bearer_token(services):
    config_path = _host_path(services["prometheus"], "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load(config_path.read_text())
    web_jobs = [
        job
        for job in config["scrape_configs"]
        if any("web:8000" in target for static in job.get("static_configs", []) for target in static["targets"])
    ]
    assert web_jobs, "no scrape job targets web:8000"
    job = web_jobs[0]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    auth = job.get("authorization", {})
    assert auth.get("type", "Bearer") == "Bearer"
    assert auth.get("credentials_file") or auth.get("credentials"), "the /metrics scrape needs METRICS_TOKEN"
    # The file the config reads is the one the container's entrypoint writes from METRICS_TOKEN.
    if auth.get("credentials_file"):
        assert auth["credentials_file"] in _as_text(services["prometheus"].get("entrypoint"))


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboard(services):
    grafana = services["grafana"]
    provisioning = _host_path(grafana, "/etc/grafana/provisioning")
    assert (provisioning / "datasources").is_dir()
    assert (provisioning / "dashboards").is_dir()

    datasources = [
        ds
        for path in (provisioning / "datasources").glob("*.y*ml")
        for ds in yaml.safe_load(path.read_text())["datasources"]
    ]
    prometheus = [ds for ds in datasources if ds["type"] == "prometheus"]
    assert prometheus
    assert prometheus[0]["url"] == "http://prometheus:9090"

    providers = [
        provider
        for path in (provisioning / "dashboards").glob("*.y*ml")
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert providers
    dashboards_dir = _host_path(grafana, providers[0]["options"]["path"])
    dashboards = sorted(dashboards_dir.glob("*.json"))
    assert dashboards, f"no dashboard JSON in {dashboards_dir}"
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["title"]
        assert dashboard["panels"]


def test_dashboard_shows_traffic_latency_errors_celery_and_database():
    dashboard = json.loads((COMPOSE_DIR / "grafana" / "dashboards" / "mgm-overview.json").read_text())
    expressions = " ".join(
        target["expr"] for panel in dashboard["panels"] if panel["type"] != "row" for target in panel["targets"]
    )
    for metric in (
        "django_http_requests_total_by_view_transport_method_total",
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_http_responses_total_by_status_total",
        "celery_task_failed_total",
        "celery_queue_length",
        "pg_stat_activity_count",
    ):
        assert metric in expressions, f"the dashboard does not chart {metric}"
    assert "histogram_quantile(0.95" in expressions
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "prometheus", panel["title"]


# --- The image --------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (COMPOSE_DIR / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    instructions = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _sep, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_builds_from_python_312_slim_with_hashed_requirements():
    instructions = _dockerfile_instructions()
    assert instructions[0][0] == "FROM"
    assert instructions[0][1].startswith("python:3.12-slim")
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert re.search(r"pip install [^&]*--require-hashes[^&]*-r \S*base\.lock", runs)
    assert "manage.py compile_translations" in runs
    assert "manage.py collectstatic" in runs


def test_dockerfile_does_not_run_as_root():
    users = [rest for keyword, rest in _dockerfile_instructions() if keyword == "USER"]
    assert users, "the image must switch to an unprivileged user"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}


def test_build_context_keeps_secrets_and_local_state_out():
    ignored = set((COMPOSE_DIR / "Dockerfile.dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "var"} <= ignored


# --- .env.example -----------------------------------------------------------------------------

ENV_METHODS = {"bool", "int", "list", "float", "path", "db", "str", "json", "url", "dict", "tuple", "cache", "email"}


def _settings_variables() -> set[str]:
    """Every variable name passed to `env(...)` or `env.<method>(...)` in config/settings/*.py."""
    names: set[str] = set()
    for path in sorted((ROOT / "config" / "settings").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
                and func.attr in ENV_METHODS
            )
            first = node.args[0]
            if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _listed_variables(path: Path) -> set[str]:
    """`NAME=` lines, set or commented out (`# NAME=default` documents an optional one)."""
    pattern = re.compile(r"^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(path.read_text()))


def test_settings_reader_finds_the_variables_we_know_about():
    found = _settings_variables()
    # Guards the parser itself: single-line, multi-line and typed calls are all seen.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "DJANGO_DEBUG", "MEDIA_ROOT"} <= found


def test_env_example_lists_every_variable_the_settings_read():
    missing = _settings_variables() - _listed_variables(ROOT / ".env.example")
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_explains_every_variable_right_above_it():
    lines = (ROOT / ".env.example").read_text().splitlines()
    assignment = re.compile(r"^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=")
    read_by_settings = _settings_variables()
    for index, line in enumerate(lines):
        match = assignment.match(line)
        if not match or match.group(1) not in read_by_settings:
            continue
        above = lines[index - 1] if index else ""
        message = f"{match.group(1)} needs a comment line right above it saying what it is and its default"
        assert above.lstrip().startswith("#"), message
        assert not assignment.match(above), message


def test_every_celery_queue_has_a_worker_of_its_own(services):
    """A report export or a reconciliation must never wait in front of an order (decision 0043):
    each queue the settings define is consumed by a worker started with -Q for it, and hook
    processing has its own."""

    consumed: dict[str, str] = {}
    for name, service in services.items():
        command = service.get("command")
        if not isinstance(command, list) or "worker" not in command or "-Q" not in command:
            continue
        for queue in command[command.index("-Q") + 1].split(","):
            consumed[queue] = name
    queues = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert queues == {"default", "hooks", "orders", "reports"}
    assert queues <= set(consumed), f"no worker consumes {sorted(queues - set(consumed))}"
    assert consumed["hooks"] != consumed["reports"] != consumed["default"]
    assert settings.CELERY_TASK_ROUTES["orders.tasks.hook_events_process_task"]["queue"] == "hooks"
    assert settings.CELERY_TASK_ROUTES["reports.tasks.*"]["queue"] == "reports"


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("orders.tasks.hook_events_process_task", "hooks"),
        ("orders.tasks.order_sync_task", "hooks"),
        ("orders.tasks.reconcile_brand_task", "orders"),
        ("reports.tasks.export_job_run_task", "reports"),
        ("integrations.tasks.send_email_task", "default"),
    ],
)
def test_tasks_are_routed_to_their_workloads_queue(task, queue):
    routed = app.amqp.router.route({}, task, args=(), kwargs={})
    assert routed["queue"].name == queue

"""Settings come from the environment; production-like values pass `check --deploy`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-enough-entropy-9f8e7d",
    "FIELD_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
    "ALLOWED_HOSTS": "dashboard.example.com",
    "HTTPS": "true",
    "READ_DOT_ENV": "false",
}


def _env(**overrides: str) -> dict[str, str]:
    # A clean slate: nothing from the test run's own environment (e.g. the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE) may leak into what "production" looks like.
    leaks = {"HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER"}
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in leaks}
    base.update(PRODUCTION)
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _settings(*names: str, **env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="dashboard.settings", **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_it_passes_check_deploy_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _production_example() -> dict[str, str]:
    """What docker-compose.yml's `web` runs with: .env.example copied to `.env` with what it
    asks for filled in, under the compose file's own environment for `web`."""
    import re

    import yaml

    dotenv = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    dotenv.update(
        SECRET_KEY=PRODUCTION["SECRET_KEY"],
        FIELD_ENCRYPTION_KEYS=PRODUCTION["FIELD_ENCRYPTION_KEYS"],
        DOMAIN="dashboard.example.com",
        POSTGRES_PASSWORD="a-database-password",
    )
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    compose = {
        name: re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: dotenv[m.group(1)], str(value))
        for name, value in web["environment"].items()
    }
    return {**dotenv, **compose}


def test_it_passes_check_deploy_with_the_production_example():
    """.env.example and the compose file as shipped: https on (`HTTPS=` is blank there, which
    means its default), behind the proxy, on PostgreSQL and Redis."""
    example = _production_example()
    assert example["HTTPS"] == ""
    assert example["USE_X_FORWARDED_PROTO"] == "true"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(**example),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    s = _settings("HTTPS", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS", **example)
    assert s == {"HTTPS": True, "SESSION_COOKIE_SECURE": True, "SECURE_HSTS_SECONDS": 31536000}


def test_it_keeps_debug_off_unless_set():
    env = _env()
    env.pop("DEBUG")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().endswith("False")


def test_it_refuses_to_start_without_a_secret_key_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(SECRET_KEY=""),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_defaults_to_embedded_sqlite_and_an_sqlite_broker(tmp_path):
    s = _settings("DATABASES", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", VAR_DIR=str(tmp_path))
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["DATABASES"]["default"]["NAME"].endswith("db.sqlite3")
    assert s["CELERY_BROKER_URL"].startswith("sqla+sqlite:///")
    assert s["CELERY_RESULT_BACKEND"].startswith("db+sqlite:///")


def test_it_switches_to_postgresql_and_redis_from_the_environment():
    s = _settings(
        "DATABASES",
        "CELERY_BROKER_URL",
        DATABASE_URL="postgres://u:p@db.internal:5432/dash",
        CELERY_BROKER_URL="redis://redis:6379/0",
    )
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["NAME"], db["USER"]) == ("db.internal", "dash", "u")
    assert s["CELERY_BROKER_URL"] == "redis://redis:6379/0"


def test_it_documents_every_setting_in_env_example_and_the_readme():
    settings_src = (ROOT / "dashboard" / "settings.py").read_text()
    import re

    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_src))
    names |= set(
        re.findall(
            r'env\.(?:str|bool|int|float|list|db_url|cache_url)\(\s*"([A-Z_]+)"', settings_src
        )
    )
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert names, "found no settings"
    for name in sorted(names):
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from .env.example"
        assert f"`{name}`" in readme, f"{name} missing from the README table"

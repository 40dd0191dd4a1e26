"""docker-compose.yml holds behind its proxy: only Caddy is published, and only the service it
fronts trusts the forwarded headers. (Docker can't run here; `docker compose config` accepts the
file, and this reads what it says.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "docker-compose.yml").read_text()
PROXY_TRUST = {"USE_X_FORWARDED_PROTO", "TRUSTED_PROXY_COUNT"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(TEXT)["services"]


def _published(service: dict) -> list[tuple[str, int]]:
    """(host address, host port) of every published port; "" is every interface."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.append((port.get("host_ip", ""), int(port["published"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 1:  # "8000": a random host port, on every interface
            out.append(("", 0))
        else:
            out.append((":".join(parts[:-2]), int(parts[-2])))
    return out


def _caddyfile() -> str:
    return yaml.safe_load(TEXT)["configs"]["caddyfile"]["content"]


def test_it_publishes_only_the_proxy_on_80_and_443(services):
    published = {name: _published(s) for name, s in services.items() if _published(s)}
    assert set(published) == {"caddy"}
    assert {port for _, port in published["caddy"]} == {80, 443}


def test_web_publishes_no_port_and_is_reached_only_through_the_proxy(services):
    web = services["web"]
    assert "ports" not in web
    assert "network_mode" not in web  # host networking would put 8000 on every interface
    assert "--bind 0.0.0.0:8000" in " ".join(web["command"])  # the compose network's address
    assert re.search(r"^\s*reverse_proxy web:8000\s*$", _caddyfile(), re.M)
    assert services["caddy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_only_the_service_behind_the_proxy_trusts_forwarded_headers(services):
    def env(name: str) -> dict:
        return services[name].get("environment") or {}

    trusting = {name for name in services if PROXY_TRUST & set(env(name))}
    assert trusting == {"web"}
    assert env("web")["USE_X_FORWARDED_PROTO"] == "true"
    assert env("web")["TRUSTED_PROXY_COUNT"] == "1"  # Caddy, and nothing else in front
    assert not PROXY_TRUST & set(yaml.safe_load(TEXT)["x-app-env"])


def test_caddy_serves_the_domain_and_keeps_its_certificates(services):
    site = _caddyfile().strip().splitlines()[0]
    assert site.startswith("${DOMAIN:?")
    assert services["web"]["environment"]["ALLOWED_HOSTS"].startswith("${DOMAIN:?")
    volumes = {v.split(":")[1]: v.split(":")[0] for v in services["caddy"]["volumes"]}
    assert volumes["/data"] in yaml.safe_load(TEXT)["volumes"]  # named: survives a re-create


def test_every_variable_the_compose_file_reads_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"\$\{([A-Z_]+)", TEXT))
    assert {"DOMAIN", "POSTGRES_PASSWORD"} <= names
    for name in sorted(names):
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from .env.example"

"""Shared fixtures: users per role, signed-in clients, and the in-process simulator."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from orgadmin.access import Role
from orgadmin.client import install_transport
from tests.factories import OrganizationFactory, UserFactory

SIM_BASE_URL = "http://simulator.test/v1"
SIM_ADMIN_KEY = "sk-admin-simulator-test-key-000000000000wxyz"
# The simulator's clock for the whole session: the start of the current hour, so pages that
# say "last 30 days" and the simulator agree, and every test in a run sees the same data.
SIM_NOW = float(int(time.time()) // 3600 * 3600)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# Hypothesis: requests take a while (no deadline), and no example database in the work tree.
# `HYPOTHESIS_PROFILE=ci` is the service tier's, with more examples (see tests/fuzzstats.py).
# `dev` (make test) draws the same examples every run; `ci` draws new ones each time.
hypothesis_settings.register_profile(
    "dev",
    deadline=None,
    database=None,
    print_blob=True,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "ci", parent=hypothesis_settings.get_profile("dev"), derandomize=False
)
hypothesis_settings.register_profile(  # while working on a failure: report it at once
    "noshrink",
    parent=hypothesis_settings.get_profile("dev"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# What makes a test need a service: PostgreSQL (any database use), Redis or Chromium (marked).
_DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--service-tier",
        action="store_true",
        help="run only the tests that need a service (a database, Redis or Chromium): the ones "
        "whose result can differ from `make test`'s (SQLite, no Chromium); .ci/run uses it",
    )


def _needs_a_service(item) -> bool:
    """Also keeps the property-based tests: the service tier draws new examples for them
    (HYPOTHESIS_PROFILE=ci), where `make test` draws the same ones every run."""
    return (
        getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        or item.get_closest_marker("services") is not None
        or item.get_closest_marker("django_db") is not None
        or bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))
    )


def pytest_collection_modifyitems(config, items) -> None:
    """Under --service-tier, leave out the tests that touch no service: they ran in `make test`
    with the same result (pure functions, the simulator on its own, the spec's examples)."""
    if not config.getoption("--service-tier"):
        return
    keep = [item for item in items if _needs_a_service(item)]
    config.hook.pytest_deselected(items=[item for item in items if not _needs_a_service(item)])
    items[:] = keep


def pytest_sessionfinish(session) -> None:
    """Under pytest-xdist (`-n`), each worker hands its figures to the controller, which adds them
    up in pytest_testnodedown for the summary below."""
    from tests import fuzzstats

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["fuzzstats"] = fuzzstats.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    from tests import fuzzstats

    fuzzstats.load(getattr(node, "workeroutput", {}).get("fuzzstats"))


def pytest_terminal_summary(terminalreporter) -> None:
    """The figures the robustness issue asks for: fuzz examples run, access-matrix cells."""
    from tests import fuzzstats

    if fuzzstats.ran:
        total = sum(fuzzstats.ran.values())
        terminalreporter.write_line(
            f"fuzz: {total} examples over {len(fuzzstats.ran)} URLs (profile {fuzzstats.PROFILE})"
        )
    if fuzzstats.matrix_cells:
        terminalreporter.write_line(f"access matrix: {fuzzstats.matrix_cells} cells answered")


def need_service(available: bool, why: str) -> None:
    """Skip a test whose service is missing, or fail it when CI requires the services."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {why}")
    pytest.skip(why)


def only_in_the_service_tier() -> None:
    """Skip a slow service test (minutes) unless the service tier runs (REQUIRE_SERVICES=1, as in
    .ci/run and `make services-test`), so that `make test` stays fast where services are up."""
    if not REQUIRE_SERVICES:
        pytest.skip("slow: runs in the service tier (REQUIRE_SERVICES=1, make services-test)")


def chromium_path() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Serve static files from the source folders (production serves hashed, collected ones), and
    hash test passwords fast."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with empty caches: the site-wide sign-in count lives there, and one
    test's sign-ins must not spend the next one's minute; and one test's pages (dashboard/
    page_cache.py) must not be served to the next, whose rows may have the same ids."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()


# --- people --------------------------------------------------------------------


@pytest.fixture
def admin(db):
    return UserFactory(username="alice-admin", role=Role.ADMIN)


@pytest.fixture
def finance(db):
    return UserFactory(username="fred-finance", role=Role.FINANCE)


@pytest.fixture
def auditor(db):
    return UserFactory(username="audrey-auditor", role=Role.AUDITOR)


@pytest.fixture
def nobody(db):
    """Signed in, but with no role at all."""
    return UserFactory(username="nora-norole")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def sign_in_record(user) -> dict:
    """The session entries allauth keeps for a password sign-in a moment ago: the step-up
    (orgadmin.accounts.stepup) counts it as a recent re-authentication."""
    import time

    from allauth.account.internal.flows import login

    return {
        login.AUTHENTICATION_METHODS_SESSION_KEY: [
            {"method": "password", "at": time.time(), "username": user.get_username()}
        ],
        login._AUTHENTICATION_METHODS_USER_SESSION_KEY: str(user.pk),
    }


def signed_in_just_now(client: Client, user) -> None:
    """Record in the client's session a password sign-in a moment ago, as a real one would."""
    session = client.session
    session.update(sign_in_record(user))
    session.save()


@pytest.fixture
def client_as(db) -> Callable[..., Client]:
    """`client_as(user)` returns a test client signed in as that user, a moment ago."""

    def make(user, **kwargs) -> Client:
        c = Client(**kwargs)
        c.force_login(user)
        signed_in_just_now(c, user)
        return c

    return make


# --- the simulator --------------------------------------------------------------


@pytest.fixture
def simulator():
    """A fresh demo-scenario simulator, mounted in-process for SIM_BASE_URL."""
    from orgadmin.simulator import create_app

    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=lambda: SIM_NOW)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


XAI_BASE_URL = "http://xai-simulator.test"


@pytest.fixture
def xai_simulator():
    """A fresh demo-scenario xAI simulator, mounted in-process for XAI_BASE_URL, whose test
    management key may do everything."""
    from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY, create_app

    app = create_app(
        scenario="demo", seed=0, management_keys=[TEST_MANAGEMENT_KEY], now=lambda: SIM_NOW
    )
    with install_transport(XAI_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def team(db, xai_simulator):
    """A connection to the in-process xAI simulator's demo team."""
    from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY

    return OrganizationFactory(
        name="Grok team (simulator)",
        provider="xai",
        base_url=XAI_BASE_URL,
        admin_key=TEST_MANAGEMENT_KEY,
        account_id=xai_simulator.team_id,
    )


class Clock:
    """One clock for the dashboard (`timezone.now`) and a simulator (`now=`), moved by hand."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self) -> float:
        return self.seconds

    def datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.seconds, dt.UTC)

    def advance(self, **delta: float) -> None:
        self.seconds += dt.timedelta(**delta).total_seconds()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Half past the simulator's hour; `clock.advance(hours=8)` moves both sides together."""
    from django.utils import timezone

    moving = Clock(SIM_NOW + 1800)
    monkeypatch.setattr(timezone, "now", moving.datetime)
    return moving


@pytest.fixture
def org(db, simulator) -> Iterator:
    """A verified connection to the in-process simulator."""
    return OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )

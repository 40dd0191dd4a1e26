"""The admin key is a master key: never in a response, the database in clear, a URL or a log."""

from __future__ import annotations

import logging
import re
import sys

import pytest
from django.db import connection
from django.urls import reverse
from django.views.debug import ExceptionReporter

from orgadmin.services import connections as connection_services
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.test_access_matrix import (
    ACCESS,
    AUDIT_SAMPLES,
    DIRECTORY_SAMPLES,
    _kwargs_for,
    url_patterns,
)

SECRET_PARTS = [SIM_ADMIN_KEY, SIM_ADMIN_KEY[9:], SIM_ADMIN_KEY[-20:]]


def _assert_no_key(text: str, where: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"the admin key leaked into {where}"


@pytest.fixture
def added(client_as, superuser, simulator):
    """A connection added through the form, as a person would."""
    c = client_as(superuser)
    response = c.post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY},
    )
    _assert_no_key(response.content.decode() + response.get("Location", ""), "the add response")
    return c


def test_it_never_stores_the_key_in_clear(added):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM orgadmin_organization")
        rows = cursor.fetchall()
    assert rows
    _assert_no_key(repr(rows), "the organization table")


def test_it_never_renders_the_key_on_any_page(added):
    from orgadmin.models import Organization

    samples = {
        "pk": Organization.objects.get().pk,
        "fmt": "csv",
        **DIRECTORY_SAMPLES,
        **AUDIT_SAMPLES,
    }
    for name, pattern in url_patterns().items():
        if "GET" not in ACCESS[name].methods:
            continue
        url = reverse(name, kwargs=_kwargs_for(pattern, samples))
        for headers in ({}, {"HX-Request": "true"}):
            response = added.get(url, headers=headers)
            body = b"".join(response) if response.streaming else response.content
            _assert_no_key(body.decode(errors="replace"), f"GET {url}")
            _assert_no_key(response.get("Location", ""), f"the redirect from {url}")


def test_it_never_puts_the_key_in_a_link_or_form_action(added):
    page = added.get(reverse("orgadmin:connections")).content.decode()
    for url in re.findall(r'(?:href|action|hx-\w+)="([^"]*)"', page):
        _assert_no_key(url, "a URL on the page")
    # The key is only ever accepted in a POST body: a GET with it in the query creates nothing.
    from orgadmin.models import Organization

    added.get(reverse("orgadmin:connections"), {"name": "X", "admin_key": SIM_ADMIN_KEY})
    assert Organization.objects.count() == 1


def test_it_never_writes_the_key_to_any_log(client_as, superuser, simulator, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level, including the SDK's and httpx's
    c = client_as(superuser)
    c.post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY},
    )
    c.post(
        reverse("orgadmin:connections"),
        {"name": "Bad", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY + "x"},
    )
    from orgadmin.models import Organization

    c.post(reverse("orgadmin:connection_verify", args=[Organization.objects.get().pk]))
    assert caplog.records, "expected the SDK and httpx to log at DEBUG"
    for record in caplog.records:
        _assert_no_key(record.getMessage(), f"the log record of {record.name}")
        _assert_no_key(repr(record.args), f"the log arguments of {record.name}")


def test_it_keeps_the_key_out_of_exception_reports(rf, superuser, monkeypatch):
    """A crash while adding a connection produces a report without the posted key."""
    from orgadmin.views.connections import connections
    from tests.conftest import sign_in_record

    def explode(org, **kwargs):
        raise RuntimeError("the SDK blew up")

    monkeypatch.setattr(connection_services, "admin_client", explode)
    request = rf.post(
        "/connections/", {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY}
    )
    request.user = superuser
    request.htmx = False
    request.session = sign_in_record(superuser)  # signed in just now: no step-up first
    try:
        connections(request)
    except RuntimeError:
        report = ExceptionReporter(request, *sys.exc_info(), is_email=True)
    else:
        pytest.fail("expected the crash")
    assert "the SDK blew up" in report.get_traceback_text()
    _assert_no_key(report.get_traceback_text(), "the exception report (text)")
    _assert_no_key(report.get_traceback_html(), "the exception report (html)")


def test_it_redacts_keys_in_our_log_output():
    from orgadmin.logging import RedactingFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key=%s", (SIM_ADMIN_KEY,), None)
    line = RedactingFormatter().format(record)
    assert SIM_ADMIN_KEY not in line
    assert "key=[redacted key]" in line


@pytest.fixture
def every_logger_at_debug(caplog):
    """Every logger that exists (the SDK's, httpx's, Django's, ours) at DEBUG into caplog, also
    those the settings quiet down or that don't propagate; and SQL statements logged too."""
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict)]
    loggers = [lg for lg in loggers if isinstance(lg, logging.Logger)]
    for name in ("openai", "openai._base_client", "httpx", "httpcore", "celery", "orgadmin"):
        loggers.append(logging.getLogger(name))
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate:
            lg.addHandler(caplog.handler)
    connection.force_debug_cursor = True
    try:
        yield caplog
    finally:
        connection.force_debug_cursor = False
        for lg, level, _propagate, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            if caplog.handler in lg.handlers:
                lg.removeHandler(caplog.handler)


def test_it_never_logs_the_key_while_syncing_or_failing(
    every_logger_at_debug, client_as, superuser, simulator
):
    """Adding, verifying, a refused key, every sync (with API faults on the way) and the pages:
    not one log record, at any level from any logger, holds the key."""
    import datetime as dt

    from dashboard.sync.usage import usage_sync
    from orgadmin.models import Organization
    from orgadmin.simulator import FaultConfig
    from orgadmin.sync.audit import audit_log_sync
    from orgadmin.sync.directory import directory_sync
    from tests.conftest import SIM_NOW

    c = client_as(superuser)
    c.post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": SIM_ADMIN_KEY},
    )
    c.post(
        reverse("orgadmin:connections"),
        {"name": "Bad", "base_url": SIM_BASE_URL, "admin_key": "sk-admin-refused-0000000000000"},
    )
    org = Organization.objects.get()
    simulator.faults = FaultConfig(script=["500", "429", "ok", "502"], retry_after=0)
    directory_sync(org=org)
    end = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)
    usage_sync(org=org, start=end - dt.timedelta(days=2), end=end, families=["completions"])
    audit_log_sync(org=org)
    for name in ("orgadmin:members", "orgadmin:admin_keys", "orgadmin:connections", "costs"):
        c.get(reverse(name))
    records = every_logger_at_debug.records
    assert sum(simulator.fault_counts.values()) == 3  # "ok" is no fault
    assert any(r.name.startswith("openai") for r in records), "the SDK's debug log wasn't seen"
    assert any(r.name.startswith("django.db") for r in records), "SQL wasn't logged"
    for record in records:
        text = record.getMessage() + repr(record.args) + repr(getattr(record, "sql", ""))
        _assert_no_key(text, f"the log record of {record.name}")
        if record.exc_info:
            _assert_no_key(logging.Formatter().formatException(record.exc_info), record.name)

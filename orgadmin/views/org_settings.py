"""Organization settings (certificates, spend, data retention), and the spend alerts and hard
limits of both the organization and its projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.forms import (
    CertificateRenameForm,
    CertificateToggleForm,
    CertificateUploadForm,
    RetentionForm,
    SpendAlertForm,
    SpendLimitForm,
    org_certificate_choices,
)
from orgadmin.models import Certificate, OrgSettings, Project, SpendAlert
from orgadmin.selectors.spend import spend_gauge
from orgadmin.services import org_settings as services
from orgadmin.views.common import (
    Card,
    attempt,
    base_context,
    card_result,
    first_error,
    fragment,
    inline_result,
    succeeded,
    with_org,
)
from orgadmin.views.projects import get_project_or_404, project_card

TABS: list[tuple[str, str]] = [
    ("certificates", "Certificates"),
    ("spend", "Spend"),
    ("retention", "Data retention"),
]


def _certificates_tab(request: HttpRequest, settings: OrgSettings) -> dict[str, Any]:
    return {"certificates": selectors.certificates_list(org=request.org)}


def _spend_tab(request: HttpRequest, settings: OrgSettings) -> dict[str, Any]:
    alerts = list(selectors.spend_alerts(org=request.org))
    return {
        "alerts": alerts,
        "gauge": spend_gauge(
            org=request.org, limit_cents=settings.spend_limit_cents, alerts=alerts
        ),
        "alert_form": SpendAlertForm(),
        "limit_form": SpendLimitForm(),
    }


SHARED = "orgadmin/_spend.html"


def _retention_tab(request: HttpRequest, settings: OrgSettings) -> dict[str, Any]:
    initial = {"retention_type": settings.data_retention} if settings.data_retention else {}
    return {"retention_form": RetentionForm(initial=initial, project=False)}


# Each tab's context, from the request and the organization's settings (read once per page).
TAB_CONTEXT: dict[str, Callable[[HttpRequest, OrgSettings], dict[str, Any]]] = {
    "certificates": _certificates_tab,
    "spend": _spend_tab,
    "retention": _retention_tab,
}


def settings_page(
    request: HttpRequest,
    tab: str,
    *,
    part: str = "",
    template: str = "orgadmin/org_settings.html",
    **extra: Any,
) -> HttpResponse:
    """The settings page on one tab; `part` renders only that part of it (of `template`, for
    the parts the project and organization pages share)."""
    settings = selectors.org_settings(org=request.org)
    context = {
        **base_context(request),
        "settings": settings,
        "limit_holder": settings,
        "tab": tab,
        "tabs": TABS,
        "scope": None,
        **TAB_CONTEXT[tab](request, settings),
        **extra,
    }
    return render(request, fragment(request, template, part or "settings-live"), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def org_settings(request: HttpRequest) -> HttpResponse:
    return settings_page(request, "certificates")


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def org_settings_tab(request: HttpRequest, tab: str) -> HttpResponse:
    if tab not in TAB_CONTEXT or tab == "certificates":
        raise Http404("No such tab.")
    return settings_page(request, tab)


def settings_card(
    request: HttpRequest, tab: str, part: str, *, template: str = "orgadmin/org_settings.html"
) -> Card:
    """A card of a settings tab (not the first: its URL is the page's own)."""
    return Card(
        render=lambda **extra: settings_page(request, tab, part=part, template=template, **extra),
        url=reverse("orgadmin:org_settings_tab", kwargs={"tab": tab}),
    )


# --- certificates -------------------------------------------------------------------------------


def _get_certificate_or_404(request: HttpRequest, certificate_id: str) -> Certificate:
    certificate = Certificate.objects.filter(org=request.org, openai_id=certificate_id).first()
    if certificate is None:
        raise Http404("No such certificate (it may have been deleted since the last sync).")
    return certificate


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def certificate_upload(request: HttpRequest) -> HttpResponse:
    form = CertificateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        ok = succeeded(
            request,
            lambda: services.certificate_upload(
                org=request.org,
                pem=form.cleaned_data["pem_text"],
                name=name,
                actor=request.user,
            ),
            doing="upload the certificate",
            done=lambda: f"Uploaded “{name}”. It is not active yet: select it and press Activate.",
            form=form,
        )
        if ok:
            return redirect("orgadmin:org_settings")
    return render(
        request, "orgadmin/certificate_upload.html", {**base_context(request), "form": form}
    )


@requires(Perm.MANAGE)
@require_POST
@with_org
def certificates_toggle(request: HttpRequest) -> HttpResponse:
    form = CertificateToggleForm(request.POST, choices=org_certificate_choices(request.org))
    error = first_error(form)
    if error is None:
        ids = form.cleaned_data["certificate_ids"]
        active = form.cleaned_data["action"] == "activate"
        verb = "Activated" if active else "Deactivated"
        error = attempt(
            request,
            lambda: services.certificates_toggle(
                org=request.org, certificate_ids=ids, active=active, actor=request.user
            ),
            doing="change the certificates",
            done=f"{verb} {len(ids)} certificate(s) for the organization.",
        )
    return inline_result(request, error=error, fallback="orgadmin:org_settings")


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def certificate_rename(request: HttpRequest, certificate_id: str) -> HttpResponse:
    certificate = _get_certificate_or_404(request, certificate_id)
    form = CertificateRenameForm(request.POST or None, initial={"name": certificate.name})
    if request.method == "POST" and form.is_valid():
        ok = succeeded(
            request,
            lambda: services.certificate_rename(
                org=request.org,
                certificate=certificate,
                name=form.cleaned_data["name"],
                actor=request.user,
            ),
            doing="rename the certificate",
            done=lambda: f"Renamed the certificate to “{certificate.name}”.",
            form=form,
        )
        if ok:
            return redirect("orgadmin:org_settings")
    context = {**base_context(request), "form": form, "certificate": certificate}
    return render(request, "orgadmin/certificate_rename.html", context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def certificate_delete(request: HttpRequest, certificate_id: str) -> HttpResponse:
    certificate = _get_certificate_or_404(request, certificate_id)
    error = attempt(
        request,
        lambda: services.certificate_delete(
            org=request.org, certificate=certificate, actor=request.user
        ),
        doing="delete the certificate",
        done=lambda: f"Deleted the certificate “{certificate.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:org_settings")


@requires(Perm.MANAGE)
@require_POST
@with_org
def org_retention(request: HttpRequest) -> HttpResponse:
    form = RetentionForm(request.POST, project=False)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.org_retention_set(
            org=request.org,
            retention_type=form.cleaned_data["retention_type"],
            actor=request.user,
        ),
        doing="change the data retention",
        done=lambda: "Saved the organization's data retention.",
        form=form,
    )
    card = settings_card(
        request, "retention", "retention-form", template="orgadmin/_retention.html"
    )
    return card_result(request, form, ok=ok, card=card, form_key="retention_form")


# --- spend alerts and hard limits, for the organization or a project ---------------------------
# One view for each change: the organization's URL calls it without a project_id, the
# project's with one.


def _scope(request: HttpRequest, project_id: str | None) -> Project | None:
    return get_project_or_404(request, project_id) if project_id else None


def _spend_url(project_id: str | None) -> str:
    if project_id is None:
        return reverse("orgadmin:org_settings_tab", kwargs={"tab": "spend"})
    return reverse("orgadmin:project_tab", kwargs={"project_id": project_id, "tab": "spend"})


def _spend_card(request: HttpRequest, project_id: str | None, part: str) -> Card:
    if project_id is None:
        return settings_card(request, "spend", part, template=SHARED)
    return project_card(request, project_id, "spend", part, template=SHARED)


def _get_alert_or_404(request: HttpRequest, project: Project | None, alert_id: str) -> SpendAlert:
    alert = SpendAlert.objects.filter(org=request.org, project=project, openai_id=alert_id).first()
    if alert is None:
        raise Http404("No such spend alert (it may have been deleted since the last sync).")
    return alert


def _alert_values(form: SpendAlertForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "threshold_cents": data["amount"],
        "recipients": data["recipients"],
        "subject_prefix": data["subject_prefix"],
    }


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_create(request: HttpRequest, project_id: str | None = None) -> HttpResponse:
    project = _scope(request, project_id)
    form = SpendAlertForm(request.POST)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.spend_alert_create(
            org=request.org, project=project, **_alert_values(form), actor=request.user
        ),
        doing="create the spend alert",
        done="Added the spend alert.",
        form=form,
    )
    card = _spend_card(request, project_id, "alert-form")
    return card_result(request, form, ok=ok, card=card, form_key="alert_form")


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_edit(
    request: HttpRequest, alert_id: str, project_id: str | None = None
) -> HttpResponse:
    alert = _get_alert_or_404(request, _scope(request, project_id), alert_id)
    form = SpendAlertForm(request.POST)
    error = first_error(form) or attempt(
        request,
        lambda: services.spend_alert_update(
            org=request.org, alert=alert, **_alert_values(form), actor=request.user
        ),
        doing="change the spend alert",
        done="Saved the spend alert.",
    )
    return inline_result(request, error=error, fallback=_spend_url(project_id))


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_delete(
    request: HttpRequest, alert_id: str, project_id: str | None = None
) -> HttpResponse:
    alert = _get_alert_or_404(request, _scope(request, project_id), alert_id)
    error = attempt(
        request,
        lambda: services.spend_alert_delete(org=request.org, alert=alert, actor=request.user),
        doing="delete the spend alert",
        done="Deleted the spend alert.",
    )
    return inline_result(request, error=error, fallback=_spend_url(project_id))


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_limit(request: HttpRequest, project_id: str | None = None) -> HttpResponse:
    project = _scope(request, project_id)
    form = SpendLimitForm(request.POST)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.spend_limit_set(
            org=request.org,
            project=project,
            threshold_cents=form.cleaned_data["amount"],
            actor=request.user,
        ),
        doing="set the spend limit",
        done="Saved the hard spend limit.",
        form=form,
    )
    card = _spend_card(request, project_id, "limit-form")
    return card_result(request, form, ok=ok, card=card, form_key="limit_form")


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_limit_delete(request: HttpRequest, project_id: str | None = None) -> HttpResponse:
    project = _scope(request, project_id)
    error = attempt(
        request,
        lambda: services.spend_limit_delete(org=request.org, project=project, actor=request.user),
        doing="remove the spend limit",
        done="Removed the hard spend limit.",
    )
    return inline_result(request, error=error, fallback=_spend_url(project_id))

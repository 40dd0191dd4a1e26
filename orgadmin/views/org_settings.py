"""Organization settings (certificates, spend, data retention), and the spend alerts and hard
limits of both the organization and its projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin import selectors, services
from orgadmin.access import Perm, requires
from orgadmin.directory_forms import (
    CertificateRenameForm,
    CertificateToggleForm,
    CertificateUploadForm,
    RetentionForm,
    SpendAlertForm,
    SpendLimitForm,
    org_certificate_choices,
)
from orgadmin.models import Certificate, Project, SpendAlert
from orgadmin.views.common import (
    attempt,
    base_context,
    changed,
    first_error,
    inline_result,
    succeeded,
    with_org,
)
from orgadmin.views.projects import get_project_or_404, project_page

TABS: list[tuple[str, str]] = [
    ("certificates", "Certificates"),
    ("spend", "Spend"),
    ("retention", "Data retention"),
]


def _certificates_tab(request: HttpRequest) -> dict[str, Any]:
    return {"certificates": selectors.certificates_list(org=request.org)}


def _spend_tab(request: HttpRequest) -> dict[str, Any]:
    return {
        "alerts": selectors.spend_alerts(org=request.org),
        "alert_form": SpendAlertForm(),
        "limit_form": SpendLimitForm(),
    }


SHARED = "orgadmin/_spend.html"


def _retention_tab(request: HttpRequest) -> dict[str, Any]:
    settings = selectors.org_settings(org=request.org)
    initial = {"retention_type": settings.data_retention} if settings.data_retention else {}
    return {"retention_form": RetentionForm(initial=initial, project=False)}


TAB_CONTEXT: dict[str, Callable[[HttpRequest], dict[str, Any]]] = {
    "certificates": _certificates_tab,
    "spend": _spend_tab,
    "retention": _retention_tab,
}


def settings_page(
    request: HttpRequest,
    tab: str,
    *,
    fragment: str = "",
    template: str = "orgadmin/org_settings.html",
    **extra: Any,
) -> HttpResponse:
    settings = selectors.org_settings(org=request.org)
    context = {
        **base_context(request),
        "settings": settings,
        "limit_holder": settings,
        "tab": tab,
        "tabs": TABS,
        "scope": None,
        **TAB_CONTEXT[tab](request),
        **extra,
    }
    if fragment:
        template += f"#{fragment}"
    elif request.htmx and not request.htmx.boosted:
        template += "#settings-live"
    return render(request, template, context)


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


def _card(
    request: HttpRequest, *, tab: str, fragment: str, form_key: str, form: Form, ok: bool
) -> HttpResponse:
    """A settings card form's answer: re-rendered with errors, or fresh after a change."""
    if not request.htmx:
        if not ok:
            messages.error(request, first_error(form) or "Check the form.")
        if tab == "certificates":
            return redirect("orgadmin:org_settings")
        return redirect("orgadmin:org_settings_tab", tab=tab)
    if ok:
        return changed(settings_page(request, tab, fragment=fragment))
    return settings_page(request, tab, fragment=fragment, **{form_key: form})


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
    ok = False
    if form.is_valid():
        ok = succeeded(
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
    return _card(
        request,
        tab="retention",
        fragment="retention-form",
        form_key="retention_form",
        form=form,
        ok=ok,
    )


# --- spend alerts and hard limits, for the organization or a project ---------------------------


def _scope(request: HttpRequest, project_id: str | None) -> Project | None:
    return get_project_or_404(request, project_id) if project_id else None


def _spend_card(
    request: HttpRequest,
    project_id: str | None,
    *,
    fragment: str,
    form_key: str,
    form: Form,
    ok: bool,
) -> HttpResponse:
    if not request.htmx:
        if not ok:
            messages.error(request, first_error(form) or "Check the form.")
        if project_id is None:
            return redirect("orgadmin:org_settings_tab", tab="spend")
        return redirect("orgadmin:project_tab", project_id=project_id, tab="spend")
    extra = {} if ok else {form_key: form}
    if project_id is None:
        response = settings_page(request, "spend", fragment=fragment, template=SHARED, **extra)
    else:
        project = get_project_or_404(request, project_id)
        response = project_page(
            request, project, "spend", fragment=fragment, template=SHARED, **extra
        )
    return changed(response) if ok else response


def _spend_inline(request: HttpRequest, project_id: str | None, error: str | None) -> HttpResponse:
    if project_id is None:
        return inline_result(
            request, error=error, fallback="orgadmin:org_settings_tab", tab="spend"
        )
    return inline_result(
        request, error=error, fallback="orgadmin:project_tab", project_id=project_id, tab="spend"
    )


def _get_alert_or_404(request: HttpRequest, project: Project | None, alert_id: str) -> SpendAlert:
    alert = SpendAlert.objects.filter(org=request.org, project=project, openai_id=alert_id).first()
    if alert is None:
        raise Http404("No such spend alert (it may have been deleted since the last sync).")
    return alert


def _alert_create(request: HttpRequest, project_id: str | None) -> HttpResponse:
    project = _scope(request, project_id)
    form = SpendAlertForm(request.POST)
    ok = False
    if form.is_valid():
        data = form.cleaned_data
        ok = succeeded(
            request,
            lambda: services.spend_alert_create(
                org=request.org,
                project=project,
                threshold_cents=data["amount"],
                recipients=data["recipients"],
                subject_prefix=data["subject_prefix"],
                actor=request.user,
            ),
            doing="create the spend alert",
            done=lambda: "Added the spend alert.",
            form=form,
        )
    return _spend_card(
        request, project_id, fragment="alert-form", form_key="alert_form", form=form, ok=ok
    )


def _alert_edit(request: HttpRequest, project_id: str | None, alert_id: str) -> HttpResponse:
    alert = _get_alert_or_404(request, _scope(request, project_id), alert_id)
    form = SpendAlertForm(request.POST)
    error = first_error(form)
    if error is None:
        data = form.cleaned_data
        error = attempt(
            request,
            lambda: services.spend_alert_update(
                org=request.org,
                alert=alert,
                threshold_cents=data["amount"],
                recipients=data["recipients"],
                subject_prefix=data["subject_prefix"],
                actor=request.user,
            ),
            doing="change the spend alert",
            done=lambda: "Saved the spend alert.",
        )
    return _spend_inline(request, project_id, error)


def _alert_delete(request: HttpRequest, project_id: str | None, alert_id: str) -> HttpResponse:
    alert = _get_alert_or_404(request, _scope(request, project_id), alert_id)
    error = attempt(
        request,
        lambda: services.spend_alert_delete(org=request.org, alert=alert, actor=request.user),
        doing="delete the spend alert",
        done=lambda: "Deleted the spend alert.",
    )
    return _spend_inline(request, project_id, error)


def _limit_set(request: HttpRequest, project_id: str | None) -> HttpResponse:
    project = _scope(request, project_id)
    form = SpendLimitForm(request.POST)
    ok = False
    if form.is_valid():
        ok = succeeded(
            request,
            lambda: services.spend_limit_set(
                org=request.org,
                project=project,
                threshold_cents=form.cleaned_data["amount"],
                actor=request.user,
            ),
            doing="set the spend limit",
            done=lambda: "Saved the hard spend limit.",
            form=form,
        )
    return _spend_card(
        request, project_id, fragment="limit-form", form_key="limit_form", form=form, ok=ok
    )


def _limit_delete(request: HttpRequest, project_id: str | None) -> HttpResponse:
    project = _scope(request, project_id)
    error = attempt(
        request,
        lambda: services.spend_limit_delete(org=request.org, project=project, actor=request.user),
        doing="remove the spend limit",
        done=lambda: "Removed the hard spend limit.",
    )
    return _spend_inline(request, project_id, error)


# The same five views for the organization and for a project.
@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_create(request: HttpRequest) -> HttpResponse:
    return _alert_create(request, None)


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_edit(request: HttpRequest, alert_id: str) -> HttpResponse:
    return _alert_edit(request, None, alert_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_alert_delete(request: HttpRequest, alert_id: str) -> HttpResponse:
    return _alert_delete(request, None, alert_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_limit(request: HttpRequest) -> HttpResponse:
    return _limit_set(request, None)


@requires(Perm.MANAGE)
@require_POST
@with_org
def spend_limit_delete(request: HttpRequest) -> HttpResponse:
    return _limit_delete(request, None)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_spend_alert_create(request: HttpRequest, project_id: str) -> HttpResponse:
    return _alert_create(request, project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_spend_alert_edit(request: HttpRequest, project_id: str, alert_id: str) -> HttpResponse:
    return _alert_edit(request, project_id, alert_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_spend_alert_delete(
    request: HttpRequest, project_id: str, alert_id: str
) -> HttpResponse:
    return _alert_delete(request, project_id, alert_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_spend_limit(request: HttpRequest, project_id: str) -> HttpResponse:
    return _limit_set(request, project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_spend_limit_delete(request: HttpRequest, project_id: str) -> HttpResponse:
    return _limit_delete(request, project_id)

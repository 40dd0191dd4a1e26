"""A project's settings tabs: rate limits, certificates, permissions, groups, data retention."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from orgadmin.access import Perm, requires
from orgadmin.forms import (
    CertificateToggleForm,
    HostedToolsForm,
    ModelPermissionsForm,
    ProjectGroupAddForm,
    RateLimitBulkForm,
    RateLimitForm,
    RetentionForm,
    project_certificate_choices,
)
from orgadmin.services import projects as services
from orgadmin.services.changes import ChangeRefused
from orgadmin.views.common import (
    attempt,
    card_result,
    first_error,
    inline_result,
    report_bulk,
    succeeded,
    with_org,
)
from orgadmin.views.projects import get_project_or_404, project_card

# --- rate limits ----------------------------------------------------------------------------------


@requires(Perm.MANAGE)
@require_POST
@with_org
def rate_limit_edit(request: HttpRequest, project_id: str, limit_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    limit = project.rate_limits.filter(openai_id=limit_id).first()
    if limit is None:
        raise Http404("No such rate limit in this project.")
    form = RateLimitForm(request.POST, limit=limit)
    error = first_error(form)
    if error is None:
        changes = form.changes()
        if not changes:
            messages.info(request, f"No change to the {limit.model} limits.")
        else:
            error = attempt(
                request,
                lambda: services.rate_limit_update(
                    org=request.org, limit=limit, values=changes, actor=request.user
                ),
                doing=f"change the {limit.model} limits",
                done=lambda: f"Saved the {limit.model} limits.",
            )
    return inline_result(
        request,
        error=error,
        fallback="orgadmin:project_tab",
        project_id=project_id,
        tab="rate-limits",
    )


@requires(Perm.MANAGE)
@require_POST
@with_org
def rate_limits_bulk(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = RateLimitBulkForm(request.POST)
    ok = False
    if form.is_valid():
        field, value = form.cleaned_data["field"], form.cleaned_data["value"]
        try:
            outcome = services.rate_limits_update_all(
                org=request.org, project=project, field=field, value=value, actor=request.user
            )
        except ChangeRefused as exc:
            form.add_error(None, exc.message)
        else:
            ok = not outcome.failed
            if not outcome.done and not outcome.failed:
                form.add_error("field", "No model in this project has this limit.")
            report_bulk(request, outcome, did="Updated the limit of", noun="model(s)")
    card = project_card(request, project_id, "rate-limits", "bulk-form")
    return card_result(request, form, ok=ok, card=card, form_key="bulk_form")


# --- certificates -------------------------------------------------------------------------------


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_certificates_toggle(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = CertificateToggleForm(request.POST, choices=project_certificate_choices(project))
    error = first_error(form)
    if error is None:
        ids = form.cleaned_data["certificate_ids"]
        active = form.cleaned_data["action"] == "activate"
        verb = "Activated" if active else "Deactivated"
        error = attempt(
            request,
            lambda: services.project_certificates_toggle(
                org=request.org,
                project=project,
                certificate_ids=ids,
                active=active,
                actor=request.user,
            ),
            doing="change the certificates",
            done=f"{verb} {len(ids)} certificate(s) for “{project.name}”.",
        )
    return inline_result(
        request,
        error=error,
        fallback="orgadmin:project_tab",
        project_id=project_id,
        tab="certificates",
    )


# --- model and hosted-tool permissions ------------------------------------------------------------


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_model_permissions(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = ModelPermissionsForm(request.POST)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.project_model_permissions_set(
            org=request.org,
            project=project,
            mode=form.cleaned_data["mode"],
            model_ids=form.cleaned_data["model_ids"],
            actor=request.user,
        ),
        doing="set the model permissions",
        done=lambda: f"Saved the model permissions of “{project.name}”.",
        form=form,
    )
    card = project_card(request, project_id, "permissions", "models-form")
    return card_result(request, form, ok=ok, card=card, form_key="models_form")


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_model_permissions_delete(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    error = attempt(
        request,
        lambda: services.project_model_permissions_delete(
            org=request.org, project=project, actor=request.user
        ),
        doing="remove the model permissions",
        done=lambda: f"Every model is allowed again in “{project.name}”.",
    )
    return inline_result(
        request,
        error=error,
        fallback="orgadmin:project_tab",
        project_id=project_id,
        tab="permissions",
    )


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_hosted_tools(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = HostedToolsForm(request.POST)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.project_hosted_tools_set(
            org=request.org,
            project=project,
            tools=dict(form.cleaned_data),
            actor=request.user,
        ),
        doing="change the hosted tools",
        done=lambda: f"Saved the hosted tools of “{project.name}”.",
        form=form,
    )
    card = project_card(request, project_id, "permissions", "tools-form")
    return card_result(request, form, ok=ok, card=card, form_key="tools_form")


# --- data retention and groups -------------------------------------------------------------------


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_retention(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = RetentionForm(request.POST, project=True)
    ok = form.is_valid() and succeeded(
        request,
        lambda: services.project_retention_set(
            org=request.org,
            project=project,
            retention_type=form.cleaned_data["retention_type"],
            actor=request.user,
        ),
        doing="change the data retention",
        done=lambda: f"Saved the data retention of “{project.name}”.",
        form=form,
    )
    card = project_card(
        request, project_id, "retention", "retention-form", template="orgadmin/_retention.html"
    )
    return card_result(request, form, ok=ok, card=card, form_key="retention_form")


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_group_add(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = ProjectGroupAddForm(request.POST, org=request.org, project=project)
    ok = False
    if form.is_valid():
        group, role_id = form.cleaned_data["group"], form.cleaned_data["role"]
        ok = succeeded(
            request,
            lambda: services.project_group_add(
                org=request.org,
                project=project,
                group=group,
                role_id=role_id,
                actor=request.user,
            ),
            doing=f"give “{group.name}” access",
            done=lambda: f"“{group.name}” now has access to “{project.name}”.",
            form=form,
        )
    card = project_card(request, project_id, "groups", "group-form")
    return card_result(request, form, ok=ok, card=card, form_key="group_form")


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_group_remove(request: HttpRequest, project_id: str, group_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    link = project.groups.filter(group_openai_id=group_id).first()
    if link is None:
        raise Http404("This group has no access to the project (any more).")
    error = attempt(
        request,
        lambda: services.project_group_remove(
            org=request.org, project=project, link=link, actor=request.user
        ),
        doing="revoke the group's access",
        done=lambda: f"Revoked the access of “{link.group_name}”.",
    )
    return inline_result(
        request,
        error=error,
        fallback="orgadmin:project_tab",
        project_id=project_id,
        tab="groups",
    )

"""Projects: the list, creating, renaming and archiving, and the project page with its tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.forms import (
    HostedToolsForm,
    ModelPermissionsForm,
    ProjectCreateForm,
    ProjectFilterForm,
    ProjectGroupAddForm,
    ProjectRenameForm,
    ProjectRoleForm,
    ProjectUserAddForm,
    RateLimitBulkForm,
    RetentionForm,
    ServiceAccountCreateForm,
    ServiceAccountEditForm,
    ServiceAccountKeyForm,
    SpendAlertForm,
    SpendLimitForm,
    TypeToConfirmForm,
)
from orgadmin.models import RATE_LIMIT_FIELDS, Project, ProjectUser, ServiceAccount
from orgadmin.selectors import sorting
from orgadmin.selectors.spend import project_spend_column, rate_limit_ceilings, spend_gauge
from orgadmin.services import projects as services
from orgadmin.views.common import (
    Card,
    attempt,
    base_context,
    card_result,
    changed,
    first_error,
    fragment,
    inline_result,
    paginate,
    try_change,
    with_org,
)

TABS: list[tuple[str, str]] = [
    ("members", "Members"),
    ("service-accounts", "Service accounts"),
    ("api-keys", "API keys"),
    ("rate-limits", "Rate limits"),
    ("certificates", "Certificates"),
    ("spend", "Spend"),
    ("permissions", "Permissions"),
    ("groups", "Groups"),
    ("retention", "Data retention"),
]


def get_project_or_404(request: HttpRequest, project_id: str) -> Project:
    project = (
        selectors.projects_list(org=request.org, status="all").filter(openai_id=project_id).first()
    )
    if project is None:
        raise Http404("No such project in this organization.")
    return project


# --- the list -----------------------------------------------------------------------------------


@requires(Perm.VIEW_PROJECTS)
@require_GET
@with_org
def projects(request: HttpRequest) -> HttpResponse:
    form = ProjectFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status") or "active"
    sort = sorting.PROJECTS.parse(request.GET.get("sort"))
    spend = project_spend_column(org=request.org)
    rows = selectors.projects_list(
        org=request.org, status=status, q=filters.get("q", ""), sort=sort, spend=spend
    )
    context = {
        **base_context(request),
        "form": form,
        "sort": sort,
        "spend": spend,
        "status": status,
        "q": filters.get("q", ""),
        "counts": selectors.project_status_counts(org=request.org),
        "page": paginate(request, rows),
    }
    return render(
        request, fragment(request, "orgadmin/projects.html", "project-list-live"), context
    )


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        project, error = try_change(
            lambda: services.project_create(
                org=request.org,
                name=name,
                residency=form.cleaned_data["residency"],
                actor=request.user,
            ),
            doing=f"create the project “{name}”",
            form=form,
        )
        if error is None:
            messages.success(request, f"Created the project “{project.name}”.")
            url = reverse("orgadmin:project", args=[project.openai_id])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    part = "create-form" if request.method == "POST" else ""
    template = fragment(request, "orgadmin/project_create.html", part)
    return render(request, template, {**base_context(request), "form": form})


# --- the project page ---------------------------------------------------------------------------


def _members_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    sort = sorting.PROJECT_MEMBERS.parse(request.GET.get("sort"))
    return {
        "sort": sort,
        "page": paginate(request, selectors.project_members(project=project, sort=sort)),
        "project_roles": ProjectRoleForm.base_fields["role"].choices,
        "user_form": ProjectUserAddForm(org=request.org),
    }


def _accounts_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    sort = sorting.SERVICE_ACCOUNTS.parse(request.GET.get("sort"))
    accounts = list(selectors.project_service_accounts(project=project, sort=sort))
    keys = selectors.project_keys(project=project).filter(owner_type="service_account")
    by_owner: dict[str, list] = {}
    for key in keys:
        by_owner.setdefault(key.owner_id, []).append(key)
    for account in accounts:
        account.keys = by_owner.get(account.openai_id, [])
    return {
        "sort": sort,
        "accounts": accounts,
        "project_roles": ProjectRoleForm.base_fields["role"].choices,
        "account_form": ServiceAccountCreateForm(),
    }


def _keys_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    sort = sorting.KEYS.parse(request.GET.get("sort"))
    return {
        "sort": sort,
        "page": paginate(request, selectors.project_keys(project=project, sort=sort)),
    }


def _limits_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    limits = list(project.rate_limits.all())
    ceilings = rate_limit_ceilings(org=request.org)
    for limit in limits:  # each value with the organization's maximum for it
        top = ceilings.get(limit.model, {})
        limit.cells = [(name, value, top.get(name)) for name, value in limit.values()]
    return {
        "limits": limits,
        "limit_fields": RATE_LIMIT_FIELDS,
        "bulk_form": RateLimitBulkForm(),
    }


def _certificates_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    return {"certificates": project.certificates.all()}


def _spend_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    alerts = list(selectors.spend_alerts(org=request.org, project=project))
    limit = project.spend_limit_cents
    return {
        "alerts": alerts,
        "gauge": spend_gauge(org=request.org, project=project, limit_cents=limit, alerts=alerts),
        "alert_form": SpendAlertForm(),
        "limit_form": SpendLimitForm(),
        "scope": project,
        "limit_holder": project,
    }


def _permissions_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    initial = {"mode": project.model_permissions_mode or "allow_list", "models": project.model_ids}
    return {
        "models_form": ModelPermissionsForm(initial=initial),
        "known_models": selectors.models_known(org=request.org),
        "tools_form": HostedToolsForm(initial=project.hosted_tools or {}),
    }


def _groups_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    return {
        "links": project.groups.all(),
        "group_form": ProjectGroupAddForm(org=request.org, project=project),
    }


def _retention_tab(request: HttpRequest, project: Project) -> dict[str, Any]:
    initial = {"retention_type": project.data_retention or "organization_default"}
    return {"retention_form": RetentionForm(initial=initial, project=True), "scope": project}


TAB_CONTEXT: dict[str, Callable[[HttpRequest, Project], dict[str, Any]]] = {
    "members": _members_tab,
    "service-accounts": _accounts_tab,
    "api-keys": _keys_tab,
    "rate-limits": _limits_tab,
    "certificates": _certificates_tab,
    "spend": _spend_tab,
    "permissions": _permissions_tab,
    "groups": _groups_tab,
    "retention": _retention_tab,
}


def project_page(
    request: HttpRequest,
    project: Project,
    tab: str,
    *,
    part: str = "",
    template: str = "orgadmin/project.html",
    **extra: Any,
) -> HttpResponse:
    """The project page on one tab; `part` renders only that part of it (of `template`, for
    the parts the project and organization pages share)."""
    context = {
        **base_context(request),
        "project": project,
        "tab": tab,
        "tabs": TABS,
        **TAB_CONTEXT[tab](request, project),
        **extra,
    }
    return render(request, fragment(request, template, part or "project-live"), context)


def project_card(
    request: HttpRequest,
    project_id: str,
    tab: str,
    part: str,
    *,
    template: str = "orgadmin/project.html",
) -> Card:
    """A card of a project tab, drawn with the project read again (as changed, counts
    included)."""

    def render_card(**extra: Any) -> HttpResponse:
        project = get_project_or_404(request, project_id)
        return project_page(request, project, tab, part=part, template=template, **extra)

    url = reverse("orgadmin:project_tab", kwargs={"project_id": project_id, "tab": tab})
    return Card(render=render_card, url=url)


@requires(Perm.VIEW_PROJECTS)
@require_GET
@with_org
def project(request: HttpRequest, project_id: str) -> HttpResponse:
    return project_page(request, get_project_or_404(request, project_id), "members")


@requires(Perm.VIEW_PROJECTS)
@require_GET
@with_org
def project_tab(request: HttpRequest, project_id: str, tab: str) -> HttpResponse:
    if tab not in TAB_CONTEXT or tab == "members":
        raise Http404("No such tab.")
    return project_page(request, get_project_or_404(request, project_id), tab)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_rename(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = ProjectRenameForm(request.POST)
    error = first_error(form)
    if error is None:
        error = attempt(
            request,
            lambda: services.project_rename(
                org=request.org, project=project, name=form.cleaned_data["name"], actor=request.user
            ),
            doing="rename the project",
            done=lambda: f"Renamed the project to “{project.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_archive(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = TypeToConfirmForm(request.POST, expected=project.name)
    error = first_error(form)
    if error is None:
        error = attempt(
            request,
            lambda: services.project_archive(org=request.org, project=project, actor=request.user),
            doing=f"archive “{project.name}”",
            done=lambda: f"Archived “{project.name}”. Its keys and members no longer have access.",
        )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


# --- members --------------------------------------------------------------------------------------


def _get_membership_or_404(project: Project, user_id: str) -> ProjectUser:
    membership = project.users.filter(user_openai_id=user_id).first()
    if membership is None:
        raise Http404("This person is not in the project (any more).")
    return membership


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_user_add(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = ProjectUserAddForm(request.POST, org=request.org)
    error = first_error(form)
    if error is None:
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        error = attempt(
            request,
            lambda: services.project_user_add(
                org=request.org, project=project, user=user, role=role, actor=request.user
            ),
            doing=f"add {user.label} to the project",
            done=lambda: f"Added {user.label} to “{project.name}” as {role}.",
        )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_user_role(request: HttpRequest, project_id: str, user_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    membership = _get_membership_or_404(project, user_id)
    form = ProjectRoleForm(request.POST)
    error = first_error(form)
    if error is None:
        role = form.cleaned_data["role"]
        error = attempt(
            request,
            lambda: services.project_user_role_update(
                org=request.org,
                project=project,
                membership=membership,
                role=role,
                actor=request.user,
            ),
            doing="change the project role",
            done=lambda: f"{membership.label} is now {role} in “{project.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_user_remove(request: HttpRequest, project_id: str, user_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    membership = _get_membership_or_404(project, user_id)
    error = attempt(
        request,
        lambda: services.project_user_remove(
            org=request.org, project=project, membership=membership, actor=request.user
        ),
        doing=f"remove {membership.label} from the project",
        done=lambda: f"Removed {membership.label} from “{project.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


# --- service accounts and keys -------------------------------------------------------------------


def _get_account_or_404(project: Project, account_id: str) -> ServiceAccount:
    account = project.service_accounts.filter(openai_id=account_id).first()
    if account is None:
        raise Http404("No such service account in this project (any more).")
    return account


def _secret(request: HttpRequest, *, title: str, key: Any, note: str = "") -> HttpResponse:
    """The one response that ever holds a new key's value: not cached, not stored, not logged."""
    context = {"title": title, "secret": key.value, "key_name": key.name, "note": note}
    return changed(render(request, "orgadmin/_secret_once.html", context))


def _account_create(
    request: HttpRequest, project: Project, form: ServiceAccountCreateForm
) -> tuple[ServiceAccount, Any] | None:
    """Create the service account the form asks for: it and its key (or None); None when
    refused, with the refusal on the form."""
    name = form.cleaned_data["name"]
    return try_change(
        lambda: services.service_account_create(
            org=request.org,
            project=project,
            name=name,
            with_key=not form.cleaned_data["without_key"],
            actor=request.user,
        ),
        doing=f"create “{name}”",
        form=form,
    )[0]


@requires(Perm.MANAGE)
@require_POST
@never_cache
@sensitive_variables("created", "key")
@with_org
def service_account_create(request: HttpRequest, project_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    form = ServiceAccountCreateForm(request.POST)
    created = _account_create(request, project, form) if form.is_valid() else None
    if created is None:
        card = project_card(request, project_id, "service-accounts", "account-form")
        response = card_result(request, form, ok=False, card=card, form_key="account_form")
        # Refused: the form comes back in its own place (the request aimed at the secret panel).
        return (
            reswap(retarget(response, "#account-form"), "outerHTML") if request.htmx else response
        )
    account, key = created
    messages.success(request, f"Created the service account “{account.name}”.")
    if key is None:
        return inline_result(
            request, error=None, fallback="orgadmin:project", project_id=project_id
        )
    return _secret(
        request,
        title=f"API key of the service account “{account.name}”",
        key=key,
        note=f"It has access to the project “{project.name}”.",
    )


@requires(Perm.MANAGE)
@require_POST
@with_org
def service_account_edit(request: HttpRequest, project_id: str, account_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    account = _get_account_or_404(project, account_id)
    form = ServiceAccountEditForm(request.POST)
    error = first_error(form)
    if error is None:
        error = attempt(
            request,
            lambda: services.service_account_update(
                org=request.org,
                project=project,
                account=account,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                actor=request.user,
            ),
            doing="update the service account",
            done=lambda: f"Saved the service account “{account.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def service_account_delete(request: HttpRequest, project_id: str, account_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    account = _get_account_or_404(project, account_id)
    error = attempt(
        request,
        lambda: services.service_account_delete(
            org=request.org, project=project, account=account, actor=request.user
        ),
        doing=f"delete “{account.name}”",
        done=lambda: f"Deleted the service account “{account.name}” and its keys.",
    )
    return inline_result(request, error=error, fallback="orgadmin:project", project_id=project_id)


def _account_refusal(
    request: HttpRequest, project_id: str, account: ServiceAccount, error: str | None
) -> HttpResponse:
    """A key the API refused to create (or a form error): the form aims at the secret panel,
    so with htmx the refusal goes beside the account's buttons instead."""
    response = inline_result(
        request, error=error, fallback="orgadmin:project", project_id=project_id
    )
    if request.htmx:
        response = reswap(retarget(response, f"#account-{account.openai_id}-error"), "innerHTML")
    return response


@requires(Perm.MANAGE)
@require_POST
@never_cache
@sensitive_variables("key")
@with_org
def service_account_key_create(
    request: HttpRequest, project_id: str, account_id: str
) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    account = _get_account_or_404(project, account_id)
    form = ServiceAccountKeyForm(request.POST)
    error = first_error(form)
    if error is None:
        key, error = try_change(
            lambda: services.service_account_key_create(
                org=request.org,
                project=project,
                account=account,
                name=form.cleaned_data["name"],
                actor=request.user,
            ),
            doing="create the key",
        )
    if error is not None:
        return _account_refusal(request, project_id, account, error)
    messages.success(request, f"Created a new API key for “{account.name}”.")
    return _secret(request, title=f"New API key of “{account.name}”", key=key)


@requires(Perm.MANAGE)
@require_POST
@with_org
def project_key_delete(request: HttpRequest, project_id: str, key_id: str) -> HttpResponse:
    project = get_project_or_404(request, project_id)
    key = project.api_keys.filter(openai_id=key_id).first()
    if key is None:
        raise Http404("No such key in this project (any more).")
    error = attempt(
        request,
        lambda: services.project_key_delete(org=request.org, key=key, actor=request.user),
        doing=f"delete the key “{key.name or key.redacted_value}”",
        done=lambda: (
            f"Deleted the API key “{key.name or key.redacted_value}” of {key.owner_label}."
        ),
    )
    return inline_result(request, error=error, fallback="orgadmin:keys")

"""Groups and organization roles: list, create, rename or edit, delete, and assign."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.client import OrgAPIError
from orgadmin.forms import GroupForm, GroupUserAddForm, RoleAssignForm, RoleForm
from orgadmin.models import OrgGroup, OrgRole
from orgadmin.selectors.sorting import GROUPS, ROLES
from orgadmin.services import directory as services
from orgadmin.views.common import (
    api_error_text,
    attempt,
    base_context,
    first_error,
    fragment,
    inline_result,
    query_text,
    with_org,
)


def _get_group_or_404(request: HttpRequest, group_id: str) -> OrgGroup:
    group = OrgGroup.objects.filter(org=request.org, openai_id=group_id).first()
    if group is None:
        raise Http404("No such group (it may have been deleted since the last sync).")
    return group


def _get_role_or_404(request: HttpRequest, role_id: str) -> OrgRole:
    role = OrgRole.objects.filter(org=request.org, openai_id=role_id).first()
    if role is None:
        raise Http404("No such role (it may have been deleted since the last sync).")
    return role


# --- groups -----------------------------------------------------------------------------------


def _groups_page(request: HttpRequest, form: GroupForm, part: str) -> HttpResponse:
    q = query_text(request, "q")
    sort = GROUPS.parse(request.GET.get("sort"))
    context = {
        **base_context(request),
        "groups": selectors.groups_list(org=request.org, q=q, sort=sort),
        "q": q,
        "sort": sort,
        "list_path": reverse("orgadmin:groups"),
        "form": form,
    }
    return render(request, fragment(request, "orgadmin/groups.html", part), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def groups(request: HttpRequest) -> HttpResponse:
    return _groups_page(request, GroupForm(), "group-live")


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_create(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        name = form.cleaned_data["name"]
        try:
            group = services.group_create(org=request.org, name=name, actor=request.user)
        except OrgAPIError as exc:
            form.add_error("name", api_error_text(exc, doing=f"create the group “{name}”"))
        else:
            messages.success(request, f"Created the group “{group.name}”. Add its members here.")
            url = reverse("orgadmin:group", args=[group.openai_id])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _groups_page(request, form, "group-form")


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def group(request: HttpRequest, group_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    assigned = selectors.group_roles(group=grp)
    context = {
        **base_context(request),
        "group": grp,
        "members": grp.members.all(),
        "assigned_roles": assigned,
        "rename_form": GroupForm(initial={"name": grp.name}),
        "user_form": GroupUserAddForm(org=request.org),
        "role_form": RoleAssignForm(org=request.org, exclude={i for i, _ in assigned}),
    }
    return render(request, fragment(request, "orgadmin/group.html", "group-live"), context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_rename(request: HttpRequest, group_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    form = GroupForm(request.POST)
    error = first_error(form) or attempt(
        request,
        lambda: services.group_rename(
            org=request.org, group=grp, name=form.cleaned_data["name"], actor=request.user
        ),
        doing="rename the group",
        done=lambda: f"Renamed the group to “{grp.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:group", group_id=group_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_delete(request: HttpRequest, group_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    error = attempt(
        request,
        lambda: services.group_delete(org=request.org, group=grp, actor=request.user),
        doing=f"delete the group “{grp.name}”",
        done=f"Deleted the group “{grp.name}”. Its members stay in the organization.",
    )
    if error is None and request.htmx and request.POST.get("from") == "group":
        return HttpResponseClientRedirect(reverse("orgadmin:groups"))
    return inline_result(request, error=error, fallback="orgadmin:groups")


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_user_add(request: HttpRequest, group_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    form = GroupUserAddForm(request.POST, org=request.org)
    error = first_error(form)
    if error is None:
        user = form.cleaned_data["user"]
        error = attempt(
            request,
            lambda: services.group_user_add(
                org=request.org, group=grp, user=user, actor=request.user
            ),
            doing=f"add {user.label} to the group",
            done=f"Added {user.label} to “{grp.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:group", group_id=group_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_user_remove(request: HttpRequest, group_id: str, user_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    error = attempt(
        request,
        lambda: services.group_user_remove(
            org=request.org, group=grp, user_id=user_id, actor=request.user
        ),
        doing="remove them from the group",
        done=f"Removed them from “{grp.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:group", group_id=group_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_role_assign(request: HttpRequest, group_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    form = RoleAssignForm(request.POST, org=request.org)
    error = first_error(form)
    if error is None:
        role = form.cleaned_data["role"]
        error = attempt(
            request,
            lambda: services.group_role_assign(
                org=request.org, group=grp, role=role, actor=request.user
            ),
            doing=f"give the group the role “{role.name}”",
            done=f"Gave “{grp.name}” the role “{role.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:group", group_id=group_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def group_role_unassign(request: HttpRequest, group_id: str, role_id: str) -> HttpResponse:
    grp = _get_group_or_404(request, group_id)
    error = attempt(
        request,
        lambda: services.group_role_unassign(
            org=request.org, group=grp, role_id=role_id, actor=request.user
        ),
        doing="take the role away from the group",
        done=f"Took the role away from “{grp.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:group", group_id=group_id)


# --- roles ------------------------------------------------------------------------------------


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def roles(request: HttpRequest) -> HttpResponse:
    sort = ROLES.parse(request.GET.get("sort"))
    rows = selectors.roles_list(org=request.org, sort=sort)
    context = {**base_context(request), "roles": rows, "sort": sort}
    return render(request, fragment(request, "orgadmin/roles.html", "role-live"), context)


def _role_form_page(request: HttpRequest, form: RoleForm, role: OrgRole | None) -> HttpResponse:
    context = {**base_context(request), "form": form, "role": role}
    return render(request, "orgadmin/role_form.html", context)


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def role_create(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_create(
                org=request.org,
                name=data["name"],
                permissions=data["all_permissions"],
                description=data["description"],
                actor=request.user,
            )
        except OrgAPIError as exc:
            form.add_error(None, api_error_text(exc, doing="create the role"))
        else:
            messages.success(request, f"Created the role “{role.name}”.")
            return redirect(reverse("orgadmin:roles") + f"#role-{role.openai_id}")
    return _role_form_page(request, form, None)


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def role_edit(request: HttpRequest, role_id: str) -> HttpResponse:
    role = _get_role_or_404(request, role_id)
    initial = {"name": role.name, "description": role.description, "permissions": role.permissions}
    form = RoleForm(request.POST or None, org=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        error = attempt(
            request,
            lambda: services.role_update(
                org=request.org,
                role=role,
                name=data["name"],
                permissions=data["all_permissions"],
                description=data["description"],
                actor=request.user,
            ),
            doing="update the role",
            done=lambda: f"Updated the role “{role.name}”.",
            form=form,
        )
        if error is None:
            return redirect(reverse("orgadmin:roles") + f"#role-{role.openai_id}")
    return _role_form_page(request, form, role)


@requires(Perm.MANAGE)
@require_POST
@with_org
def role_delete(request: HttpRequest, role_id: str) -> HttpResponse:
    role = _get_role_or_404(request, role_id)
    error = attempt(
        request,
        lambda: services.role_delete(org=request.org, role=role, actor=request.user),
        doing=f"delete the role “{role.name}”",
        done=f"Deleted the role “{role.name}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:roles")

"""Members of the organization: the list, a member's page, and the changes an Admin makes."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.forms import (
    MemberFilterForm,
    MemberProjectAddForm,
    ProjectRoleForm,
    RoleAssignForm,
    UserRoleForm,
)
from orgadmin.models import OrgGroup, OrgUser
from orgadmin.selectors.sorting import MEMBERS
from orgadmin.services import directory as services
from orgadmin.services.projects import project_user_add
from orgadmin.views.common import (
    attempt,
    base_context,
    first_error,
    fragment,
    inline_result,
    paginate,
    with_org,
)


def _get_user_or_404(request: HttpRequest, user_id: str) -> OrgUser:
    user = OrgUser.objects.filter(org=request.org, openai_id=user_id).first()
    if user is None:
        raise Http404("No such member (they may have been removed since the last sync).")
    return user


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def members(request: HttpRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    sort = MEMBERS.parse(request.GET.get("sort"))
    users = selectors.users_list(
        org=request.org, q=filters.get("q", ""), role=filters.get("role", ""), sort=sort
    )
    context = {
        **base_context(request),
        "form": form,
        "sort": sort,
        "page": paginate(request, users),
        "filtered": bool(filters.get("q") or filters.get("role")),
        "roles": UserRoleForm.base_fields["role"].choices,
    }
    return render(request, fragment(request, "orgadmin/members.html", "member-live"), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def member(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    org = request.org
    assigned = selectors.user_roles(org=org, user_id=user.openai_id)
    context = {
        **base_context(request),
        "u": user,
        "memberships": selectors.user_memberships(org=org, user_id=user.openai_id),
        "groups": selectors.user_groups(org=org, user_id=user.openai_id),
        "assigned_roles": assigned,
        "roles": UserRoleForm.base_fields["role"].choices,
        "project_roles": ProjectRoleForm.base_fields["role"].choices,
        "project_form": MemberProjectAddForm(org=org, user=user),
        "group_choices": OrgGroup.objects.filter(org=org)
        .exclude(members__user_openai_id=user.openai_id)
        .only("openai_id", "name"),
        "role_form": RoleAssignForm(org=org, exclude={i for i, _ in assigned}, predefined=False),
        "is_last_owner": user.role == "owner" and selectors.owner_count(org=org) == 1,
    }
    return render(request, fragment(request, "orgadmin/member.html", "member-live"), context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_role(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    form = UserRoleForm(request.POST)
    error = first_error(form) or attempt(
        request,
        lambda: services.user_role_update(
            org=request.org, user=user, role=form.cleaned_data["role"], actor=request.user
        ),
        doing="change the role",
        done=lambda: f"{user.label} is now {user.role}.",
    )
    return inline_result(request, error=error, fallback="orgadmin:members")


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_remove(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    error = attempt(
        request,
        lambda: services.user_remove(org=request.org, user=user, actor=request.user),
        doing=f"remove {user.label}",
        done=f"Removed {user.label} ({user.email}) from the organization.",
    )
    if error is None and request.POST.get("from") == "member" and request.htmx:
        return HttpResponseClientRedirect(reverse("orgadmin:members"))
    return inline_result(request, error=error, fallback="orgadmin:members")


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_project_add(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    form = MemberProjectAddForm(request.POST, org=request.org, user=user)
    error = first_error(form)
    if error is None:
        project, role = form.cleaned_data["project"], form.cleaned_data["role"]
        error = attempt(
            request,
            lambda: project_user_add(
                org=request.org, project=project, user=user, role=role, actor=request.user
            ),
            doing=f"add {user.label} to “{project.name}”",
            done=f"Added {user.label} to “{project.name}” as {role}.",
        )
    return inline_result(request, error=error, fallback="orgadmin:member", user_id=user.openai_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_group_add(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    group = OrgGroup.objects.filter(org=request.org, openai_id=request.POST.get("group")).first()
    error = "Choose a group." if group is None else None
    if group is not None:
        error = attempt(
            request,
            lambda: services.group_user_add(
                org=request.org, group=group, user=user, actor=request.user
            ),
            doing=f"add {user.label} to “{group.name}”",
            done=f"Added {user.label} to the group “{group.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:member", user_id=user.openai_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_role_assign(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    form = RoleAssignForm(request.POST, org=request.org, predefined=False)
    error = first_error(form)
    if error is None:
        role = form.cleaned_data["role"]
        error = attempt(
            request,
            lambda: services.user_role_assign(
                org=request.org, user=user, role=role, actor=request.user
            ),
            doing=f"give {user.label} the role “{role.name}”",
            done=f"Gave {user.label} the role “{role.name}”.",
        )
    return inline_result(request, error=error, fallback="orgadmin:member", user_id=user.openai_id)


@requires(Perm.MANAGE)
@require_POST
@with_org
def member_role_unassign(request: HttpRequest, user_id: str, role_id: str) -> HttpResponse:
    user = _get_user_or_404(request, user_id)
    error = attempt(
        request,
        lambda: services.user_role_unassign(
            org=request.org, user=user, role_id=role_id, actor=request.user
        ),
        doing="take the role away",
        done=f"Took the role away from {user.label}.",
    )
    return inline_result(request, error=error, fallback="orgadmin:member", user_id=user.openai_id)

"""Fill the directory cache directly, for tests of pages that must not depend on the API."""

from __future__ import annotations

import datetime as dt

from orgadmin.models import (
    ActionLog,
    AdminApiKey,
    Certificate,
    GroupMember,
    GroupRoleAssignment,
    Invite,
    OrgGroup,
    OrgRole,
    OrgSettings,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectGroup,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SpendAlert,
    UserRoleAssignment,
)

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def fill_cache(
    org, *, users: int = 6, projects: int = 3, keys_per_project: int = 2, actions: int = 3
) -> dict:
    """A small, complete directory: users (the first an owner), invites, projects with members,
    service accounts, keys, limits, certificates, alerts, groups and roles."""
    people = OrgUser.objects.bulk_create(
        OrgUser(
            org=org,
            openai_id=f"user-{n:04d}",
            email=f"person{n}@example.com",
            name=f"Person {n}",
            role="owner" if n == 0 else "reader",
            added_at=T0 + dt.timedelta(days=n),
        )
        for n in range(users)
    )
    Invite.objects.bulk_create(
        [
            Invite(
                org=org,
                openai_id="invite-1",
                email="new@example.com",
                role="reader",
                status="pending",
                created_at=T0,
                expires_at=T0 + dt.timedelta(days=7),
                projects=[{"id": "proj_0000", "role": "member"}],
            ),
            Invite(
                org=org,
                openai_id="invite-2",
                email="done@example.com",
                role="owner",
                status="accepted",
                created_at=T0,
                accepted_at=T0 + dt.timedelta(days=1),
            ),
            Invite(
                org=org,
                openai_id="invite-3",
                email="late@example.com",
                role="reader",
                status="expired",
                created_at=T0,
                expires_at=T0 + dt.timedelta(days=7),
            ),
        ]
    )
    cert = Certificate.objects.create(
        org=org,
        openai_id="cert_1",
        name="mTLS client",
        created_at=T0,
        valid_at=T0,
        expires_at=T0 + dt.timedelta(days=365),
        active=True,
    )
    made = []
    for p in range(projects):
        project = Project.objects.create(
            org=org,
            openai_id=f"proj_{p:04d}",
            name=f"Project {p}",
            status="archived" if p == projects - 1 and projects > 1 else "active",
            created_at=T0,
            spend_limit_cents=150000 if p == 0 else None,
            spend_limit_currency="USD",
            spend_limit_interval="month",
            spend_limit_enforcement="inactive",
            data_retention="organization_default",
            model_permissions_mode="allow_list" if p == 0 else "",
            model_ids=["gpt-4o-mini"] if p == 0 else [],
            hosted_tools={
                "file_search": True,
                "web_search": False,
                "image_generation": True,
                "mcp": False,
                "code_interpreter": True,
            },
        )
        made.append(project)
        ProjectUser.objects.bulk_create(
            ProjectUser(
                project=project,
                user_openai_id=u.openai_id,
                email=u.email,
                name=u.name,
                role="owner" if i == 0 else "member",
                added_at=T0,
            )
            for i, u in enumerate(people[: max(1, users // 2)])
        )
        account = ServiceAccount.objects.create(
            project=project,
            openai_id=f"svc_acct_{p:04d}",
            name=f"deploy-bot-{p}",
            role="member",
            created_at=T0,
        )
        ProjectApiKey.objects.create(
            org=org,
            project=project,
            openai_id=f"key_sa_{p:04d}",
            name="bot key",
            redacted_value="sk-svcacct-…zz",
            created_at=T0,
            owner_type="service_account",
            owner_id=account.openai_id,
            owner_name=account.name,
            owner_project_access="active",
        )
        for k in range(keys_per_project):
            owner = people[k % len(people)]
            ProjectApiKey.objects.create(
                org=org,
                project=project,
                openai_id=f"key_{p:04d}_{k:04d}",
                name=f"key {k}",
                redacted_value=f"sk-proj-…{k:04d}",
                created_at=T0 + dt.timedelta(hours=k),
                last_used_at=T0 + dt.timedelta(days=2) if k % 2 == 0 else None,
                owner_type="user",
                owner_id=owner.openai_id,
                owner_name=owner.name,
                owner_email=owner.email,
                owner_project_access="active",
            )
        RateLimit.objects.create(
            project=project,
            openai_id=f"rl-gpt-{p}",
            model="gpt-4o-mini",
            max_requests_per_1_minute=500,
            max_tokens_per_1_minute=200000,
            max_requests_per_1_day=10000,
            batch_1_day_max_input_tokens=2000000,
        )
        RateLimit.objects.create(
            project=project,
            openai_id=f"rl-img-{p}",
            model="dall-e-3",
            max_requests_per_1_minute=50,
            max_tokens_per_1_minute=0,
            max_images_per_1_minute=5,
        )
        ProjectCertificate.objects.create(
            project=project,
            certificate_openai_id=cert.openai_id,
            name=cert.name,
            created_at=T0,
            valid_at=T0,
            expires_at=cert.expires_at,
            active=p == 0,
        )
        SpendAlert.objects.create(
            org=org,
            project=project,
            openai_id=f"alert_p{p}",
            threshold_cents=50000,
            recipients=["finance@example.com"],
        )
    SpendAlert.objects.create(
        org=org,
        openai_id="alert_org",
        threshold_cents=1000000,
        recipients=["cfo@example.com", "finance@example.com"],
        subject_prefix="[OpenAI]",
    )
    OrgSettings.objects.create(
        org=org,
        spend_limit_cents=2500000,
        spend_limit_currency="USD",
        spend_limit_interval="month",
        spend_limit_enforcement="inactive",
        data_retention="zero_data_retention",
        settings_synced_at=T0,
    )
    AdminApiKey.objects.create(
        org=org,
        openai_id="key_admin_1",
        name="dashboard",
        redacted_value="sk-admin...wxyz",
        created_at=T0,
        owner_type="user",
        owner_id=people[0].openai_id,
        owner_name=people[0].name,
    )
    reader = OrgRole.objects.create(
        org=org,
        openai_id="role_reader",
        name="Reader",
        predefined=True,
        resource_type="api.organization",
        permissions=["api.organization.read"],
    )
    OrgRole.objects.create(
        org=org,
        openai_id="role_billing",
        name="Billing viewer",
        predefined=False,
        resource_type="api.organization",
        permissions=["api.usage.read", "api.billing.read"],
    )
    project_role = OrgRole.objects.create(
        org=org,
        openai_id="role_proj_member",
        name="Project member",
        predefined=True,
        resource_type="api.project",
        permissions=["api.project.read"],
    )
    group = OrgGroup.objects.create(
        org=org, openai_id="group_1", name="Data science", created_at=T0, group_type="group"
    )
    GroupMember.objects.create(
        group=group, user_openai_id=people[1].openai_id, name=people[1].name, email=people[1].email
    )
    GroupRoleAssignment.objects.create(group=group, role_openai_id=reader.openai_id)
    UserRoleAssignment.objects.create(
        org=org, user_openai_id=people[1].openai_id, role_openai_id="role_billing"
    )
    ProjectGroup.objects.create(
        project=made[0],
        group_openai_id=group.openai_id,
        group_name=group.name,
        group_type="group",
        created_at=T0,
    )
    ActionLog.objects.bulk_create(
        ActionLog(
            org=org,
            org_name=org.name,
            actor_name="alice-admin",
            action="project.update",
            resource_type="project",
            resource_id=made[0].openai_id,
            summary=f"Renamed the project (change {n})",
            request_id=f"req_{n:06d}",
            outcome="ok" if n % 5 else "error",
            error="" if n % 5 else "The OpenAI API answered with HTTP 500.",
        )
        for n in range(actions)
    )
    return {"users": people, "projects": made, "group": group, "project_role": project_role}

"""Roles per connection: RoleGrant, and each member of the old role groups (Admin, Finance,
Auditor) given that role for all connections, so that everyone keeps what they had. The groups
go: roles live in code, and a group membership would give a role behind the grants' back."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROLES = ("Admin", "Finance", "Auditor")


def groups_to_grants(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    RoleGrant = apps.get_model("orgadmin", "RoleGrant")
    for group in Group.objects.filter(name__in=ROLES):
        for user in User.objects.filter(groups=group):
            RoleGrant.objects.get_or_create(user=user, org=None, role=group.name)
        group.delete()


def grants_to_groups(apps, schema_editor):
    """Back to groups: roles for all connections become memberships; roles on one connection
    have no group to go to and are dropped (the old code sets the groups' permissions again
    at its next migrate)."""
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    RoleGrant = apps.get_model("orgadmin", "RoleGrant")
    Membership = User.groups.through
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        holders = RoleGrant.objects.filter(org__isnull=True, role=role).values_list(
            "user_id", flat=True
        )
        Membership.objects.bulk_create(
            [Membership(user_id=user_id, group_id=group.pk) for user_id in holders],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("orgadmin", "0005_api_capability_and_partial_runs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoleGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("Admin", "Admin"),
                            ("Finance", "Finance"),
                            ("Auditor", "Auditor"),
                        ],
                        max_length=20,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "org",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="role_grants",
                        to="orgadmin.organization",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="role_grants",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("org__isnull", False)),
                        fields=("user", "org", "role"),
                        name="role_grant_once_per_connection",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("org__isnull", True)),
                        fields=("user", "role"),
                        name="role_grant_once_for_all_connections",
                    ),
                ],
            },
        ),
        migrations.RunPython(groups_to_grants, grants_to_groups),
    ]

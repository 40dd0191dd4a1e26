"""Test data: users with a role (for all connections, or per connection), and connections."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from orgadmin.models import Organization
from orgadmin.services.roles import role_grant

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """`role=Role.FINANCE`: that role for all connections."""
        if create and extracted:
            role_grant(user=self, role=extracted)

    @factory.post_generation
    def roles_on(self, create, extracted, **kwargs):
        """`roles_on={org_a: Role.FINANCE, org_b: Role.ADMIN}`: a role on each connection."""
        if create and extracted:
            for org, role in extracted.items():
                role_grant(user=self, role=role, org=org)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Org {n}")
    base_url = "http://simulator.test/v1"
    status = Organization.Status.OK
    admin_key = "sk-admin-test-key-0000000000000000abcd"

    @classmethod
    def _create(cls, model_class, *args, admin_key: str, **kwargs):
        org = model_class(*args, **kwargs)
        org.set_admin_key(admin_key)
        org.save()
        return org

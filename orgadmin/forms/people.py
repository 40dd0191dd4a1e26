"""People: the list's filters, inviting a colleague, giving a role, accepting an invitation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from orgadmin.access import ROLE_DESCRIPTIONS, Role
from orgadmin.models import Organization
from orgadmin.selectors.people import username_taken

ALL_CONNECTIONS = "all"


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Everyone"), ("active", "Active"), ("deactivated", "Deactivated")],
    )


class RoleWhereForm(forms.Form):
    """A dashboard role and where it holds: on one connection, or on all of them. The
    connections offered are the ones the person filling it in may give roles on."""

    role = forms.ChoiceField(
        label="Role",
        choices=[(r.value, r.value) for r in Role],
        help_text=" ".join(f"{r.value}: {ROLE_DESCRIPTIONS[r]}" for r in Role),
    )
    connection = forms.ChoiceField(label="On")

    def __init__(
        self, *args: Any, connections: list[Organization], all_connections: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connections = {str(o.pk): o for o in connections}
        choices = [(ALL_CONNECTIONS, "All connections")] if all_connections else []
        self.fields["connection"].choices = choices + [
            (k, o.name) for k, o in self.connections.items()
        ]

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])

    def clean_connection(self) -> Organization | None:
        """The connection (an Organization), or None for all of them."""
        value = self.cleaned_data["connection"]
        return None if value == ALL_CONNECTIONS else self.connections[value]


class PersonInviteForm(RoleWhereForm):
    email = forms.EmailField(label="Email", max_length=254)

    field_order = ["email", "role", "connection"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class AcceptForm(forms.Form):
    """The invited person's username, name and password (no password under SSO_ONLY: they
    sign in through single sign-on)."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        validators=[get_user_model().username_validator],
        help_text="Letters, digits and @ . + - _ only. You sign in with it or with your email.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    name = forms.CharField(
        label="Your name",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, with_password: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        if not with_password:
            del self.fields["password1"], self.fields["password2"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if username_taken(username=username):
            raise ValidationError("This username is taken: choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if "password1" not in self.fields or not first:
            return data
        if second is not None and first != second:
            self.add_error("password2", "The two passwords differ.")
            return data
        name = data.get("name", "")
        person = get_user_model()(
            username=data.get("username", ""), email=self.email, first_name=name
        )
        try:
            password_validation.validate_password(first, person)
        except ValidationError as exc:
            self.add_error("password1", exc)
        return data

    @property
    def password(self) -> str | None:
        return self.cleaned_data.get("password1") if "password1" in self.fields else None

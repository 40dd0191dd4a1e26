"""Access review forms: validation only (starting a campaign; one decision)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from orgadmin.models import Organization
from orgadmin.reviews import selectors
from orgadmin.reviews.models import Item


class CampaignForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=200, help_text="For example “Q4 2026 access review”."
    )
    scope = forms.ChoiceField(
        label="Projects",
        choices=[("all", "Every active project"), ("chosen", "Only the projects chosen below")],
        initial="all",
        widget=forms.RadioSelect,
    )
    projects = forms.MultipleChoiceField(
        label="Chosen projects", required=False, widget=forms.CheckboxSelectMultiple
    )
    due_on = forms.DateField(
        label="Due",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Reminders go out daily to reviewers with items left until the campaign closes.",
    )
    reviewers = forms.ChoiceField(
        label="Reviewers",
        choices=[
            ("owner", "Each project's owners (the people below review projects without one)"),
            ("named", "The people chosen below, for every project"),
        ],
        initial="owner",
        widget=forms.RadioSelect,
    )
    people = forms.MultipleChoiceField(
        label="People", required=False, widget=forms.CheckboxSelectMultiple
    )
    auto_revoke = forms.BooleanField(
        label="Carry out revocations automatically",
        required=False,
        help_text="Each revoke decision goes to OpenAI at once; otherwise an Admin carries "
        "them out from the campaign page.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people_by_pk = {str(p.pk): p for p in selectors.connection_people(org=org)}
        self.fields["projects"].choices = [
            (p.openai_id, p.name or p.openai_id) for p in selectors.active_projects(org=org)
        ]
        self.fields["people"].choices = [
            (pk, p.get_username() + (f" ({p.email})" if p.email else ""))
            for pk, p in self.people_by_pk.items()
        ]
        if not self.is_bound:
            self.fields["due_on"].initial = timezone.localdate() + dt.timedelta(days=14)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the campaign a name.")
        return name

    def clean_due_on(self) -> dt.date:
        due = self.cleaned_data["due_on"]
        if due <= timezone.localdate():
            raise forms.ValidationError("Pick a day after today.")
        return due

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scope") == "chosen" and not data.get("projects"):
            self.add_error("projects", "Choose at least one project.")
        if data.get("reviewers") == "named" and not data.get("people"):
            self.add_error("people", "Choose at least one reviewer.")
        return data

    @property
    def chosen_people(self) -> list[Any]:
        return [self.people_by_pk[pk] for pk in self.cleaned_data.get("people", [])]


class DecisionForm(forms.Form):
    item_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    decision = forms.ChoiceField(label="Decision", choices=Item.Decision.choices)
    comment = forms.CharField(label="Comment", max_length=1000, required=False)

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"]
        return "".join(c for c in comment if c >= " " or c in "\n\t").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == Item.Decision.REVOKE and not data.get("comment"):
            self.add_error("comment", "Say why it should be revoked.")
        return data

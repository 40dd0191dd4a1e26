"""The Chargeback pages, under /chargeback/ (dashboard/urls.py includes them; no namespace)."""

from __future__ import annotations

from django.urls import path, register_converter

from dashboard.chargeback import views


class SheetFormat:
    """`csv` or `xlsx`: the chargeback report's two files."""

    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SheetFormat, "sheet")

urlpatterns = [
    path("", views.chargeback, name="chargeback"),
    path("export.<sheet:fmt>", views.chargeback_export, name="chargeback_export"),
    path("close/", views.chargeback_close, name="chargeback_close"),
    path("reopen/", views.chargeback_reopen, name="chargeback_reopen"),
    path("centres/", views.cost_centres, name="cost_centres"),
    path("centres/add/", views.centre_add, name="centre_add"),
    path("centres/<int:centre_id>/edit/", views.centre_edit, name="centre_edit"),
    path("centres/<int:centre_id>/remove/", views.centre_remove, name="centre_remove"),
    path("assignments/add/", views.assignment_add, name="assignment_add"),
    path(
        "assignments/<int:assignment_id>/remove/",
        views.assignment_remove,
        name="assignment_remove",
    ),
    path("rules/add/", views.rule_add, name="rule_add"),
    path("rules/<int:rule_id>/remove/", views.rule_remove, name="rule_remove"),
]

"""The Budgets pages, under /budgets/ (dashboard/urls.py includes them; no namespace)."""

from __future__ import annotations

from django.urls import path

from dashboard.budgets import views

urlpatterns = [
    path("", views.budgets, name="budgets"),
    path("add/", views.budget_add, name="budget_add"),
    path("<int:budget_id>/edit/", views.budget_edit, name="budget_edit"),
    path("<int:budget_id>/remove/", views.budget_remove, name="budget_remove"),
]

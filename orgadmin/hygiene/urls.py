from __future__ import annotations

from django.urls import path

from orgadmin.hygiene import views

urlpatterns = [
    path("", views.hygiene, name="hygiene"),
    path("check/", views.hygiene_check, name="hygiene_check"),
    path("thresholds/", views.hygiene_thresholds, name="hygiene_thresholds"),
    path("findings/<int:finding_id>/outcome/", views.hygiene_outcome, name="hygiene_outcome"),
    path("revoke/", views.hygiene_revoke_preview, name="hygiene_revoke_preview"),
    path("revoke/confirm/", views.hygiene_revoke, name="hygiene_revoke"),
]

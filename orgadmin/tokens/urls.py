from __future__ import annotations

from django.urls import path

from orgadmin.tokens import views

urlpatterns = [
    path("", views.access_tokens, name="access_tokens"),
    path("create/", views.access_token_create, name="access_token_create"),
    path("revoke/", views.access_token_revoke, name="access_token_revoke"),
]

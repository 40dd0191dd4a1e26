from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views
from orgadmin.views.connections import healthz

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, http_method_names=["get", "post"]
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("", include("orgadmin.urls")),
]

"""The provider's URLs: its sign-in page, and django-oauth-toolkit's under /o/ (the issuer)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as oauth2_urls

# Only what an OpenID Connect provider serves: no application management pages.
provider_urls = (oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns, "oauth2_provider")

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include(provider_urls, namespace="oauth2_provider")),
]

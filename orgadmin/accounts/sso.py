"""OpenID Connect sign-in as allauth does it, with the ID token's signature always checked
against the provider's JWKS, and the pages that post to it allowed to go on to the provider.

allauth skips that check when the ID token came straight from the token endpoint, which OpenID
Connect Core (3.1.3.7) allows over TLS. We check it anyway: OIDC_SERVER_URL may be plain http (a
lab, a test provider) or reached through a proxy that ends TLS, and a token changed on the way
would then sign in whoever it names. The price is one JWKS fetch per sign-in.
tests/browser/test_oidc_sign_in.py signs in through a real provider, and sees a token signed with
a key its JWKS doesn't hold refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse


class SignatureCheckingAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


def provider_form_action(response: HttpResponse) -> HttpResponse:
    """Let a page's forms lead to the identity provider. Its "Sign in with …" button posts to
    `login` below, which redirects to the provider's authorization endpoint, and browsers hold
    that redirect to the page's CSP `form-action` ('self' alone would stop it). The endpoint is
    taken to be on the issuer's origin, as it is at Keycloak, Okta, Entra ID and Google."""
    if settings.OIDC_SERVER_URL:
        issuer = urlsplit(settings.OIDC_SERVER_URL)
        response._csp_update = {"form-action": [f"{issuer.scheme}://{issuer.netloc}"]}  # type: ignore[attr-defined]
    return response


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's openid_connect login, with the adapter above (a GET shows a page whose button
    posts here again)."""
    try:
        view = OAuth2LoginView.adapter_view(SignatureCheckingAdapter(request, provider_id))
        return provider_form_action(view(request))
    except SocialApp.DoesNotExist as e:
        raise Http404 from e


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's openid_connect callback, with the adapter above."""
    try:
        view = OAuth2CallbackView.adapter_view(SignatureCheckingAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as e:
        raise Http404 from e

"""What this provider says about a person, and the forged client's signature."""

from __future__ import annotations

import base64

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.oidc_provider import FORGED_CLIENT_ID
from tests.oidc_provider.settings import new_rsa_key_pem

# Not in the JWKS: no relying party can check a signature made with it.
IMPOSTOR_KEY = jwk.JWK.from_pem(new_rsa_key_pem().encode())


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Validator(OAuth2Validator):
    # `groups` comes with `openid`, as a group-membership mapper sends it (Keycloak, Entra ID).
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "openid"}

    def get_additional_claims(self) -> dict:
        return {
            "preferred_username": lambda request: request.user.get_username(),
            "name": lambda request: request.user.get_full_name(),
            "email": lambda request: request.user.email,
            "email_verified": lambda request: True,
            "groups": lambda request: sorted(request.user.groups.values_list("name", flat=True)),
        }

    def finalize_id_token(self, id_token, token, token_handler, request) -> str:
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if request.client.client_id != FORGED_CLIENT_ID:
            return signed
        # The same header (naming the published key) and claims, signed with another key.
        header, claims, _ = signed.split(".")
        forged = jwt.JWT(header=_b64decode(header).decode(), claims=_b64decode(claims).decode())
        forged.make_signed_token(IMPOSTOR_KEY)
        return forged.serialize()

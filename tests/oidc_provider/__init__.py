"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit in a small
Django project of its own (settings, URLs, a SQLite database in a temporary directory, an RSA key
made at start), run as a separate process: `python -m tests.oidc_provider --redirect-uri URL`.

It knows one person, with a password and the groups `finance` and `staff` (the ID token's
`groups` claim), and two confidential clients for the dashboard, both with PKCE (S256) required:
`dashboard`, whose ID tokens are signed with the key its JWKS publishes, and `dashboard-forged`,
whose ID tokens name that key but are signed with another one (a token the dashboard must refuse).
"""

from __future__ import annotations

CLIENT_ID = "dashboard"
FORGED_CLIENT_ID = "dashboard-forged"
CLIENT_SECRET = "dashboard-secret-for-the-test-provider-only"

USERNAME = "fiona"
PASSWORD = "idp password for fiona, tests only"
EMAIL = "fiona@example.com"
NAME = "Fiona Finance"
GROUPS = ("finance", "staff")

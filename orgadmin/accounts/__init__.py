"""Signing in, on django-allauth: local accounts (username or email and a password), TOTP and
recovery codes, OpenID Connect single sign-on with roles from the identity provider, and step-up
re-authentication before the most dangerous actions.

- `adapters`: allauth's hooks (who may sign in how, the lock-out's counting, SSO provisioning,
  TOTP secrets encrypted at rest);
- `oidc`: OIDC_ROLE_MAP and the roles a set of claims gives (no Django inside);
- `stepup`: `step_up(request)` and `@step_up_required`;
- `middleware`: MFA enrolment for Admins (REQUIRE_MFA_FOR_ADMINS), step-up for htmx;
- `urls`: the part of allauth this site offers, each view guarded as the access matrix says.
"""

"""Settings for OpenAI Org Dashboard, read from the environment (and `.env` when present).

Every variable is listed in `.env.example` and in the README. Defaults are the embedded ones:
SQLite under `var/`, and a Celery broker and result backend on SQLite that need no server.
Production differs from the demo only by environment.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """`NAME=` with nothing after it means NAME's default, as for a NAME not set at all: a copy
    of .env.example, which lists every setting, then keeps every default (`HTTPS=` on, say)."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        blank = not str(self.ENVIRON.get(f"{self.prefix}{var}", "set")).strip()
        if blank and default is not self.NOTSET:
            return self.parse_value(default, cast) if parse_default else default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = _Env()
# A local `.env` (written by `make run`) fills in what the real environment does not set.
# The test suite turns this off so that a developer's `.env` can't change its results.
if env.bool("READ_DOT_ENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime data of the embedded defaults (SQLite files, Celery broker, beat schedule).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
# Created for this user only: it holds the SQLite databases (and so the encrypted admin keys).
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-set"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications --------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    # Sign-in: local accounts, TOTP and recovery codes, OpenID Connect (orgadmin/accounts/).
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "orgadmin",
    # Personal read-only access tokens for BI tools, for the exports only (orgadmin/tokens/).
    "orgadmin.tokens",
    # Key and access hygiene: findings, outcomes, bulk revoke (orgadmin/hygiene/).
    "orgadmin.hygiene",
    # Who can reach which project, its history and changes (orgadmin/access_matrix/).
    "orgadmin.access_matrix",
    # Access review campaigns: decisions, revocations, reminders, evidence (orgadmin/reviews/).
    "orgadmin.reviews",
    "dashboard",
    # Alert channels (Slack, Teams, Discord, email, signed webhooks) and their deliveries.
    "dashboard.alerts",
    # Budgets per period and scope, their thresholds and forecast alerts (dashboard/budgets/).
    "dashboard.budgets",
    # Digests each person picks: Finance weekly and monthly, Auditor weekly (dashboard/digests/).
    "dashboard.digests",
    # Cost per person, key and model from usage × the bill's unit prices (dashboard/attribution/).
    "dashboard.attribution",
    # Cost centres, shared-cost rules, the monthly chargeback report, closed months
    # (dashboard/chargeback/).
    "dashboard.chargeback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After allauth's: turns its "re-authenticate first" into an HX-Redirect for htmx requests.
    "orgadmin.accounts.middleware.StepUpMiddleware",
    "orgadmin.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "orgadmin.accounts.middleware.RequireMFAMiddleware",
    "orgadmin.middleware.CurrentOrganizationMiddleware",
    # After it: `Authorization: Bearer odt_…` reads an export as its person, or is refused.
    "orgadmin.tokens.middleware.AccessTokenMiddleware",
    # After it: a page the connection's API can't do says where it is managed instead.
    "orgadmin.middleware.ProviderCapabilityMiddleware",
    "orgadmin.middleware.HtmxMessagesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
# A refused form post (no or a stale CSRF token) gets the product's page, with a way back.
CSRF_FAILURE_VIEW = "orgadmin.views.errors.csrf_failure"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "orgadmin.context_processors.navigation",
                # A flagged alert channel, on every page of the connection's Admins.
                "dashboard.alerts.context_processors.failing_channels",
                # One CSRF token per request, whatever renders it (for the page cache).
                "orgadmin.context_processors.csrf",
            ],
            # {% partialdef %} in every template without a {% load %}.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- mail --------------------------------------------------------------------------

# Invitations and password resets. EMAIL_URL is django-environ's: `smtp+tls://user:password@host:587`
# in production, `consolemail://` (the default: printed in the web process's log) for the demo.
# With the console or in-memory backend the People page also shows a new invitation's link.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="OpenAI Org Dashboard <dashboard@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The dashboard's address as people open it: the links in digests (sent from a worker, with no
# request to read it from) start with it.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
EMAIL_TIMEOUT = 20

# --- data ----------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a Celery worker writes; IMMEDIATE transactions and a
    # busy timeout make concurrent writers wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# The Costs, Usage and Overview pages are served from a cache of their own until something on
# them changes (dashboard/page_cache.py), for at most PAGE_CACHE_SECONDS (0 turns it off). In each
# process's memory by default: its keys carry the data's generation, so no process serves a page
# the database has moved past; PAGE_CACHE_URL (e.g. Redis) shares them between workers.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)
PAGE_CACHE_ALIAS = "pages"
CACHES[PAGE_CACHE_ALIAS] = env.cache_url("PAGE_CACHE_URL", default="locmemcache://pages")
CACHES[PAGE_CACHE_ALIAS].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 500)

# --- auth ----------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # allauth's sign-in (username or email); permissions per (person, connection) from their
    # role grants.
    "orgadmin.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-allauth: sign in by username or email; accounts are made by Admins (or by single sign-on
# on a first sign-in), never by signing up.
ACCOUNT_ADAPTER = "orgadmin.accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "orgadmin.forms.sign_in.SignInForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False  # the session ends with the browser, as SESSION_EXPIRE_AT_...
ACCOUNT_LOGOUT_ON_GET = False
# Step-up: the most dangerous actions want a password or a TOTP code from the last few minutes
# (orgadmin/accounts/stepup.py); a sign-in that recent counts too.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=300)
# Wrong passwords are locked out by django-axes (per username and address) and capped per site
# (SIGN_IN_ATTEMPTS_PER_MINUTE): the adapter leaves allauth's own password count out. allauth's
# "login_failed" still counts wrong TOTP and recovery codes, per person.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "reauthenticate": "10/m/user"}
# allauth's rate limits read the client's address as the lock-out does (see TRUSTED_PROXY_COUNT).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# TOTP (authenticator apps) and single-use recovery codes; the secrets are encrypted at rest with
# FIELD_ENCRYPTION_KEYS (orgadmin.accounts.adapters.MFAAdapter).
MFA_ADAPTER = "orgadmin.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="OpenAI Org Dashboard")
MFA_RECOVERY_CODES_SHOW_ONCE = True
# An Admin (on any connection) or a superuser without TOTP is sent to enrol before anything else.
REQUIRE_MFA_FOR_ADMINS = env.bool("REQUIRE_MFA_FOR_ADMINS", default=False)

# Invitations to the dashboard (the People page): a link works once, for this many days.
INVITE_TTL_DAYS = env.int("INVITE_TTL_DAYS", default=7)
if INVITE_TTL_DAYS < 1:
    raise ImproperlyConfigured("INVITE_TTL_DAYS is a number of days: 1 or more.")
# Invitations and password resets are mailed with allauth's and Django's mail: nobody learns of
# an address they don't have. Nothing needs a verification mail: an Admin vouched for it.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False

# OpenID Connect single sign-on, from the environment (README: "Single sign-on"). Off while
# OIDC_SERVER_URL is empty. People are provisioned on their first sign-in (OIDC_AUTO_PROVISION),
# and their dashboard roles follow OIDC_ROLE_MAP at every sign-in.
OIDC_PROVIDER_ID = env.str("OIDC_PROVIDER_ID", default="sso")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="Single sign-on")
OIDC_SERVER_URL = env.str("OIDC_SERVER_URL", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env.list("OIDC_SCOPES", default=["openid", "profile", "email"])
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP = env.str("OIDC_ROLE_MAP", default="")
OIDC_AUTO_PROVISION = env.bool("OIDC_AUTO_PROVISION", default=True)
# Password sign-in off for everyone but superusers (break-glass): single sign-on only.
SSO_ONLY = env.bool("SSO_ONLY", default=False)
if SSO_ONLY and not OIDC_SERVER_URL:
    raise ImproperlyConfigured("SSO_ONLY needs single sign-on: set OIDC_SERVER_URL too.")
SOCIALACCOUNT_ADAPTER = "orgadmin.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
# A verified email from the identity provider signs in the local account that has it.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": OIDC_PROVIDER_ID,
                "name": OIDC_PROVIDER_NAME,
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": {"server_url": OIDC_SERVER_URL, "scope": OIDC_SCOPES},
            }
        ]
        if OIDC_SERVER_URL
        else [],
    }
}

# Sessions expire after SESSION_COOKIE_AGE of inactivity, and when the browser closes. A session
# in use is written again once every SESSION_REFRESH_SECONDS at most (SessionActivityMiddleware),
# not on every request: a page view is then read-only for the database.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Access tokens (orgadmin/tokens/): the longest a person may make one live, in days, and how
# many requests one token may make in a minute (counted in CACHES["default"]).
ACCESS_TOKEN_MAX_DAYS = env.int("ACCESS_TOKEN_MAX_DAYS", default=365)
ACCESS_TOKEN_REQUESTS_PER_MINUTE = env.int("ACCESS_TOKEN_REQUESTS_PER_MINUTE", default=60)

# Login throttling (django-axes): lock a username+address pair after repeated failures, so that
# wrong passwords for "admin" from one address never lock out the real admin at another.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The sign-in form's "login" (a username or an email, any case), as the lock-out counts it.
AXES_USERNAME_CALLABLE = "orgadmin.accounts.lockout.username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# The client's address (django-ipware, for the lock-out). Behind TRUSTED_PROXY_COUNT reverse
# proxies, each appending the address it was reached from to X-Forwarded-For, the client is that
# many entries from the header's right end; entries further left are whatever the client sent.
# Without a proxy the header is ignored (anyone can send one): only the socket's address counts.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is a number of proxies: 0 or more.")
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    # ipware counts the proxies listed in the header: all but the nearest, whose address is
    # REMOTE_ADDR. Not strict: a longer header (a client-sent prefix) still has our proxies' part.
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Sign-in attempts the whole site takes per clock minute, from all clients together: guessing
# spread over many addresses gets past the per-address lock-out, not past this. 0 turns it off.
SIGN_IN_ATTEMPTS_PER_MINUTE = env.int("SIGN_IN_ATTEMPTS_PER_MINUTE", default=30)

# --- HTTPS and browser hardening -----------------------------------------------

HTTPS = env.bool("HTTPS", default=not DEBUG)
# The OpenID Connect redirect URI allauth builds: https behind HTTPS.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# No script runs unless it comes from our own static files: no inline scripts, no eval.
# Plotly writes inline styles, so styles allow 'unsafe-inline' (scripts never do).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- static files ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, hashed file names, served by WhiteNoise with far-future cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- i18n --------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- secrets at rest ------------------------------------------------------------


def _encryption_keys() -> list[str]:
    keys = env.list("FIELD_ENCRYPTION_KEYS", default=[])
    if keys:
        return keys
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())").'
        )
    # Development only: derive a stable key from SECRET_KEY so a bare checkout still runs.
    return [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]


# Admin keys are encrypted with MultiFernet: the first key encrypts, every key decrypts,
# so a new key can be put in front and old rows re-encrypted with `manage.py rotate_keys`.
FIELD_ENCRYPTION_KEYS = _encryption_keys()

# --- the OpenAI Admin API ------------------------------------------------------------

OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=4)
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=60.0)
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
# The only hosts a connection may send its admin key to (orgadmin/client.py checks every base
# URL): `host` or `host:port` over https; `http://host:port` also lets plain http through with
# DEBUG off (a simulator or a gateway on this machine); an address or range (`10.20.0.0/16`)
# lets a listed name resolve there, since loopback, private and link-local addresses are refused
# otherwise. With DEBUG on, the built-in simulator (http://127.0.0.1:SIMULATOR_PORT) is allowed.
ALLOWED_API_HOSTS = env.list("ALLOWED_API_HOSTS", default=["api.openai.com", "management-api.x.ai"])
# xAI's Management API (an xAI team's connection; orgadmin/xai/client.py): the attempts of one
# call on 429, 5xx and network errors (Retry-After honoured), and the seconds before it times out.
XAI_MAX_ATTEMPTS = env.int("XAI_MAX_ATTEMPTS", default=5)
XAI_TIMEOUT = env.float("XAI_TIMEOUT", default=60.0)
# A sync run holds a lease on its (organization, kind) for this long, renewed at every page; a
# worker killed mid-run blocks the next run for at most this long.
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=300)
# Each audit log run re-reads this much before its watermark, for events the API records late.
AUDIT_LOG_OVERLAP_SECONDS = env.int("AUDIT_LOG_OVERLAP_SECONDS", default=900)

# --- usage and costs ------------------------------------------------------------------------

# Recent buckets keep changing for a while: every run fetches this many hours before the
# watermark again.
USAGE_SETTLE_HOURS = env.int("USAGE_SETTLE_HOURS", default=48)
# Reconciliation (dashboard/attribution/): the share of a day's bill, in percent, that may stay
# unexplained by usage (besides line items with no user or key) before the day is flagged.
ATTRIBUTION_TOLERANCE_PERCENT = env.float("ATTRIBUTION_TOLERANCE_PERCENT", default=2.0)
# How far back the first sync of a connection goes.
USAGE_BACKFILL_DAYS = env.int("USAGE_BACKFILL_DAYS", default=90)
# The SDK's retries per page in a sync (429 with Retry-After is honoured; 429 without it, 5xx,
# timeouts and dropped connections back off exponentially). Bounded: a quota 429 fails the run.
USAGE_SYNC_MAX_RETRIES = env.int("USAGE_SYNC_MAX_RETRIES", default=5)
USAGE_SYNC_TIMEOUT = env.float("USAGE_SYNC_TIMEOUT", default=30.0)
# An optional parameter the API refused (HTTP 400) is left out of later requests, and asked for
# again once this many hours have passed since it was last refused.
API_CAPABILITY_RECHECK_HOURS = env.int("API_CAPABILITY_RECHECK_HOURS", default=24)

# --- alert channels ---------------------------------------------------------------------

# A delivery is tried this many times (backoff: ALERT_RETRY_BASE_SECONDS, doubled each time, at
# most ALERT_RETRY_MAX_SECONDS), then given up; a channel whose last ALERT_CHANNEL_FLAG_AFTER
# deliveries were given up is flagged on every page of its connections' Admins.
ALERT_DELIVERY_MAX_ATTEMPTS = env.int("ALERT_DELIVERY_MAX_ATTEMPTS", default=5)
ALERT_RETRY_BASE_SECONDS = 30
ALERT_RETRY_MAX_SECONDS = 15 * 60
ALERT_CHANNEL_FLAG_AFTER = env.int("ALERT_CHANNEL_FLAG_AFTER", default=1)
# Seconds a webhook POST may take before the attempt counts as failed.
ALERT_SEND_TIMEOUT = 10.0
# Hosts (`host` or `host:port`) a webhook may reach over plain http and on this machine or its
# network, e.g. a receiver beside the dashboard; every other webhook is https to public addresses.
ALERT_WEBHOOK_HTTP_HOSTS = env.list("ALERT_WEBHOOK_HTTP_HOSTS", default=[])

# --- Celery ----------------------------------------------------------------------------

# The embedded default: kombu's SQLAlchemy transport and Celery's database result backend, both
# on SQLite files under var/, shared by the web process, the worker and beat.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}"
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# A starting worker queues the first syncs of every connection that never had them.
FIRST_SYNC_ON_WORKER_START = env.bool("FIRST_SYNC_ON_WORKER_START", default=True)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # 23 * * * *  (hourly): re-verify every connection, so a revoked key shows up on the pages.
    "verify-connections": {
        "task": "orgadmin.tasks.verify_connections",
        "schedule": crontab(minute=23),
    },
    # */5 * * * *: fetch new audit log events of every connection, from each one's watermark.
    "sync-audit-logs": {
        "task": "orgadmin.tasks.sync_audit_logs",
        "schedule": crontab(minute="*/5"),
    },
    # 7 * * * *  (hourly): incremental usage and cost sync of every connection.
    "sync-usage": {
        "task": "dashboard.tasks.sync_usage_all",
        "schedule": crontab(minute=7),
    },
    # */15 * * * *  (every 15 minutes): refresh every connection's directory cache.
    "sync-directories": {
        "task": "orgadmin.tasks.sync_directories",
        "schedule": crontab(minute="*/15"),
    },
    # 1-59/15 * * * *  (every 15 minutes): send the digests due (Mondays and the 1st, 08:00 in
    # each connection's reporting timezone) and retry those that failed.
    "send-digests": {
        "task": "dashboard.digests.tasks.digests_tick",
        "schedule": crontab(minute="1-59/15"),
    },
    # 8-59/15 * * * *  (every 15 minutes): queue again the alert and digest deliveries whose
    # task was lost (a broker that refused it, a worker that died with it).
    "resume-alert-deliveries": {
        "task": "dashboard.alerts.tasks.resume_deliveries",
        "schedule": crontab(minute="8-59/15"),
    },
    # 41 8-17 * * *  (hourly, 08:41-17:41 UTC): remind the reviewers of open access reviews
    # with items undecided; each reviewer at most once a day per campaign (the first run).
    "review-reminders": {
        "task": "orgadmin.reviews.tasks.review_reminders",
        "schedule": crontab(minute=41, hour="8-17"),
    },
}

# --- logging ----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler formats with RedactingFormatter, which redacts keys from the whole text it
    # writes: message, arguments, traceback and stack. Celery's worker and beat keep this config
    # (dashboard/celery.py).
    "formatters": {
        "plain": {
            "class": "orgadmin.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
        "gunicorn": {
            "class": "orgadmin.logging.RedactingFormatter",
            "format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
        },
    },
    # A refused request (4xx) is one line without a traceback; a 5xx keeps its traceback. On
    # django.request (where 403s get theirs) and on every handler (django.security.* too).
    "filters": {"refused_one_line": {"()": "orgadmin.logging.RefusedRequestsOneLine"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["refused_one_line"],
        },
        "gunicorn": {
            "class": "logging.StreamHandler",
            "formatter": "gunicorn",
            "filters": ["refused_one_line"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers would print django.* a second time, unredacted, under DEBUG (and
        # mail tracebacks to ADMINS): only ours.
        "django": {"handlers": []},
        "django.request": {"filters": ["refused_one_line"]},
        # A web worker's gunicorn error log (errors outside Django's handling), in gunicorn's own
        # format on stderr, redacted.
        "gunicorn.error": {"handlers": ["gunicorn"], "propagate": False},
        # httpx logs every request line at INFO; keep it for debugging only.
        "httpx": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

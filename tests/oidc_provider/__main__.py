"""`python -m tests.oidc_provider --port N --redirect-uri URL`: serve the test identity provider
until SIGTERM. Prints `Issuer: http://127.0.0.1:N/o` once it answers."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log: the tests read stdout for the issuer line only."""


def seed(*, redirect_uris: list[str]) -> None:
    """The person, their groups, and the dashboard's two clients."""
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    from tests import oidc_provider as idp

    person = User.objects.create_user(
        idp.USERNAME, idp.EMAIL, idp.PASSWORD, first_name=idp.NAME.split()[0], last_name="Finance"
    )
    person.groups.set(Group.objects.create(name=name) for name in idp.GROUPS)
    for client_id in (idp.CLIENT_ID, idp.FORGED_CLIENT_ID):
        Application.objects.create(
            name="OpenAI Org Dashboard",
            client_id=client_id,
            client_secret=idp.CLIENT_SECRET,  # stored hashed
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(redirect_uris),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=False,  # the consent page, as most providers show the first time
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.oidc_provider")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    args = parser.parse_args(argv)

    # SIGTERM ends serve_forever() by an exception, so the temporary directory goes too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as directory:
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
        os.environ["OIDC_PROVIDER_DATABASE"] = os.path.join(directory, "provider.sqlite3")
        import django
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application

        django.setup()
        call_command("migrate", run_syncdb=True, verbosity=0)
        seed(redirect_uris=args.redirect_uris)
        server = _Server(("127.0.0.1", args.port), _QuietHandler)
        server.set_app(get_wsgi_application())
        print(f"Issuer: http://127.0.0.1:{server.server_port}/o", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()


if __name__ == "__main__":
    main()

"""`manage.py simulate_xai`: serve the xAI Management API simulator over HTTP."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.simulator.server import RefusedToServe
from orgadmin.xai.simulator.__main__ import add_arguments, run_options
from orgadmin.xai.simulator.server import run


class Command(BaseCommand):
    help = "Serve the xAI Management API simulator (base URL http://127.0.0.1:8002)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run(
                **run_options(options),
                debug=settings.DEBUG,
                write=lambda line: self.stdout.write(line),
                warn=lambda line: self.stderr.write(line),
            )
        except RefusedToServe as refused:
            raise CommandError(str(refused)) from None

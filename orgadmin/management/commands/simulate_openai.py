"""`manage.py simulate_openai`: serve the OpenAI Admin API simulator over HTTP."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.simulator.__main__ import add_arguments, quirks_of
from orgadmin.simulator.server import RefusedToServe, run


class Command(BaseCommand):
    help = "Serve the OpenAI Admin API simulator (base URL http://127.0.0.1:PORT/v1)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run(
                host=options["host"],
                port=options["port"],
                scenario=options["scenario"],
                seed=options["seed"],
                fault_rate=options["faults"],
                latency_ms=options["latency_ms"],
                admin_key=options["admin_key"],
                quirks=quirks_of(options["quirks"], strict_costs=options["strict_costs"]),
                key_permissions=options["key_permissions"],
                surges=options["spike"],
                debug=settings.DEBUG,
                force=options["force"],
                write=lambda line: self.stdout.write(line),
                warn=lambda line: self.stderr.write(line),
            )
        except RefusedToServe as refused:
            raise CommandError(str(refused)) from None

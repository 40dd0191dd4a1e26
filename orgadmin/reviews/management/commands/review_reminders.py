"""`manage.py review_reminders`: what the beat's `review-reminders` entry runs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from orgadmin.reviews.reminders import reminders_send_all


class Command(BaseCommand):
    help = "Remind the reviewers of every open access review (at most once a day each)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = reminders_send_all()
        self.stdout.write(f"Reminded {count} reviewers.")

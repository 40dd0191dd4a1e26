"""Cost centres and what is charged to them: assignments (a key, a person or a project → a
centre), shared-cost rules, and the snapshots of closed months.

Precedence, for each cost line: an API key's assignment, else its person's (a user id of the
OpenAI organization; only attributed cost has one), else its project's. A project with a
shared rule is split by the rule instead of going to one centre (a key or a person assigned
elsewhere still wins). What no assignment places and is part of the unattributed remainder is
split by the remainder rule, if there is one; anything else is "Unallocated" on the report, so
the report always adds up to the bill.

A closed month keeps its report as stored rows (ClosedLine) and the billed cost it was made of
(ClosedBase, per project and key at full precision); a later revision of its buckets shows as
adjustment lines in the next open month (dashboard/chargeback/report.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.models import ScaledDecimalField
from orgadmin.models import Organization


class CostCentre(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=40, blank=True, help_text="The ledger's code, if any.")
    owner = models.CharField(max_length=200, blank=True, help_text="Who answers for it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="cost_centre_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One project, API key or person (user id) charged to a centre."""

    class Kind(models.TextChoices):
        API_KEY = "api_key", "API key"
        USER = "user", "Person"
        PROJECT = "project", "Project"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=100, help_text="The OpenAI id: key_…, user-…, proj_…")
    centre = models.ForeignKey(CostCentre, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["org", "kind", "value"], name="assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} → {self.centre_id}"


class SharedRule(models.Model):
    """How a shared cost is split: a project's (not claimed by a key or a person), or the
    unattributed remainder's; by fixed percentages or in proportion to each centre's direct
    cost of the month."""

    class Target(models.TextChoices):
        PROJECT = "project", "A project"
        REMAINDER = "remainder", "The unattributed remainder"

    class Method(models.TextChoices):
        FIXED = "fixed", "Fixed percentages"
        USAGE = "usage", "In proportion to usage (each centre's direct cost)"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    target = models.CharField(max_length=10, choices=Target.choices)
    project_id = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "target", "project_id"], name="shared_rule_one_per_target"
            ),
            models.CheckConstraint(
                condition=Q(target="project", project_id__gt="")
                | Q(target="remainder", project_id=""),
                name="shared_rule_target_has_project",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RuleShare(models.Model):
    """A centre's part of a rule: its percent (fixed), or just its presence (usage)."""

    rule = models.ForeignKey(SharedRule, on_delete=models.CASCADE, related_name="shares")
    centre = models.ForeignKey(CostCentre, on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "centre"], name="rule_share_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.centre_id}: {self.percent}"


class ClosedMonth(models.Model):
    """A month whose report is kept as it was when an Admin closed it."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="Its first day.")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["month"]
        constraints = [models.UniqueConstraint(fields=["org", "month"], name="closed_month_unique")]

    def __str__(self) -> str:
        return f"{self.month:%b %Y} (closed)"


class ClosedLine(models.Model):
    """One line of a closed month's report, to the cent, as it was shown."""

    closed = models.ForeignKey(ClosedMonth, on_delete=models.CASCADE, related_name="lines")
    centre = models.CharField(max_length=100, blank=True)  # its name then; "" is unallocated
    centre_code = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=12)
    description = models.CharField(max_length=500)
    project_id = models.CharField(max_length=100, blank=True)
    api_key_id = models.CharField(max_length=100, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    basis = models.CharField(max_length=12, blank=True)
    rule = models.CharField(max_length=100, blank=True)  # a shared line's rule, by its name then
    of_month = models.DateField(null=True, blank=True)  # an adjustment's month
    amount = ScaledDecimalField(places=12)
    currency = models.CharField(max_length=10)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.centre or 'Unallocated'}: {self.description}"


class ClosedBase(models.Model):
    """What a closed month's report was made of: billed cost per project and key (its own
    month's), and the exact revisions of earlier months it booked as adjustments."""

    closed = models.ForeignKey(ClosedMonth, on_delete=models.CASCADE, related_name="bases")
    of_month = models.DateField()
    project_id = models.CharField(max_length=100, blank=True)
    api_key_id = models.CharField(max_length=100, blank=True)
    amount = ScaledDecimalField(places=12)
    currency = models.CharField(max_length=10)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.of_month:%b %Y} {self.project_id} {self.api_key_id}: {self.amount}"

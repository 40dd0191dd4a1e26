"""What a connection's admin key may not do, area by area, as the API answered it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from orgadmin.areas import AREAS
from orgadmin.models.core import Organization


class KeyArea(models.Model):
    """One area of the API (orgadmin.areas) that a connection's admin key was refused.

    A read refused (the key may not read the area) comes from a sync or a probe (Check again, a
    connection added or re-keyed); a write refused from a probe's change aimed at no object, or
    a person's change OpenAI turned down. No row: nothing was refused. The pages read
    the summary the services keep on `Organization.key_limits`, not these rows.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="key_areas")
    area = models.CharField(max_length=30, choices=[(a.key, a.title) for a in AREAS.values()])
    can_read = models.BooleanField(default=True)
    can_write = models.BooleanField(default=True)
    message = models.TextField(blank=True)  # the API's words the last time it refused
    request_id = models.CharField(max_length=100, blank=True)
    refused_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area"]
        constraints = [models.UniqueConstraint(fields=["org", "area"], name="one_key_area_per_org")]

    def __str__(self) -> str:
        what = "may not read" if not self.can_read else "may only read"
        return f"The key of {self.org_id} {what} {self.area}"

    @property
    def label(self) -> str:
        return AREAS[self.area].label if self.area in AREAS else self.area

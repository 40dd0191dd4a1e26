"""Celery tasks for alert deliveries: thin, the work is dashboard.alerts.delivery's."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from dashboard.alerts.delivery import backoff_seconds, deliveries_stalled, delivery_attempt
from dashboard.alerts.models import Delivery


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver(self, delivery_id: int) -> str:
    """Try a delivery once; on failure retry it later (exponential backoff, bounded by
    ALERT_DELIVERY_MAX_ATTEMPTS, counted on the delivery itself). Returns its status."""
    delivery = Delivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    if delivery.done:  # sent or given up already (a duplicate or a late redelivery)
        return delivery.status
    delivery = delivery_attempt(delivery=delivery)
    if delivery.status == Delivery.Status.FAILED:
        raise self.retry(countdown=backoff_seconds(delivery.attempts))
    return delivery.status


@shared_task
def resume_deliveries() -> int:
    """Queue again the deliveries whose task was lost (Celery beat, every 15 minutes): no alert
    or digest is left unsent because a worker or the broker dropped it. Returns how many."""
    stalled = deliveries_stalled(now=timezone.now())
    for delivery_id in stalled:
        deliver.delay(delivery_id)
    return len(stalled)

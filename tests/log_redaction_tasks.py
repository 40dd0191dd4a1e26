"""A full-length admin key, and a task that fails with it in everything it says.

For test_log_redaction.py and the worker test in test_celery_worker.py. Only a worker started with
`-I tests.log_redaction_tasks` knows the task.
"""

from __future__ import annotations

import logging
import sys

from celery import shared_task
from celery.utils.log import get_task_logger

from orgadmin.client import OrgAPIError

# Shaped like a real admin key: the prefix, then 40 random characters.
ADMIN_KEY = "sk-admin-Zq7Xw2Lm9Pb4Rt6Yv1Nc8Hd3Kf5Gs0JaUe4Wi7Tb"

log = logging.getLogger(__name__)
task_log = get_task_logger(__name__)


@shared_task
def fail_with_key(key: str) -> None:
    print(f"printed: Authorization: Bearer {key}")
    print(f"printed to stderr: {key}", file=sys.stderr)
    task_log.info("task logger, key as an argument: %s", key)
    log.warning("module logger, with its stack: %r", {"key": key}, stack_info=True)
    try:
        raise ValueError(f"the cause: Authorization: Bearer {key}")
    except ValueError as exc:
        raise OrgAPIError(f"Rejected {key}", status=401) from exc

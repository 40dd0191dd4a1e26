"""Reads for pages: plain rows, one query each. Import them from this package."""

from __future__ import annotations

from orgadmin.selectors.directory import display_names
from orgadmin.selectors.sync import latest_sync_runs

__all__ = ["display_names", "latest_sync_runs"]

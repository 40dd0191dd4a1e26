"""Writes: the only code that combines Admin API calls with database changes.

Services are keyword-only and typed, named `<entity>_<action>`, one module an area
(`connections`, `directory`, `projects`, `org_settings`) beside the shared `changes` (an API
change, then the cache and the action log) and `action_log`. Views, tasks and management commands
import them from their module; this package re-exports nothing, so importing one service never
imports them all.
"""

from __future__ import annotations

from django.urls import path

from orgadmin.views import audit_log, connections

app_name = "orgadmin"

urlpatterns = [
    path("connections/", connections.connections, name="connections"),
    path("connections/<int:pk>/verify/", connections.connection_verify, name="connection_verify"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path("connections/<int:pk>/key/", connections.connection_key, name="connection_key"),
    path("connections/<int:pk>/delete/", connections.connection_delete, name="connection_delete"),
    path("switch-org/", connections.switch_org, name="switch_org"),
    path("audit-log/", audit_log.audit_log, name="audit_log"),
    path("audit-log/export.csv", audit_log.audit_export_csv, name="audit_export_csv"),
    path("audit-log/export.jsonl", audit_log.audit_export_jsonl, name="audit_export_jsonl"),
    path("audit-log/events/<path:event_id>/", audit_log.audit_event, name="audit_event"),
    path("audit-log/sync/", audit_log.audit_sync, name="audit_sync"),
    path("audit-log/sync/status/", audit_log.audit_sync_status, name="audit_sync_status"),
]

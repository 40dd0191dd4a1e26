from __future__ import annotations

from django.urls import path

from orgadmin.views import connections

app_name = "orgadmin"

urlpatterns = [
    path("connections/", connections.connections, name="connections"),
    path("connections/<int:pk>/verify/", connections.connection_verify, name="connection_verify"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path("connections/<int:pk>/key/", connections.connection_key, name="connection_key"),
    path("connections/<int:pk>/delete/", connections.connection_delete, name="connection_delete"),
    path("switch-org/", connections.switch_org, name="switch_org"),
]

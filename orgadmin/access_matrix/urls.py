from __future__ import annotations

from django.urls import path

from orgadmin.access_matrix import views

urlpatterns = [
    path("", views.access_matrix, name="access"),
    path("export.csv", views.access_export, name="access_export"),
    path("grid/", views.access_grid, name="access_grid"),
    path("grid.csv", views.access_grid_export, name="access_grid_export"),
    path("changes/", views.access_changes, name="access_changes"),
]

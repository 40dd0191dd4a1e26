"""The load rig's WSGI entry point: the project as gunicorn serves it (dashboard.wsgi), plus one
signed-in view that does nothing, the request floor that the Costs page is measured against.

The floor goes through the same middleware and the same permission check as the Costs page
(`VIEW_SPEND`, GET only), then answers a short text: what any signed-in page costs before its
own work. It is added here, for the bench, not to the product's URLs.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import clear_url_caches, include, path
from django.views.decorators.http import require_GET

from dashboard.wsgi import application
from orgadmin.access import Perm, requires

NOTHING_PATH = "/bench/nothing/"
NOTHING_MARKER = "bench: signed in, nothing done"


@requires(Perm.VIEW_SPEND)
@require_GET
def nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(NOTHING_MARKER, content_type="text/plain")


urlpatterns = [
    path(NOTHING_PATH.strip("/") + "/", nothing),
    path("", include(settings.ROOT_URLCONF)),
]
settings.ROOT_URLCONF = __name__
clear_url_caches()

__all__ = ["application"]

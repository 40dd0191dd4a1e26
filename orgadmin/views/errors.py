"""The product's own page for a refused form post (CSRF_FAILURE_VIEW); 403, 404 and 500 are
templates Django renders itself (templates/403.html, 404.html, 500.html)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: usually a page left open past its session, or
    cookies blocked. Django has logged the reason (one line); the person gets a way back."""
    return render(request, "403_csrf.html", status=403)

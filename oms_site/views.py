"""Small project-level views."""

from django.db import connection
from django.http import JsonResponse
from django.views import defaults

from . import api_errors


def healthz(request):
    """Liveness and database reachability, for load balancers and `make run`'s checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# Error pages: JSON under /api/ (integrations parse it), Django's HTML pages elsewhere.


def bad_request(request, exception):
    if api_errors.is_api_request(request):
        return api_errors.api_bad_request(request)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if api_errors.is_api_request(request):
        return api_errors.api_permission_denied(request)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if api_errors.is_api_request(request):
        return api_errors.api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if api_errors.is_api_request(request):
        return api_errors.api_server_error(request)
    return defaults.server_error(request)

"""API authentication and permissions.

Integrations send ``Authorization: Api-Key <prefix>.<secret>``. Only the key's SHA-512
hash is stored (djangorestframework-api-key). A key carries scopes (actions) and may be
limited to sales channels; staff using the dashboard are authenticated by their session
and checked by role.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.permissions import KeyParser

from .models import ApiKey
from .process_cache import ProcessCache
from .roles import user_can

# Writing last_used_at on every request would turn every read into a write; a minute's
# precision is all an operator needs to see whether a key is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


# Every API request looks its key up, and keys rarely change: the usable ones (not revoked)
# are kept per process by prefix. Creating or revoking a key is a save, which every
# process notices within a second (``oms_site.process_cache``).
_usable_keys = ProcessCache(
    "oms_site.api_keys",
    lambda: {key.prefix: key for key in ApiKey.objects.get_usable_keys()},
    models=[ApiKey],
)


def usable_key(raw_key: str) -> ApiKey:
    """The usable key that ``raw_key`` (``<prefix>.<secret>``) is, else DoesNotExist."""
    prefix, _, _ = raw_key.partition(".")
    api_key = _usable_keys.get().get(prefix)
    if api_key is None or not api_key.is_valid(raw_key):
        raise ApiKey.DoesNotExist
    return api_key


class ApiKeyUser:
    """Stands in for ``request.user`` when an integration calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = None

    def __init__(self, api_key):
        self.api_key = api_key

    def get_username(self):
        return f"api-key:{self.api_key.name}"

    def __str__(self):
        return self.get_username()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"
    parser = KeyParser()

    def authenticate(self, request):
        raw_key = self.parser.get(request)
        if not raw_key:
            return None
        try:
            api_key = usable_key(raw_key)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("API key has expired.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now  # the process's copy too, or it would write again
        request._request.api_key = api_key
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


def request_api_key(request):
    return request.auth if isinstance(request.auth, ApiKey) else None


class RequiresCapability(permissions.BasePermission):
    """Checks the view's ``required`` map: action -> (staff capability, API key scope).

    A view declares, for each action, what a staff member's role must allow and what scope
    an API key must carry. An action missing from the map is refused.
    """

    message = "Your role or API key does not allow this action."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        action = getattr(view, "action", None) or request.method.lower()
        if not _handles(view, request.method):
            return True  # the view answers 405 Method Not Allowed; nothing to protect
        rule = view.required.get(action)
        if rule is None:
            return False
        capability, scope = rule
        api_key = request_api_key(request)
        if api_key is not None:
            return scope is not None and api_key.has_scope(scope)
        return capability is not None and user_can(request.user, capability)


def _handles(view, method: str) -> bool:
    """Whether the view has a handler for this HTTP method (else DRF answers 405)."""
    method = method.lower()
    if method not in view.http_method_names:
        return False
    action_map = getattr(view, "action_map", None)
    if action_map is not None:
        return method in action_map
    return hasattr(view, method)


class ApiKeySchema(OpenApiAuthenticationExtension):
    """Documents the Api-Key header in the OpenAPI schema."""

    target_class = "oms_site.api_auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>` — create keys on the Settings page.",
        }

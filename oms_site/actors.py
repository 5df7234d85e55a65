"""Who did something: a staff user, an API key (an integration) or the system itself.

Every service that changes state takes an ``actor`` and records it in the audit trail.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "api_key" | "system"
    label: str
    user: Any = None
    api_key: Any = None

    @classmethod
    def for_user(cls, user) -> "Actor":
        return cls(kind="user", label=user.get_username(), user=user)

    @classmethod
    def for_api_key(cls, api_key) -> "Actor":
        return cls(kind="api_key", label=f"api-key:{api_key.name}", api_key=api_key)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(kind="system", label=label)

    @classmethod
    def from_request(cls, request) -> "Actor":
        """The API key an integration called with (set by ApiKeyAuthentication), else the
        logged-in user."""
        api_key = getattr(request, "api_key", None)
        if api_key is not None:
            return cls.for_api_key(api_key)
        return cls.for_user(request.user)

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None

    def __str__(self):
        return self.label

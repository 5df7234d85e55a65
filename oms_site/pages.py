"""Helpers for server-rendered pages: role checks and domain errors as messages."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from .errors import DomainError
from .roles import user_can


def capability_required(capability: str):
    """Page decorator: log in first, then the role must allow ``capability`` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, capability):
                return render(request, "403.html", status=403)
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator


def report_domain_error(request, error: DomainError) -> None:
    """Show a refused action as a message on the page (never a 500)."""
    detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in (error.fields or {}).items())
    messages.error(
        request, error.message + (f" ({detail})" if detail and detail not in error.message else "")
    )


class DateInput(forms.DateInput):
    """The browser's own date picker."""

    input_type = "date"


def positive_int_param(request, name: str) -> int | None:
    """A page cursor or id from the query string; anything but a positive integer is None."""
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None

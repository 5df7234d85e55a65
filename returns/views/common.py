"""What the returns pages share: finding a return the user may see, and turning refused
actions into messages or the 403 page."""

from functools import wraps

from django.http import Http404
from django.shortcuts import render

from fulfillment.access import check_access, scope_by_warehouse
from oms_site.errors import DomainError

from ..models import ReturnRequest


def visible_returns(user):
    """Warehouse staff see the returns coming to their warehouses; others see all."""
    return scope_by_warehouse(ReturnRequest.objects.all(), user)


def get_return(request, number) -> ReturnRequest:
    found = (
        ReturnRequest.objects.select_related("order__channel", "warehouse", "exchange_order")
        .filter(pk=ReturnRequest.pk_from_number(number) or 0)
        .first()
    )
    if found is None:
        raise Http404(f"No return {number}.")
    check_access(request.user, found.warehouse, what=f"Return {number}")
    return found


def guarded(view):
    """A refused warehouse is the 403 page; an unknown thing the 404 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 403:
                return render(request, "403.html", status=403)
            if exc.status == 404:
                raise Http404(exc.message)
            raise

    return wrapped


def positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None

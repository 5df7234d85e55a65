"""The order list's tools beside the filters: saved views (a user's own, or shared with the
team) and the bulk actions a user may take."""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from oms_site.errors import PermissionDenied, ValidationFailed

from . import bulk
from .dashboard_models import SavedView

# Query-string keys a view keeps: filters, sort and columns; never page cursors.
NOT_SAVED = {"after", "before", "csrfmiddlewaretoken"}


def clean_query(query: str) -> str:
    params = QueryDict(query or "", mutable=True)
    for key in NOT_SAVED:
        params.pop(key, None)
    for key in [k for k, values in params.lists() if not any(values)]:
        params.pop(key)
    return params.urlencode()


def visible_views(user) -> list[SavedView]:
    return list(
        SavedView.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "pk")
    )


@transaction.atomic
def save_view(*, owner, name: str, query: str, shared: bool) -> SavedView:
    """Save the list as it is now under ``name``; the same name again replaces the owner's
    view of that name."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Give the view a name."), fields={"name": [_("Required.")]})
    if len(name) > 80:
        raise ValidationFailed(
            _("The name is too long."), fields={"name": [_("At most 80 characters.")]}
        )
    query = clean_query(query)
    if len(query) > 1000:
        raise ValidationFailed(
            _("Too many filters to save."), fields={"query": [_("At most 1000 characters.")]}
        )
    try:
        with transaction.atomic():
            view, _created = SavedView.objects.update_or_create(
                owner=owner, name=name, defaults={"query": query, "shared": shared}
            )
    except IntegrityError:
        view = SavedView.objects.get(owner=owner, name=name)
    return view


@transaction.atomic
def delete_view(*, view: SavedView, user) -> None:
    """Only the owner deletes a view (a shared view is the owner's to take back)."""
    if view.owner_id != user.pk:
        raise PermissionDenied(
            _("Only %(owner)s can delete this view.") % {"owner": view.owner.get_username()}
        )
    view.delete()


def bulk_actions_for(user) -> list[bulk.BulkAction]:
    return bulk.allowed_for(user)

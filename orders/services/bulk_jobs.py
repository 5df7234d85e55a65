"""Bulk jobs: start one (checked, then queued after commit) and run it in batches.

``run_bulk_job`` is safe to run twice or in two workers at once: items are claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` and each order's action and its result row commit
together, so an order is acted on once and a crash loses nothing (the rest stay pending and
the next run goes on from there).
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import Warehouse
from oms_site.actors import Actor
from oms_site.errors import DomainError, ValidationFailed
from oms_site.roles import user_can

from .. import bulk
from ..dashboard_models import BulkJob, BulkJobItem
from ..models import Order

MAX_ORDERS = 50_000
BATCH = 25


def _clean_params(action: bulk.BulkAction, raw: dict) -> dict:
    params, errors = {}, {}
    for name in action.params:
        value = (raw.get(name) or "").strip()
        if (
            name == "warehouse"
            and value
            and not Warehouse.objects.filter(code=value, active=True).exists()
        ):
            errors[name] = [_("Unknown or inactive warehouse.")]
        if len(value) > 300:
            errors[name] = [_("At most 300 characters.")]
        if name in action.required and not value:
            errors[name] = [_("Required.")]
        params[name] = value
    if errors:
        raise ValidationFailed(_("The bulk action is missing something."), fields=errors)
    return params


@transaction.atomic
def start_bulk_job(*, action_key: str, raw_params: dict, user, order_ids=None, query=None):
    """A job for the chosen orders (``order_ids``) or for every order the list's filters
    (``query``, the list's query string) match. The orders are listed by the task."""
    action = bulk.get(action_key)
    if not user_can(user, action.capability):
        from oms_site.errors import PermissionDenied

        raise PermissionDenied(_("Your role does not allow this action."))
    params = _clean_params(action, raw_params)
    if order_ids is not None:
        order_ids = sorted({int(i) for i in order_ids})
        if not order_ids:
            raise ValidationFailed(
                _("Select at least one order."), fields={"ids": [_("Nothing selected.")]}
            )
        if len(order_ids) > MAX_ORDERS:
            raise ValidationFailed(
                _("At most %(count)s orders at once.") % {"count": MAX_ORDERS},
                fields={"ids": [_("Too many.")]},
            )
    job = BulkJob.objects.create(
        action=action.key,
        params={**params, "ids": order_ids, "query": query if order_ids is None else None},
        created_by=user,
    )
    from ..tasks import run_bulk_job

    transaction.on_commit(lambda: run_bulk_job.delay(job.pk))
    return job


def _order_ids(job) -> list[int]:
    if job.params.get("ids") is not None:
        return list(Order.objects.filter(pk__in=job.params["ids"]).values_list("pk", flat=True))
    from ..forms import list_filters_for
    from ..selectors import _filtered

    _form, filters = list_filters_for(job.created_by, QueryDict(job.params.get("query") or ""))

    ids = _filtered(filters).order_by("-pk").values_list("pk", flat=True)[: MAX_ORDERS + 1]
    return list(ids)


def _prepare(job) -> bool:
    """List the job's orders once (the first run); False when there are too many."""
    if job.items.exists():
        return True
    ids = _order_ids(job)
    if len(ids) > MAX_ORDERS:
        BulkJob.objects.filter(pk=job.pk).update(
            status=BulkJob.Status.FAILED,
            error=_("More than %(count)s orders match: narrow the filter.") % {"count": MAX_ORDERS},
            finished_at=timezone.now(),
        )
        return False
    for start in range(0, len(ids), 2000):
        BulkJobItem.objects.bulk_create(
            [BulkJobItem(job=job, order_id=i) for i in ids[start : start + 2000]],
            ignore_conflicts=True,
        )
    BulkJob.objects.filter(pk=job.pk).update(total=len(ids))
    return True


def _claim(job, size):
    items = BulkJobItem.objects.filter(job=job, outcome=BulkJobItem.Outcome.PENDING).order_by("pk")
    if connection.vendor == "postgresql":
        items = items.select_for_update(skip_locked=True, of=("self",))
    return list(items.select_related("order")[:size])


def _perform_one(action, item, actor, params) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = action.perform(item.order, actor, params)
        except DomainError as exc:
            outcome, message = BulkJobItem.Outcome.REFUSED, exc.message
        else:
            outcome = BulkJobItem.Outcome.DONE
        BulkJobItem.objects.filter(pk=item.pk).update(outcome=outcome, message=str(message)[:500])
        done = outcome == BulkJobItem.Outcome.DONE
        BulkJob.objects.filter(pk=item.job_id).update(
            processed=F("processed") + 1,
            succeeded=F("succeeded") + (1 if done else 0),
            refused=F("refused") + (0 if done else 1),
            updated_at=timezone.now(),
        )


def run_bulk_job(job_id: int) -> str:
    job = BulkJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.finished:
        return "nothing to do"
    BulkJob.objects.filter(pk=job.pk, status=BulkJob.Status.QUEUED).update(
        status=BulkJob.Status.RUNNING, updated_at=timezone.now()
    )
    if not _prepare(job):
        return "too many orders"
    action = bulk.get(job.action)
    actor = Actor.for_user(job.created_by) if job.created_by else Actor.system("bulk")
    params = dict(job.params)
    if params.get("warehouse"):
        params["warehouse"] = Warehouse.objects.get(code=params["warehouse"])
    else:
        params["warehouse"] = None
    while True:
        with transaction.atomic():
            items = _claim(job, BATCH)
            for item in items:
                _perform_one(action, item, actor, params)
        if not items:
            break
    job.refresh_from_db()
    if BulkJobItem.objects.filter(job=job, outcome=BulkJobItem.Outcome.PENDING).exists():
        return "another worker is on it"
    message = ""
    if action.finish is not None:
        done_ids = list(
            job.items.filter(outcome=BulkJobItem.Outcome.DONE).values_list("order_id", flat=True)
        )
        try:
            message = action.finish(job, done_ids, actor) or ""
        except DomainError as exc:
            message = exc.message
    BulkJob.objects.filter(pk=job.pk).exclude(status=BulkJob.Status.DONE).update(
        status=BulkJob.Status.DONE,
        finished_at=timezone.now(),
        error=message[:500],
        updated_at=timezone.now(),
    )
    return "done"


def stalled_jobs(*, older_than=timedelta(minutes=2)):
    """Jobs queued or running without progress for a while (a lost message, a worker that
    died): the periodic task queues them again."""
    return BulkJob.objects.filter(
        status__in=[BulkJob.Status.QUEUED, BulkJob.Status.RUNNING],
        updated_at__lt=timezone.now() - older_than,
    ).values_list("pk", flat=True)

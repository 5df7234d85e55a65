"""Inventory use cases beyond single stock changes: routing snapshots and reservations."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms_site.actors import Actor
from oms_site.errors import InsufficientStock, NotFound, ValidationFailed

from . import cached, routing, stock
from .models import (
    MovementReason,
    Reservation,
    RoutingRule,
    RoutingSettings,
    Warehouse,
)


def warehouse_infos() -> list[routing.WarehouseInfo]:
    return list(cached.warehouses().infos)


def routing_config(config: RoutingSettings | None = None) -> routing.RoutingConfig:
    """The rule chain and options (the per-process copy unless ``config`` is given)."""
    if config is None:
        return cached.routing_options().config
    return routing.RoutingConfig(
        rule_chain=tuple(config.rule_chain or [r.value for r in RoutingRule]),
        allow_split=config.allow_split,
        allow_dropship=config.allow_dropship,
    )


def snapshot_from_levels(levels, *, respect_safety_stock: bool, skus) -> routing.StockSnapshot:
    """What routing may use: locked levels (minus safety stock when the merchant keeps it
    back), the warehouses, and which of ``skus`` (loaded with their supplier) drop-ship."""
    available = {}
    for level in levels:
        units = level.on_hand - level.allocated
        if respect_safety_stock:
            units -= level.safety_stock
        available[(level.warehouse_id, level.sku_id)] = max(units, 0)
    dropship = {
        sku.pk: (sku.supplier_id, sku.supplier.code)
        for sku in skus
        if sku.supplier_id and sku.supplier.drop_ships
    }
    return routing.StockSnapshot(
        available=available, warehouses=warehouse_infos(), dropship_suppliers=dropship
    )


@transaction.atomic
def update_routing_settings(*, rule_chain, respect_safety_stock, allow_split, allow_dropship):
    valid = {r.value for r in RoutingRule}
    rule_chain = list(rule_chain)
    unknown = [r for r in rule_chain if r not in valid]
    if unknown or len(set(rule_chain)) != len(rule_chain) or not rule_chain:
        raise ValidationFailed(
            "The rule chain must list known rules, each once.",
            fields={"rule_chain": [f"Unknown or repeated: {unknown or 'duplicates'}"]},
        )
    config = RoutingSettings.current()
    config.rule_chain = rule_chain
    config.respect_safety_stock = respect_safety_stock
    config.allow_split = allow_split
    config.allow_dropship = allow_dropship
    config.save()
    return config


# --- Reservations ------------------------------------------------------------------------


@transaction.atomic
def reserve(*, items, actor: Actor, minutes=None, country: str = "", reference: str = ""):
    """Hold stock for a cart: all items or none.

    ``items`` is a list of (sku, quantity). Each item is held in the warehouse with the
    most available units that ships to ``country``. Returns the hold token and rows.
    """
    minutes = minutes or settings.OMS_RESERVATION_DEFAULT_MINUTES
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ValidationFailed(
            "Hold time must be 1 to 1440 minutes.", fields={"minutes": ["1 to 1440."]}
        )
    if not items:
        raise ValidationFailed("Nothing to reserve.", fields={"items": ["At least one item."]})
    token = secrets.token_urlsafe(24)
    expires_at = timezone.now() + timedelta(minutes=minutes)
    config = RoutingSettings.current()
    levels = stock.lock_levels_for_skus([sku.pk for sku, _ in items])
    warehouses = {w.pk: w for w in Warehouse.objects.filter(active=True)}
    reservations = []
    for index, (sku, quantity) in enumerate(items):
        options = [
            lv
            for lv in levels
            if lv.sku_id == sku.pk
            and lv.warehouse_id in warehouses
            and (not country or warehouses[lv.warehouse_id].ships_to(country))
        ]

        def usable(lv):
            spare = lv.on_hand - lv.allocated
            return spare - lv.safety_stock if config.respect_safety_stock else spare

        options.sort(key=lambda lv: (-usable(lv), warehouses[lv.warehouse_id].rank))
        if not options or usable(options[0]) < quantity:
            best = usable(options[0]) if options else 0
            raise InsufficientStock(
                f"Only {max(best, 0)} of {sku.code} can be held in one warehouse.",
                fields={f"items.{index}.quantity": [f"Only {max(best, 0)} available."]},
            )
        level = options[0]
        level.sku, level.warehouse = sku, warehouses[level.warehouse_id]
        reservation = Reservation(
            token=token,
            sku=sku,
            warehouse_id=level.warehouse_id,
            quantity=quantity,
            expires_at=expires_at,
            reference=reference,
        )
        stock.apply_change(
            level,
            stock.Change(allocated=quantity),
            reason=MovementReason.RESERVATION,
            reference=reservation.ledger_reference,
            actor=actor,
        )
        reservations.append(reservation)
    Reservation.objects.bulk_create(reservations)
    return token, reservations


def _active_for_update(token):
    return list(
        # of=("self",): lock only the holds. A plain FOR UPDATE would also lock the joined
        # SKU and warehouse rows, which every ledger INSERT needs a key-share lock on —
        # a deadlock with orders that hold stock rows.
        Reservation.objects.select_for_update(of=("self",))
        .filter(token=token, status=Reservation.Status.ACTIVE)
        .select_related("sku", "warehouse")
        .order_by("pk")
    )


def _give_back(reservation, level, *, actor, status) -> None:
    """A hold's units stop being allocated to the cart (on a level the caller locked)."""
    level.sku, level.warehouse = reservation.sku, reservation.warehouse
    stock.apply_change(
        level,
        stock.Change(allocated=-reservation.quantity),
        reason=MovementReason.RESERVATION_RELEASE,
        reference=reservation.ledger_reference,
        actor=actor,
    )
    reservation.status = status
    reservation.save(update_fields=["status"])


def _release(reservations, *, actor, status):
    pairs = [(r.sku_id, r.warehouse_id) for r in reservations]
    levels = stock.lock_levels(pairs)
    for r in reservations:
        _give_back(r, levels[(r.sku_id, r.warehouse_id)], actor=actor, status=status)
    if reservations:
        for wh_id in {r.warehouse_id for r in reservations}:
            stock.announce_arrival([r.sku_id for r in reservations], wh_id)


@transaction.atomic
def release_reservation(*, token, actor) -> int:
    reservations = _active_for_update(token)
    if not reservations:
        raise NotFound("No active hold with this token.", fields={"token": ["Not found."]})
    _release(reservations, actor=actor, status=Reservation.Status.RELEASED)
    return len(reservations)


def expire_reservations(*, now=None, actor=None) -> int:
    """Release holds past their expiry. Safe to run twice: only active rows are touched."""
    now = now or timezone.now()
    actor = actor or Actor.system("reservation-expiry")
    tokens = set(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        .values_list("token", flat=True)
        .distinct()
    )
    expired = 0
    for token in tokens:
        with transaction.atomic():
            rows = [r for r in _active_for_update(token) if r.expires_at <= now]
            _release(rows, actor=actor, status=Reservation.Status.EXPIRED)
            expired += len(rows)
    return expired


def convert_reservation(*, token, wanted: dict, reference: str, actor: Actor):
    """Turn a cart's hold into an order's allocation, inside the caller's transaction.

    ``wanted`` maps sku_id -> units the order needs. Returns sku_id -> list of
    (warehouse_id, units) now allocated under ``reference``. The held units never become
    free in between: release and allocation are written under the same row lock.
    """
    reservations = _active_for_update(token)
    if not reservations:
        raise ValidationFailed(
            "The stock hold has expired or was already used.",
            fields={"reservation_token": ["Expired or already used."]},
        )
    if any(r.expires_at <= timezone.now() for r in reservations):
        raise ValidationFailed(
            "The stock hold has expired.", fields={"reservation_token": ["Expired."]}
        )
    # Lock every level of every SKU involved, in pk order, as routing does next in the same
    # transaction: locking only the held rows first would take locks out of order.
    locked = stock.lock_levels_for_skus({r.sku_id for r in reservations} | set(wanted))
    levels = {(lv.sku_id, lv.warehouse_id): lv for lv in locked}
    converted: dict[int, list] = {}
    remaining = dict(wanted)
    for r in reservations:
        level = levels[(r.sku_id, r.warehouse_id)]
        _give_back(r, level, actor=actor, status=Reservation.Status.CONVERTED)
        use = min(r.quantity, remaining.get(r.sku_id, 0))
        if use:
            stock.allocate_locked(level, use, reference=reference, actor=actor)
            converted.setdefault(r.sku_id, []).append((r.warehouse_id, use))
            remaining[r.sku_id] -= use
    return converted

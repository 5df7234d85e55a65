"""Packing: every unit of a picked shipment is scanned into a package; packages get a
type and a weight; a shipment may have several packages."""

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from oms_site.actors import Actor
from oms_site.errors import Conflict, ValidationFailed

from ..models import Package, PackageLine, PackageType, Shipment, ShipmentLine, ShipmentStatus
from .events import lock_shipment, run_shipment_transition
from .picking import ScanResult

MAX_WEIGHT_GRAMS = 1_000_000


def picking_done(shipment) -> bool:
    """Nothing of the shipment waits on a pick list."""
    entry = getattr(shipment, "pick_list_entry", None)
    if entry is None:
        return True
    return not entry.lines.filter(quantity__gt=F("quantity_picked") + F("quantity_short")).exists()


def _ensure_packable(shipment):
    if shipment.status not in (ShipmentStatus.DRAFT, ShipmentStatus.PICKING):
        raise Conflict(
            _("Shipment %(number)s is %(status)s: nothing to pack.")
            % {"number": shipment.number, "status": shipment.get_status_display().lower()},
            fields={"status": ["Not packable."]},
        )
    if not picking_done(shipment):
        raise Conflict(
            _("Shipment %(number)s is still being picked.") % {"number": shipment.number},
            fields={"status": ["Still picking."]},
        )


def _package_for(shipment, package_type=None) -> Package:
    package = shipment.packages.order_by("-sequence").first()
    if package is None:
        package = add_package_locked(shipment, package_type=package_type)
    return package


def add_package_locked(shipment, *, package_type=None) -> Package:
    last = shipment.packages.order_by("-sequence").values_list("sequence", flat=True).first()
    if package_type is None:
        package_type = PackageType.objects.filter(active=True).order_by("pk").first()
    return Package.objects.create(
        shipment=shipment,
        sequence=(last or 0) + 1,
        package_type=package_type,
        length_mm=package_type.length_mm if package_type else 0,
        width_mm=package_type.width_mm if package_type else 0,
        height_mm=package_type.height_mm if package_type else 0,
    )


@transaction.atomic
def scan_pack(shipment, *, code: str, actor: Actor) -> ScanResult:
    """One item scanned at the packing bench, into the newest package. An item that is
    not (or no longer) expected is refused and nothing changes."""
    code = (code or "").strip()
    if not code:
        return ScanResult(False, _("Nothing scanned."), kind="error")
    shipment = lock_shipment(shipment)
    _ensure_packable(shipment)
    upper = code.upper()
    lines = list(shipment.lines.select_related("order_line__sku").order_by("pk"))
    matching = [
        line
        for line in lines
        if upper in ((line.order_line.sku.barcode or "").upper(), line.order_line.sku_code.upper())
    ]
    if not matching:
        return ScanResult(
            False, _("%(scanned)s is not in this order.") % {"scanned": code}, kind="error"
        )
    line = next((m for m in matching if m.quantity_packed < m.quantity), None)
    if line is None:
        return ScanResult(
            False,
            _("All %(quantity)s x %(sku)s are packed already.")
            % {"quantity": matching[0].quantity, "sku": matching[0].order_line.sku_code},
            kind="error",
        )
    package = _package_for(shipment)
    package_line, _created = PackageLine.objects.get_or_create(package=package, shipment_line=line)
    PackageLine.objects.filter(pk=package_line.pk).update(quantity=F("quantity") + 1)
    ShipmentLine.objects.filter(pk=line.pk).update(quantity_packed=F("quantity_packed") + 1)
    line.quantity_packed += 1
    remaining = sum(x.quantity - x.quantity_packed for x in lines)
    message = _("%(sku)s %(packed)s/%(quantity)s into package %(package)s.") % {
        "sku": line.order_line.sku_code,
        "packed": line.quantity_packed,
        "quantity": line.quantity,
        "package": package.sequence,
    }
    if remaining == 0:
        message += " " + _("Everything is packed: weigh and finish.")
    return ScanResult(True, message, kind="item", done=remaining == 0)


@transaction.atomic
def add_package(shipment, *, package_type=None, actor: Actor) -> Package:
    shipment = lock_shipment(shipment)
    _ensure_packable(shipment)
    return add_package_locked(shipment, package_type=package_type)


@transaction.atomic
def update_package(package, *, actor: Actor, weight_grams=None, package_type=None) -> Package:
    shipment = lock_shipment(package.shipment_id)
    _ensure_packable(shipment)
    package = Package.objects.select_for_update(of=("self",)).get(pk=package.pk)
    if weight_grams is not None:
        if (
            not isinstance(weight_grams, int)
            or isinstance(weight_grams, bool)
            or not 0 < weight_grams <= MAX_WEIGHT_GRAMS
        ):
            raise ValidationFailed(
                "The weight must be a whole number of grams above zero.",
                fields={"weight_grams": [f"Between 1 and {MAX_WEIGHT_GRAMS}."]},
            )
        package.weight_grams = weight_grams
    if package_type is not None:
        package.package_type = package_type
        package.length_mm = package_type.length_mm
        package.width_mm = package_type.width_mm
        package.height_mm = package_type.height_mm
    package.save()
    return package


def estimated_weight(package) -> int:
    """Box tare plus the catalogue weight of what is in it."""
    items = package.lines.aggregate(
        grams=Sum(F("quantity") * F("shipment_line__order_line__sku__weight_grams"))
    )["grams"]
    tare = package.package_type.tare_weight_grams if package.package_type_id else 0
    return (items or 0) + tare


@transaction.atomic
def finish_packing(shipment, *, actor: Actor) -> Shipment:
    """Every unit is in a package: packages without a weighed weight get the estimate
    (catalogue weights + box), empty packages are dropped, and the shipment is packed."""
    shipment = lock_shipment(shipment)
    _ensure_packable(shipment)
    lines = list(shipment.lines.all())
    missing = sum(line.quantity - line.quantity_packed for line in lines)
    if not lines or missing:
        raise Conflict(
            _("%(missing)s unit(s) are not packed yet.") % {"missing": missing},
            fields={"lines": ["Scan every unit into a package."]},
        )
    for package in shipment.packages.select_related("package_type"):
        if not package.lines.filter(quantity__gt=0).exists():
            package.delete()
            continue
        if not package.weight_grams:
            package.weight_grams = max(estimated_weight(package), 1)
            package.save(update_fields=["weight_grams"])
    count = shipment.packages.count()
    return run_shipment_transition(
        shipment, "mark_packed", actor=actor, message=f"Packed in {count} package(s)"
    )


@transaction.atomic
def reopen_packing(shipment, *, actor: Actor) -> Shipment:
    """Undo "packed" to change packages (only before a label is booked)."""
    shipment = lock_shipment(shipment)
    if shipment.booked_at:
        raise Conflict(
            _("The label is booked: packages can't change now."),
            fields={"status": ["Label booked."]},
        )
    return run_shipment_transition(shipment, "reopen", actor=actor, message="Packing reopened")


def shipment_for_pack(number: str) -> Shipment | None:
    pk = Shipment.pk_from_number(number)
    return Shipment.objects.filter(pk=pk).first() if pk else None

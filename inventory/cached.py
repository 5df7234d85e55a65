"""Per-process copies of the routing settings and the warehouses, which routing reads for
every order (see ``oms_site.process_cache`` for how they notice changes).

The values are shared between threads: read them, never change them.
"""

from dataclasses import dataclass

from oms_site.process_cache import ProcessCache

from . import routing
from .models import DEFAULT_RULE_CHAIN, RoutingSettings, Warehouse


@dataclass(frozen=True)
class RoutingOptions:
    config: routing.RoutingConfig
    respect_safety_stock: bool


def _load_routing_options() -> RoutingOptions:
    settings = RoutingSettings.current()
    return RoutingOptions(
        config=routing.RoutingConfig(
            rule_chain=tuple(settings.rule_chain or DEFAULT_RULE_CHAIN),
            allow_split=settings.allow_split,
            allow_dropship=settings.allow_dropship,
        ),
        respect_safety_stock=settings.respect_safety_stock,
    )


@dataclass(frozen=True)
class Warehouses:
    by_id: dict
    by_code: dict
    infos: tuple


def _load_warehouses() -> Warehouses:
    warehouses = list(Warehouse.objects.all())
    return Warehouses(
        by_id={w.pk: w for w in warehouses},
        by_code={w.code: w for w in warehouses},
        infos=tuple(
            routing.WarehouseInfo(
                id=w.pk,
                code=w.code,
                latitude=w.latitude,
                longitude=w.longitude,
                rank=w.rank,
                ships_to_countries=tuple(w.ships_to_countries or ()),
                active=w.active,
            )
            for w in warehouses
        ),
    )


_routing_options = ProcessCache(
    "inventory.routing_settings", _load_routing_options, models=[RoutingSettings]
)
_warehouses = ProcessCache("inventory.warehouses", _load_warehouses, models=[Warehouse])


def routing_options() -> RoutingOptions:
    """The merchant's rule chain and options, as routing uses them."""
    return _routing_options.get()


def warehouses() -> Warehouses:
    """Every warehouse (active or not) by id and by code, and as routing sees them."""
    return _warehouses.get()

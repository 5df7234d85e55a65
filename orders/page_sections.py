"""Sections that higher layers add to the order page (fulfillment: the order's shipments;
returns: its returns), so the order page shows the whole order while ``orders`` never
imports them.

A section is a template and a function ``context(request, order) -> dict | None``; None
leaves the section out (nothing to show, or the viewer may not see it). Sections are
registered from the higher app's ``AppConfig.ready`` and shown in ``place`` order after
the order's money.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OrderPageSection:
    key: str
    template: str
    context: Callable
    place: int = 100


_SECTIONS: dict[str, OrderPageSection] = {}


def register(section: OrderPageSection) -> None:
    _SECTIONS[section.key] = section


def render_sections(request, order) -> list[dict]:
    """What the order page includes: [{"template": ..., "context": {...}}, ...]."""
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.place, s.key)):
        context = section.context(request, order)
        if context is not None:
            shown.append({"key": section.key, "template": section.template, "context": context})
    return shown

"""Charts drawn on the server as inline SVG: no script, no CDN, the same picture in every
browser and in the browser tests, and readable by screen readers (``role="img"`` with a
title and a description; the page puts the numbers in a table beside it).

``stacked_bars`` draws one bar per label (a day) split into series (channels);
``line`` draws one or more series as lines with dots. Values are numbers (int, Decimal);
``value_text`` formats the axis and the tooltips for the active language.
"""

from dataclasses import dataclass
from decimal import Decimal
from math import floor, log10

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colours that keep 3:1 contrast against white (WCAG non-text contrast) and stay apart for
# the common colour-vision deficiencies (Okabe-Ito based, darkened).
PALETTE = ["#0b63b6", "#c25400", "#00805a", "#a8327d", "#6a4bc4", "#8a6d00", "#444f5e"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 46


@dataclass
class Series:
    label: str
    values: list
    color: str = ""


def nice_ceiling(value: float) -> float:
    """The axis maximum: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    exponent = floor(log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _ticks(maximum: float, count: int = 4) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


def _colored(series: list[Series]) -> list[Series]:
    for index, s in enumerate(series):
        s.color = s.color or PALETTE[index % len(PALETTE)]
    return series


def _frame(title: str, description: str, maximum, value_text, labels, label_every) -> list[str]:
    plot_height = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{{id}}-t {{id}}-d" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{{id}}-t">{escape(title)}</title>',
        f'<desc id="{{id}}-d">{escape(description)}</desc>',
    ]
    for tick in _ticks(maximum):
        y = TOP + plot_height - (tick / maximum) * plot_height
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(value_text(tick, axis=True))}</text>"
        )
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for index, label in enumerate(labels):
        if index % label_every == 0 or index == len(labels) - 1:
            x = LEFT + step * (index + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'class="axis">{escape(label)}</text>'
            )
    return parts


def _legend(series: list[Series]) -> list[str]:
    parts, x = [], LEFT
    for s in series:
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 9}" class="legend">{escape(s.label)}</text>'
        )
        x += 22 + 7 * len(s.label)
    return parts


def _as_number(value) -> float:
    return float(value or 0)


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    value_text=lambda v, axis=False: f"{v:g}",
    label_every: int = 5,
) -> SafeString:
    series = _colored(series)
    totals = [sum(_as_number(s.values[i]) for s in series) for i in range(len(labels))]
    maximum = nice_ceiling(max(totals, default=0))
    parts = _frame(title, description, maximum, value_text, labels, label_every)
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    bar = max(step * 0.72, 1)
    for index, label in enumerate(labels):
        x = LEFT + step * index + (step - bar) / 2
        y_base = TOP + plot_height
        for s in series:
            value = _as_number(s.values[index])
            if value <= 0:
                continue
            height = value / maximum * plot_height
            y_base -= height
            tip = f"{label} · {s.label}: {value_text(s.values[index])}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y_base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{s.color}"><title>{escape(tip)}</title></rect>'
            )
    parts += _legend(series)
    parts.append("</svg>")
    return mark_safe("".join(parts).replace("{id}", escape(chart_id)))


def line(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    value_text=lambda v, axis=False: f"{v:g}",
    label_every: int = 5,
) -> SafeString:
    series = _colored(series)
    highest = max((_as_number(v) for s in series for v in s.values), default=0)
    maximum = nice_ceiling(highest)
    parts = _frame(title, description, maximum, value_text, labels, label_every)
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for s in series:
        points = []
        for index, value in enumerate(s.values):
            x = LEFT + step * (index + 0.5)
            y = TOP + plot_height - _as_number(value) / maximum * plot_height
            points.append((x, y, value, labels[index]))
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2.2"/>'
        )
        for x, y, value, label in points:
            tip = f"{label} · {s.label}: {value_text(value)}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts += _legend(series)
    parts.append("</svg>")
    return mark_safe("".join(parts).replace("{id}", escape(chart_id)))


def compact(value, *, locale: str) -> str:
    """Axis numbers: 1.2K / 1,2k, whole numbers below a thousand."""
    from babel.numbers import format_compact_decimal, format_decimal

    value = Decimal(value)
    if abs(value) < 1000:
        return format_decimal(int(value) if value == int(value) else value, locale=locale)
    return format_compact_decimal(value, format_type="short", locale=locale, fraction_digits=1)

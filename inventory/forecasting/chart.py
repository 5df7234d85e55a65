"""The SKU page's chart as server-side SVG: no script, no CDN, prints as it shows.

Two panels share the time axis. Top: daily demand (history as bars, stock-out days shaded,
the forecast with its interval band). Bottom: available stock (history, then projected
with open purchase orders), the reorder point and safety stock, the projected stock-out.
"""

import math
from datetime import date, timedelta

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

WIDTH = 880
LEFT, RIGHT = 56, 16
DEMAND_TOP, DEMAND_HEIGHT = 28, 190
STOCK_TOP, STOCK_HEIGHT = 262, 140
HEIGHT = STOCK_TOP + STOCK_HEIGHT + 34

COLOURS = {
    "history": "#8a94a6",
    "stockout": "#f6d5d5",
    "forecast": "#1f5fbf",
    "band": "#c9dbf6",
    "stock": "#2e7d4f",
    "reorder": "#d9822b",
    "safety": "#b0b0b0",
    "risk": "#c62828",
    "today": "#555",
}


def _nice_ticks(top: float, count: int = 4) -> list[float]:
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(math.ceil(top / step)) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.2g}"


def _path(points) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def forecast_chart(
    *,
    history_dates: list[date],
    demand: list[float],
    stockout: list[bool],
    available: list[float],
    forecast_start: date,
    mean: list[float],
    lower: list[float],
    upper: list[float],
    projected: list[float],
    reorder_point: float,
    safety_stock: float,
    stockout_date: date | None,
    interval_level: float,
    title: str,
) -> str:
    days = len(history_dates) + len(mean)
    first = history_dates[0] if history_dates else forecast_start
    span = max(days - 1, 1)
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(day: date) -> float:
        return LEFT + (day - first).days / span * plot_width

    day_width = plot_width / span
    forecast_dates = [forecast_start + timedelta(days=i) for i in range(len(mean))]

    demand_top = max([*demand, *upper, 1.0])
    demand_ticks = _nice_ticks(demand_top)
    demand_max = demand_ticks[-1]

    def y_demand(value: float) -> float:
        return DEMAND_TOP + DEMAND_HEIGHT - value / demand_max * DEMAND_HEIGHT

    stock_values = [*available, *projected, reorder_point, safety_stock, 0.0]
    stock_low, stock_high = min(stock_values), max([*stock_values, 1.0])
    if stock_low > -0.5:  # a projection that just touches zero needs no negative axis
        stock_low = 0.0
    stock_ticks = _nice_ticks(stock_high)
    stock_max = stock_ticks[-1]
    stock_min = min(0.0, -_nice_ticks(-stock_low)[-1]) if stock_low < 0 else 0.0
    if stock_min < 0:
        stock_ticks = [-t for t in reversed(_nice_ticks(-stock_min)[1:])] + stock_ticks

    def y_stock(value: float) -> float:
        return (
            STOCK_TOP
            + STOCK_HEIGHT
            - (value - stock_min) / (stock_max - stock_min) * (STOCK_HEIGHT)
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="forecast-chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        "<style>text{font:11px system-ui,sans-serif;fill:#444}.lbl{font-weight:600}</style>",
    ]
    # Stock-out days, across the demand panel.
    for day, out_of_stock in zip(history_dates, stockout, strict=False):
        if out_of_stock:
            out.append(
                f'<rect x="{x_of(day) - day_width / 2:.1f}" y="{DEMAND_TOP}" '
                f'width="{max(day_width, 1):.1f}" height="{DEMAND_HEIGHT}" '
                f'fill="{COLOURS["stockout"]}"/>'
            )
    # Axes and grid lines.
    for tick in demand_ticks:
        y = y_demand(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
    for tick in stock_ticks:
        y = y_stock(tick)
        colour = "#bbb" if tick == 0 else "#eee"
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
    month = date(first.year, first.month, 1)
    last = forecast_dates[-1] if forecast_dates else history_dates[-1]
    while month <= last:
        if month >= first:
            x = x_of(month)
            label = escape(date_format(month, "M Y"))
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{DEMAND_TOP}" '
                f'y2="{STOCK_TOP + STOCK_HEIGHT}" stroke="#f2f2f2"/>'
                f'<text x="{x + 2:.1f}" y="{HEIGHT - 12}">{label}</text>'
            )
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    # Demand history as bars.
    bar = max(day_width * 0.8, 0.6)
    for day, value in zip(history_dates, demand, strict=False):
        if value > 0:
            y = y_demand(value)
            out.append(
                f'<rect x="{x_of(day) - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{DEMAND_TOP + DEMAND_HEIGHT - y:.1f}" fill="{COLOURS["history"]}"/>'
            )
    # Forecast band and line.
    if mean:
        band = [(x_of(d), y_demand(v)) for d, v in zip(forecast_dates, upper, strict=True)]
        band += [
            (x_of(d), y_demand(v))
            for d, v in reversed(list(zip(forecast_dates, lower, strict=True)))
        ]
        out.append(f'<path d="{_path(band)} Z" fill="{COLOURS["band"]}" stroke="none"/>')
        line = [(x_of(d), y_demand(v)) for d, v in zip(forecast_dates, mean, strict=True)]
        out.append(
            f'<path d="{_path(line)}" fill="none" stroke="{COLOURS["forecast"]}" stroke-width="2"/>'
        )
    # Stock: history, then projected.
    if available:
        line = [(x_of(d), y_stock(v)) for d, v in zip(history_dates, available, strict=False)]
        out.append(
            f'<path d="{_path(line)}" fill="none" stroke="{COLOURS["stock"]}" stroke-width="1.5"/>'
        )
    if projected:
        start_value = available[-1] if available else projected[0]
        line = [(x_of(forecast_start - timedelta(days=1)), y_stock(start_value))]
        line += [(x_of(d), y_stock(v)) for d, v in zip(forecast_dates, projected, strict=True)]
        out.append(
            f'<path d="{_path(line)}" fill="none" stroke="{COLOURS["stock"]}" '
            'stroke-width="2" stroke-dasharray="5 3"/>'
        )
    for value, colour, label in (
        (reorder_point, COLOURS["reorder"], _("reorder point %(n)s") % {"n": _fmt(reorder_point)}),
        (safety_stock, COLOURS["safety"], _("safety stock %(n)s") % {"n": _fmt(safety_stock)}),
    ):
        y = y_stock(value)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'fill="{colour}">{escape(label)}</text>'
        )
    if stockout_date is not None:
        x = x_of(stockout_date)
        label = _("projected stock-out %(date)s") % {"date": date_format(stockout_date, "j M")}
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{STOCK_TOP}" y2="{STOCK_TOP + STOCK_HEIGHT}" '
            f'stroke="{COLOURS["risk"]}" stroke-width="2"/>'
            f'<text x="{x - 4:.1f}" y="{STOCK_TOP + STOCK_HEIGHT - 6}" text-anchor="end" '
            f'fill="{COLOURS["risk"]}">{escape(label)}</text>'
        )
    # Today.
    forecast_label = _("forecast")
    x = x_of(forecast_start) - day_width / 2
    out.append(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{DEMAND_TOP - 6}" y2="{STOCK_TOP + STOCK_HEIGHT}" '
        f'stroke="{COLOURS["today"]}" stroke-dasharray="2 2"/>'
        f'<text x="{x + 3:.1f}" y="{DEMAND_TOP - 8}">{escape(forecast_label)}</text>'
    )
    # Panel titles and legend.
    level = round(interval_level * 100)
    legend = [
        (COLOURS["history"], _("daily demand")),
        (COLOURS["stockout"], _("stock-out day")),
        (COLOURS["forecast"], _("forecast")),
        (COLOURS["band"], _("%(level)s %% interval") % {"level": level}),
    ]
    x = LEFT
    for colour, label in legend:
        out.append(
            f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="15">{escape(label)}</text>'
        )
        x += 22 + 6.2 * len(label)
    stock_title = _("Available stock (dashed: projected with open purchase orders)")
    out.append(f'<text class="lbl" x="{LEFT}" y="{STOCK_TOP - 8}">{escape(stock_title)}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))

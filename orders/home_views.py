"""The home page (``/``): how the shop is doing, in the base currency, and the work that
waits, each figure a link to the list behind it."""

from babel.dates import format_skeleton
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from oms_site import charts
from oms_site.money import babel_locale, format_money, format_number
from oms_site.pages import capability_required
from oms_site.roles import Capability

from . import home as home_selectors


def _orders_url(**params) -> str:
    return reverse("orders:list") + "?" + urlencode(params)


@capability_required(Capability.ORDER_VIEW)
@require_GET
def home(request):
    data = home_selectors.home(user=request.user)
    locale = babel_locale()
    base = data.base_currency
    labels = [format_skeleton("MMMd", day, locale=locale) for day in data.days]
    periods = []
    for period in data.periods:
        periods.append(
            {
                "key": period.key,
                "label": {
                    "today": _("Today"),
                    "7d": _("Last 7 days"),
                    "30d": _("Last 30 days"),
                }[period.key],
                "figures": period.current,
                "previous": period.previous,
                "orders_change": period.orders_change,
                "revenue_change": period.revenue_change,
                "url": _orders_url(created_from=period.first_day.isoformat()),
            }
        )

    def money_text(value, axis=False):
        return charts.compact(value, locale=locale) if axis else format_money(value, base)

    def count_text(value, axis=False):
        return format_number(value)

    series_orders = [
        charts.Series(channel.name, data.daily_orders[channel.pk]) for channel in data.channels
    ]
    series_revenue = [
        charts.Series(channel.name, data.daily_revenue[channel.pk]) for channel in data.channels
    ]
    orders_chart = charts.stacked_bars(
        chart_id="chart-orders",
        title=_("Orders per day and channel, last 30 days"),
        description=_("Stacked bars: one per day, split by sales channel."),
        labels=labels,
        series=series_orders,
        value_text=count_text,
    )
    revenue_chart = charts.stacked_bars(
        chart_id="chart-revenue",
        title=_("Revenue per day and channel in %(currency)s, last 30 days") % {"currency": base},
        description=_(
            "Stacked bars: one per day, split by sales channel; cancelled orders left out."
        ),
        labels=labels,
        series=series_revenue,
        value_text=money_text,
    )
    waiting = data.waiting
    work = [
        {
            "key": "on_hold",
            "label": _("On hold"),
            "count": waiting["on_hold"],
            "url": _orders_url(status="on_hold"),
        },
        {
            "key": "backordered",
            "label": _("Backordered"),
            "count": waiting["backordered"],
            "url": _orders_url(status="backordered"),
        },
        {
            "key": "late",
            "label": _("Late to ship"),
            "count": waiting["late"],
            "url": _orders_url(late="on"),
        },
        {
            "key": "failed_webhooks",
            "label": _("Failed webhooks"),
            "count": waiting["failed_webhooks"],
            "url": reverse("settings:webhooks"),
        },
        {
            "key": "low_stock",
            "label": _("Low stock"),
            "count": waiting["low_stock"],
            "url": reverse("inventory:stock") + "?low_stock=on&active=on",
        },
    ]
    table_rows = [
        {
            "label": label,
            "orders": [data.daily_orders[c.pk][index] for c in data.channels],
            "revenue": [data.daily_revenue[c.pk][index] for c in data.channels],
        }
        for index, label in enumerate(labels)
    ]
    return render(
        request,
        "orders/home.html",
        {
            "base_currency": base,
            "periods": periods,
            "by_channel": data.by_channel,
            "channels": data.channels,
            "orders_chart": orders_chart,
            "revenue_chart": revenue_chart,
            "table_rows": table_rows,
            "work": work,
        },
    )

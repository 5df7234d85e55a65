"""Prices, discounts and tax: the one pricing path of every order.

The API, the manual order page and the order editor all price through ``price_order``:

- unit prices, line discounts, the order discount and shipping are entered **net** or
  **gross** (tax included) as the sales channel says (``SalesChannel.prices_include_tax``);
- the order discount is spread over the lines in proportion to what they cost after their
  own discounts (in whole minor units, largest remainder first), so that every line's
  tax is computed on what the customer really pays for it;
- tax comes from the rules in data (``TaxRate``: country of delivery x product tax class,
  the latest row valid on the day), rounded half up per line; shipping is taxed at the
  default class's rate. A channel that computes its own tax (a marketplace) may send a
  line's tax; it is kept as sent and labelled with the rule's rate when it matches it.

Stored amounts keep one meaning in both modes: ``line_total`` is what the customer pays
for the line, ``tax_amount`` the part of it that is tax, so ``line_total - tax_amount``
is the line's net amount.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from inventory.models import TaxClass
from oms_site.batch_cache import cached
from oms_site.money import minor_units, quantize
from oms_site.process_cache import ProcessCache

from ..models import TaxRate

HUNDRED = Decimal(100)
NO_TAX_NAME = ""


@dataclass(frozen=True)
class TaxRule:
    name: str
    rate: Decimal  # percent


NO_TAX = TaxRule(NO_TAX_NAME, Decimal(0))


@dataclass(frozen=True)
class _StoredRate:
    tax_class_id: int
    is_default_class: bool
    valid_from: object  # date
    rate: Decimal
    name: str


@dataclass(frozen=True)
class _TaxRates:
    by_country: dict  # country -> tuple of _StoredRate, by class, newest first
    default_class_id: int | None


def _load_tax_rates() -> _TaxRates:
    by_country = defaultdict(list)
    rows = TaxRate.objects.select_related("tax_class").order_by("tax_class_id", "-valid_from")
    for row in rows:
        by_country[row.country].append(
            _StoredRate(
                row.tax_class_id, row.tax_class.is_default, row.valid_from, row.rate, row.name
            )
        )
    default_class_id = TaxClass.objects.filter(is_default=True).values_list("pk", flat=True).first()
    return _TaxRates({c: tuple(rows) for c, rows in by_country.items()}, default_class_id)


# Every order reads the rates of its country; a merchant changes them a few times a year.
_tax_rates = ProcessCache("orders.tax_rates", _load_tax_rates, models=[TaxRate, TaxClass])


class TaxTable:
    """The rates that apply in one country on one day, by tax class."""

    def __init__(self, rules_by_class: dict, default_class_id):
        self._rules = rules_by_class
        self.default_class_id = default_class_id

    @classmethod
    def for_country(cls, country: str, on_date) -> "TaxTable":
        return cached(("tax_table", country, on_date), lambda: cls._build(country, on_date))

    @classmethod
    def _build(cls, country: str, on_date) -> "TaxTable":
        rates = _tax_rates.get()
        rules, default_class_id = {}, None
        # Rows come by class, newest first: the first valid on the day is the class's rule.
        for rate in rates.by_country.get(country, ()):
            if rate.valid_from > on_date:
                continue
            if rate.is_default_class:
                default_class_id = rate.tax_class_id
            if rate.tax_class_id not in rules:
                rules[rate.tax_class_id] = TaxRule(rate.name, rate.rate)
        return cls(rules, default_class_id or rates.default_class_id)

    def rule_for(self, tax_class_id) -> TaxRule:
        """The rule of a class; products without a class (None) use the default class."""
        class_id = tax_class_id if tax_class_id is not None else self.default_class_id
        return self._rules.get(class_id, NO_TAX)

    @property
    def shipping_rule(self) -> TaxRule:
        return self.rule_for(None)


@dataclass
class LineInput:
    """A checked line, before pricing: amounts in the order's currency and convention."""

    sku: object
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    tax: Decimal | None = None  # sent by the channel; None: computed from the rules
    index: int = 0


@dataclass
class PricedLine:
    source: LineInput
    discount: Decimal  # the line's own discount plus its share of the order discount
    tax: Decimal
    tax_rate: Decimal
    tax_name: str
    line_total: Decimal

    @property
    def gross_amount(self) -> Decimal:
        return self.source.unit_price * self.source.quantity


@dataclass
class PricedOrder:
    lines: list[PricedLine]
    prices_include_tax: bool
    shipping_total: Decimal
    shipping_tax: Decimal
    shipping_tax_rate: Decimal
    shipping_tax_name: str
    order_discount: Decimal
    subtotal: Decimal = Decimal(0)
    discount_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    grand_total: Decimal = Decimal(0)
    problems: dict = field(default_factory=dict)


def _tax_of(amount: Decimal, rate: Decimal, *, included: bool, currency: str) -> Decimal:
    if not rate:
        return Decimal(0)
    if included:
        return quantize(amount * rate / (HUNDRED + rate), currency)
    return quantize(amount * rate / HUNDRED, currency)


def _rule_for_sent_tax(rule: TaxRule, sent: Decimal, net: Decimal, computed: Decimal) -> TaxRule:
    """How to label a tax the channel sent: the rule's rate when it matches, otherwise the
    rate it works out to (a marketplace's own rate), so tax lines stay truthful."""
    if sent == computed:
        return rule
    if net <= 0 or sent == 0:
        return TaxRule(rule.name, Decimal(0)) if sent == 0 else rule
    return TaxRule(rule.name or "Tax", (sent * HUNDRED / net).quantize(Decimal("0.001")))


def spread(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``amount`` over ``weights`` in proportion, in whole minor units, the
    remainders going to the largest fractions first. The parts add up exactly."""
    total = sum(weights, Decimal(0))
    if not amount or total <= 0:
        return [Decimal(0)] * len(weights)
    unit = Decimal(1).scaleb(-minor_units(currency))
    units = int((amount / unit).to_integral_value())
    exact = [Decimal(units) * weight / total for weight in weights]
    parts = [int(share) for share in exact]  # floor: shares are not negative
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    return [Decimal(part) * unit for part in parts]


def price_order(
    *,
    lines: list[LineInput],
    currency: str,
    country: str,
    prices_include_tax: bool,
    on_date,
    shipping_total: Decimal = Decimal(0),
    shipping_tax: Decimal | None = None,
    order_discount: Decimal = Decimal(0),
    tax_table: TaxTable | None = None,
) -> PricedOrder:
    """Price checked lines: discounts spread, tax per line by the rules, totals.

    An order discount larger than the lines (after their own discounts) is reported in
    ``problems`` (field ``discount``) rather than raised, so callers name the field.
    """
    table = tax_table or TaxTable.for_country(country, on_date)
    bases = [line.unit_price * line.quantity - line.discount for line in lines]
    problems = {}
    if order_discount > sum(bases, Decimal(0)):
        problems["discount"] = ["Larger than the lines after their own discounts."]
        order_discount = Decimal(0)
    shares = spread(order_discount, bases, currency)
    priced = []
    for line, base, share in zip(lines, bases, shares, strict=True):
        paid = base - share  # what the line costs in the order's convention
        rule = table.rule_for(line.sku.product.tax_class_id)
        computed = _tax_of(paid, rule.rate, included=prices_include_tax, currency=currency)
        if line.tax is None:
            tax = computed
        else:
            tax = line.tax
            net = paid - tax if prices_include_tax else paid
            rule = _rule_for_sent_tax(rule, tax, net, computed)
        priced.append(
            PricedLine(
                source=line,
                discount=line.discount + share,
                tax=tax,
                tax_rate=rule.rate,
                tax_name=rule.name,
                line_total=paid if prices_include_tax else paid + tax,
            )
        )
    ship_rule = table.shipping_rule
    computed_shipping_tax = _tax_of(
        shipping_total, ship_rule.rate, included=prices_include_tax, currency=currency
    )
    if shipping_tax is None:
        shipping_tax = computed_shipping_tax
    else:
        net = shipping_total - shipping_tax if prices_include_tax else shipping_total
        ship_rule = _rule_for_sent_tax(ship_rule, shipping_tax, net, computed_shipping_tax)
    result = PricedOrder(
        lines=priced,
        prices_include_tax=prices_include_tax,
        shipping_total=shipping_total,
        shipping_tax=shipping_tax,
        shipping_tax_rate=ship_rule.rate if shipping_total else Decimal(0),
        shipping_tax_name=ship_rule.name if shipping_total else "",
        order_discount=order_discount,
        problems=problems,
    )
    result.subtotal = sum((p.gross_amount for p in priced), Decimal(0))
    result.discount_total = sum((p.discount for p in priced), Decimal(0))
    result.tax_total = sum((p.tax for p in priced), Decimal(0)) + shipping_tax
    result.grand_total = result.subtotal - result.discount_total + shipping_total
    if not prices_include_tax:
        result.grand_total += result.tax_total
    return result


@dataclass(frozen=True)
class TaxLine:
    """Tax at one rate on an order or document: the net base and the tax on it."""

    name: str
    rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal

    @property
    def label(self) -> str:
        rate = self.rate.normalize()
        return f"{self.name} {rate:f} %".strip() if self.name else f"{rate:f} %"


def tax_lines(order, lines=None) -> list[TaxLine]:
    """The order's tax per rate (lines and shipping together), highest rate first."""
    groups = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines if lines is not None else order.lines.all():
        group = groups[(line.tax_name, line.tax_rate)]
        group[0] += line.line_total - line.tax_amount
        group[1] += line.tax_amount
    if order.shipping_total:
        group = groups[(order.shipping_tax_name, order.shipping_tax_rate)]
        net = order.shipping_total
        if order.prices_include_tax:
            net -= order.shipping_tax_amount
        group[0] += net
        group[1] += order.shipping_tax_amount
    return sorted(
        (TaxLine(name, rate, net, tax) for (name, rate), (net, tax) in groups.items()),
        key=lambda line: (-line.rate, line.name),
    )

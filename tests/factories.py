"""Factories for test scenarios (factory_boy). Build the world; act through services/API."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from inventory.models import SKU, Product, StockLevel, Supplier, TaxClass, Warehouse
from oms_site.models import StaffProfile
from orders.models import Customer, SalesChannel, TaxRate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.save()  # keeps the password set by the hook above
        if create and extracted:
            StaffProfile.objects.update_or_create(user=self, defaults={"role": extracted})


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"sup-{n}")
    name = factory.LazyAttribute(lambda s: s.code.title())


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU
        django_get_or_create = ("code",)

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = "Default"
    price = Decimal("10.00")
    currency = "EUR"
    weight_grams = 500


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wh{n}")
    name = factory.LazyAttribute(lambda w: f"Warehouse {w.code}")
    city = "Berlin"
    country = "DE"
    latitude = 52.52
    longitude = 13.405
    rank = 10


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesChannel
        django_get_or_create = ("code",)

    code = "web"
    name = "Web shop"
    kind = SalesChannel.Kind.WEB
    currency = "EUR"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = "Erika Mustermann"


def stock(sku, warehouse, on_hand, safety_stock=0):
    """Put units on the shelf through the ledger, as a receipt would."""
    from inventory import stock as stock_service
    from oms_site.actors import Actor

    if on_hand:
        stock_service.receive(
            sku=sku,
            warehouse=warehouse,
            quantity=on_hand,
            actor=Actor.system("test"),
            reference="test-setup",
        )
    level, _ = StockLevel.objects.get_or_create(sku=sku, warehouse=warehouse)
    if safety_stock:
        StockLevel.objects.filter(pk=level.pk).update(safety_stock=safety_stock)
    level.refresh_from_db()
    return level


class TaxClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxClass
        django_get_or_create = ("code",)

    code = "standard"
    name = factory.LazyAttribute(lambda c: c.code.title())
    is_default = factory.LazyAttribute(lambda c: c.code == "standard")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    tax_class = factory.SubFactory(TaxClassFactory)
    rate = Decimal("19")
    name = "VAT"
    valid_from = factory.LazyFunction(lambda: __import__("datetime").date(2020, 1, 1))


def tax_rules():
    """Germany 19 % / 7 % (food), Norway MVA 25 % / 15 % (food) / 12 % / 0 %."""
    standard = TaxClassFactory(code="standard")
    food = TaxClassFactory(code="food", is_default=False)
    reduced = TaxClassFactory(code="reduced", is_default=False)
    zero = TaxClassFactory(code="zero", is_default=False)
    for country, tax_class, rate, name in [
        ("DE", standard, "19", "USt."),
        ("DE", food, "7", "USt."),
        ("NO", standard, "25", "MVA"),
        ("NO", food, "15", "MVA"),
        ("NO", reduced, "12", "MVA"),
        ("NO", zero, "0", "MVA"),
    ]:
        TaxRateFactory(country=country, tax_class=tax_class, rate=Decimal(rate), name=name)
    return {"standard": standard, "food": food, "reduced": reduced, "zero": zero}

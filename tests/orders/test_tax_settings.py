"""The tax rules page: classes and rates are the merchant's data."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import TaxClass
from orders.models import SalesChannel, TaxRate
from tests.conftest import ROLES

from ..factories import TaxClassFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

INTEGRATIONS = {"owner", "manager"}
URL = "/settings/tax/"


def rate_form(**overrides):
    data = {
        "form": "rate",
        "rate-country": "NO",
        "rate-tax_class": TaxClassFactory(code="standard").pk,
        "rate-rate": "25",
        "rate-name": "MVA",
        "rate-valid_from": "2024-01-01",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_who_may_see_the_tax_rules(client_for, role):
    expected = 200 if role in INTEGRATIONS else 403
    assert client_for(role).get(URL).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_who_may_add_a_rate(client_for, role):
    response = client_for(role).post(URL, rate_form())
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    assert TaxRate.objects.filter(country="NO", rate=Decimal("25")).exists() == allowed


@pytest.mark.parametrize("role", ROLES)
def test_who_may_delete_a_rate(client_for, role):
    rate = TaxRateFactory()
    response = client_for(role).post(reverse("order_settings:tax_rate_delete", args=[rate.pk]))
    allowed = role in INTEGRATIONS
    assert response.status_code == (302 if allowed else 403)
    assert TaxRate.objects.filter(pk=rate.pk).exists() != allowed


def test_the_same_country_class_and_date_changes_the_rate(client_for):
    manager = client_for("manager")
    manager.post(URL, rate_form())
    manager.post(URL, rate_form(**{"rate-rate": "24", "rate-name": "MVA (ny)"}))

    rate = TaxRate.objects.get()
    assert (rate.rate, rate.name) == (Decimal("24"), "MVA (ny)")


def test_a_rate_out_of_range_is_refused(client_for):
    response = client_for("manager").post(URL, rate_form(**{"rate-rate": "120"}))
    assert response.status_code == 200
    assert "rate" in response.context["rate_form"].errors
    assert not TaxRate.objects.exists()


def test_a_new_default_class_takes_the_role_over(client_for):
    TaxClassFactory(code="standard")
    response = client_for("manager").post(
        URL,
        {
            "form": "class",
            "class-code": "general",
            "class-name": "General",
            "class-is_default": "on",
        },
    )
    assert response.status_code == 302
    assert list(TaxClass.objects.filter(is_default=True).values_list("code", flat=True)) == [
        "general"
    ]


def test_the_page_lists_the_rates(client_for):
    TaxRateFactory(country="NO", name="MVA", rate=Decimal("25"))
    page = client_for("manager").get(URL).content.decode()
    assert "MVA" in page and "25 %" in page


def test_a_channel_enters_gross_prices(client_for, channel):
    response = client_for("manager").post(
        reverse("order_settings:channel_edit", args=[channel.pk]),
        {
            "code": "web",
            "name": "Web",
            "kind": "web",
            "currency": "NOK",
            "prices_include_tax": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert SalesChannel.objects.get(pk=channel.pk).prices_include_tax

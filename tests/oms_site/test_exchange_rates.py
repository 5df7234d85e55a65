"""Currencies: the dated rate table's CSV import and page, and money shown per locale."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from oms_site import exchange_rates
from oms_site.errors import ValidationFailed
from oms_site.models import ExchangeRate
from oms_site.money import babel_locale, convert_to_base, format_money
from tests.conftest import ROLES

URL = "/settings/rates/"
INTEGRATIONS = {"owner", "manager"}
D = Decimal


def test_money_reads_as_people_write_it():
    assert format_money(D("1234.5"), "NOK", locale="nb_NO") == "kr\xa01\xa0234,50"
    assert format_money(D("1234.5"), "EUR", locale="en_US") == "€1,234.50"
    assert format_money(D("1234"), "JPY", locale="en_US") == "¥1,234"
    assert format_money(D("1.2345"), "KWD", locale="en_US") == "KWD1.235"


def test_the_active_language_picks_the_locale():
    with translation.override("nb"):
        assert babel_locale() == "nb_NO"
        assert format_money(D("99"), "NOK") == "kr\xa099,00"
    with translation.override("en-us"):
        assert format_money(D("99"), "NOK") == "NOK99.00"


@pytest.mark.django_db
def test_import_adds_and_replaces_rates_and_inverts_published_ones():
    ExchangeRate.objects.create(currency="NOK", valid_on=date(2025, 3, 3), rate=D("0.08"))
    result = exchange_rates.import_rates(
        "currency,valid_on,rate\nNOK,2025-03-03,0.0852\nSEK,2025-03-03,0.0875\n"
    )
    assert (result.created, result.updated) == (1, 1)
    result = exchange_rates.import_rates("date,currency,units_per_base\n2025-03-04,NOK,11.7325\n")
    assert result.created == 1
    assert ExchangeRate.objects.get(currency="NOK", valid_on=date(2025, 3, 4)).rate == D(
        "0.08523333"
    )
    assert convert_to_base(D("100"), "NOK", date(2025, 3, 5)) == (
        D("8.52"),
        D("0.08523333"),
        date(2025, 3, 4),
    )


@pytest.mark.django_db
def test_a_bad_row_refuses_the_whole_file_with_line_numbers():
    text = (
        "currency,valid_on,rate\n"
        "NOK,2025-03-03,0.0852\n"
        "XYZ,2025-03-03,1\n"
        "SEK,03/03/2025,0.09\n"
        "EUR,2025-03-03,1\n"
        "DKK,2025-03-03,-1\n"
        "NOK,2025-03-03,0.0853\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        exchange_rates.import_rates(text)
    errors = refused.value.fields["file"]
    assert [e.split(":")[0] for e in errors] == ["Line 3", "Line 4", "Line 5", "Line 6", "Line 7"]
    assert "base currency" in errors[2]
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_a_file_without_the_columns_is_refused():
    with pytest.raises(ValidationFailed):
        exchange_rates.import_rates("code,day,value\nNOK,2025-01-01,1\n")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_who_may_use_the_rates_page(client_for, role):
    client = client_for(role)
    allowed = role in INTEGRATIONS
    assert client.get(URL).status_code == (200 if allowed else 403)
    upload = SimpleUploadedFile("rates.csv", b"currency,valid_on,rate\nNOK,2025-01-02,0.085\n")
    response = client.post(URL, {"form": "import", "file": upload})
    assert response.status_code == (302 if allowed else 403)
    assert ExchangeRate.objects.filter(currency="NOK").exists() == allowed


@pytest.mark.django_db
def test_the_page_shows_import_errors_and_writes_nothing(client_for):
    response = client_for("manager").post(
        URL, {"form": "import", "text": "currency,valid_on,rate\nNOK,2025-13-01,0.085\n"}
    )
    assert response.status_code == 200
    assert "Line 2" in response.content.decode()
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_one_rate_from_the_form_and_its_history(client_for):
    manager = client_for("manager")
    response = manager.post(
        URL, {"form": "rate", "currency": "NOK", "valid_on": "2025-05-01", "rate": "0.0861"}
    )
    assert response.status_code == 302
    page = manager.get(URL + "?currency=NOK").content.decode()
    assert "0.08610000" in page and "2025-05-01" in page

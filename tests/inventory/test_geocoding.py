"""Warehouse coordinates from the address (offline GeoNames data), and what the page says."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.geocoding import locate
from inventory.models import Warehouse

pytestmark = pytest.mark.django_db


def warehouse_post(**overrides):
    data = {
        "code": "new",
        "name": "New DC",
        "city": "Hamburg",
        "country": "DE",
        "rank": 10,
        "active": "on",
        "latitude": "",
        "longitude": "",
    }
    data.update(overrides)
    return data


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_locate_finds_a_known_city():
    place = locate("DE", "Hamburg")
    assert place.precision == "city"
    assert place.place == "Hamburg"
    assert place.latitude == pytest.approx(53.55, abs=0.05)
    assert place.longitude == pytest.approx(9.99, abs=0.05)


def test_locate_ignores_case_accents_and_country_case():
    assert locate("de", "MÜNCHEN").place == "Munich"


def test_locate_falls_back_to_the_capital_for_an_unknown_city():
    place = locate("DE", "Nowhere-an-der-Spree")
    assert (place.precision, place.place) == ("country", "Berlin")


def test_locate_knows_nothing_without_a_country():
    assert locate("", "Hamburg") is None


def test_empty_coordinates_are_filled_from_a_known_city(client_for):
    response = client_for("owner").post(reverse("inventory:warehouse_create"), warehouse_post())
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(code="new")
    assert warehouse.latitude == pytest.approx(53.55, abs=0.05)
    assert warehouse.longitude == pytest.approx(9.99, abs=0.05)
    notes = " ".join(messages_of(response))
    assert "Hamburg" in notes and "precision: city" in notes


def test_an_unknown_city_falls_back_to_the_capital_and_says_so(client_for):
    response = client_for("manager").post(
        reverse("inventory:warehouse_create"), warehouse_post(city="Nowhere-an-der-Spree")
    )
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(code="new")
    assert warehouse.latitude == pytest.approx(52.52, abs=0.05)
    assert warehouse.longitude == pytest.approx(13.40, abs=0.05)
    notes = " ".join(messages_of(response))
    assert "Nowhere-an-der-Spree" in notes
    assert "capital Berlin" in notes and "precision: country" in notes


def test_typed_coordinates_win_over_the_lookup(client_for):
    response = client_for("owner").post(
        reverse("inventory:warehouse_create"), warehouse_post(latitude="10.5", longitude="-20.25")
    )
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(code="new")
    assert (warehouse.latitude, warehouse.longitude) == (10.5, -20.25)
    assert not any("precision" in note for note in messages_of(response))


def test_clearing_coordinates_on_edit_looks_them_up_again(client_for):
    warehouse = Warehouse.objects.create(
        code="old", name="Old", city="Hamburg", country="DE", latitude=1.0, longitude=2.0
    )
    response = client_for("owner").post(
        reverse("inventory:warehouse_edit", args=[warehouse.pk]),
        warehouse_post(code="old", city="Köln"),
    )
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.latitude == pytest.approx(50.94, abs=0.05)
    assert warehouse.longitude == pytest.approx(6.96, abs=0.05)


def test_coordinates_out_of_range_are_refused(client_for):
    response = client_for("owner").post(
        reverse("inventory:warehouse_create"), warehouse_post(latitude="95", longitude="10")
    )
    assert response.status_code == 200
    assert "latitude" in response.context["form"].errors
    assert not Warehouse.objects.filter(code="new").exists()

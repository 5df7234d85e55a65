"""Language and formats: the user's choice, then the browser's; amounts, numbers and
dates the way each language writes them (Babel)."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from oms_site.models import StaffProfile
from oms_site.money import format_money, format_number
from oms_site.templatetags.oms_format import day, money, when

NBSP = "\u00a0"


def test_the_browser_language_is_used_when_the_user_chose_none(client_for):
    response = client_for("manager").get("/orders/", HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9")
    html = response.content.decode()
    assert 'lang="nb"' in html
    assert "Ordrer" in html and "Logg ut" in html


def test_the_users_choice_wins_over_the_browser(client_for, users):
    StaffProfile.objects.filter(user=users["manager"]).update(language="nb")
    response = client_for("manager").get("/orders/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="nb"' in response.content.decode()
    assert response["Content-Language"] == "nb"


def test_the_switcher_saves_the_choice_on_the_profile_and_in_a_cookie(client_for, users):
    client = client_for("support")
    response = client.post("/language/", {"language": "nb", "next": "/orders/"})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert StaffProfile.objects.get(user=users["support"]).language == "nb"
    assert response.cookies["oms_language"].value == "nb"
    # Another browser of the same user: the profile decides.
    assert 'lang="nb"' in client_for("support").get("/orders/").content.decode()


def test_the_switcher_works_before_logging_in(client):
    response = client.post("/language/", {"language": "nb", "next": "/login/"})
    assert response.cookies["oms_language"].value == "nb"
    assert "Logg inn" in client.get("/login/").content.decode()


def test_the_switcher_ignores_unknown_languages_and_foreign_redirects(client_for, users):
    client = client_for("readonly")
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "oms_language" not in response.cookies


def test_the_switcher_does_not_give_a_role_to_a_user_without_one(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-pass-word-1")
    client.force_login(user)
    client.post("/language/", {"language": "nb"})
    assert not StaffProfile.objects.filter(user=user).exists()


def test_the_switcher_needs_post(client):
    assert client.get("/language/").status_code == 405


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", "1234.5", "EUR", "€1,234.50"),
        ("en", "1234.5", "JPY", "¥1,235"),
        ("nb", "1234.5", "NOK", f"kr{NBSP}1{NBSP}234,50"),
        ("nb", "1234.5", "EUR", f"€{NBSP}1{NBSP}234,50"),
        ("nb", "-20", "NOK", f"-kr{NBSP}20,00"),
    ],
)
def test_money_is_formatted_for_the_language(language, amount, currency, shown):
    with translation.override(language):
        assert format_money(Decimal(amount), currency) == shown
        assert money(Decimal(amount), currency) == shown


def test_numbers_and_dates_follow_the_language(settings):
    settings.TIME_ZONE = "UTC"
    moment = timezone.make_aware(datetime(2026, 3, 5, 14, 7))
    with translation.override("en"):
        assert format_number(1234567) == "1,234,567"
        assert when(moment) == "Mar 5, 2026, 14:07"
        assert day(moment) == "Mar 5, 2026"
    with translation.override("nb"):
        assert format_number(1234567) == f"1{NBSP}234{NBSP}567"
        assert when(moment) == "5. mars 2026, 14:07"
        assert day(moment) == "5. mars 2026"


def test_a_missing_amount_is_a_dash():
    assert money(None, "EUR") == "—"

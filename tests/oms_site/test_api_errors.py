"""Every answer under /api/ is JSON, every error has one shape, no input makes a 500."""

import json

import pytest
from django.test import RequestFactory

from oms_site import views
from oms_site.api_filters import parse_rfc3339

from ..factories import stock
from ..helpers import order_payload

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def stocked(channel, warehouse, sku):
    stock(sku, warehouse, 10)
    return sku


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["fields"], dict)
    for path, messages in error["fields"].items():
        assert isinstance(path, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    if code:
        assert error["code"] == code
    return error


def test_unknown_api_url_is_a_json_404(api):
    assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(api.get("/api/nothing-here"), 404, "not_found")


def test_unknown_order_is_a_json_404(api):
    assert_error(api.get(f"{ORDERS}SO-9999999/"), 404, "not_found")


def test_wrong_method_is_a_json_405(api):
    assert_error(api.delete(ORDERS), 405, "method_not_allowed")


def test_a_crash_under_api_is_a_json_500():
    request = RequestFactory().get("/api/v1/orders/")
    response = views.server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    from oms_site import urls

    assert urls.handler500 == "oms_site.views.server_error"


def test_pages_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_deeply_nested_json_is_a_400_not_a_500(api, stocked):
    body = "[" * 1000 + "]" * 1000
    assert_error(api.post(ORDERS, data=body, content_type="application/json"), 400, "parse_error")
    body = json.dumps(order_payload(notes=None)).replace(
        '"notes": null', '"notes": ' + "[" * 40 + "]" * 40
    )
    assert_error(api.post(ORDERS, data=body, content_type="application/json"), 400, "parse_error")


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "channel=web"),
        ("multipart/form-data; boundary=x", "--x\r\n--x--\r\n"),
        ("text/plain", "{}"),
    ],
)
def test_only_json_bodies_are_accepted(api, stocked, content_type, body):
    response = api.post(ORDERS, data=body, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_a_client_that_wont_take_json_gets_406(api):
    assert_error(api.get(ORDERS, HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_field_errors_are_dotted_paths_everywhere(api, stocked):
    body = order_payload(lines=(("TSHIRT-BLK-M", 0),))
    body["shipping_address"]["country"] = 5
    error = assert_error(api.post(ORDERS, body, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"lines.0.quantity", "shipping_address.country"}

    # A service's refusal (well-formed, but no such SKU) uses the same shape: 422.
    error = assert_error(
        api.post(ORDERS, order_payload(lines=(("NOPE", 1),)), format="json"), 422, "invalid"
    )
    assert list(error["fields"]) == ["lines.0.sku"]


def test_unknown_fields_and_wrong_json_types_are_400(api, stocked):
    error = assert_error(api.post(ORDERS, order_payload(colour="red"), format="json"), 400)
    assert error["fields"] == {"colour": ["Unknown field."]}
    error = assert_error(api.post(ORDERS, order_payload(draft="true"), format="json"), 400)
    assert "draft" in error["fields"]
    error = assert_error(api.post(ORDERS, order_payload(shipping_total=4.9), format="json"), 400)
    assert "shipping_total" in error["fields"]


def test_a_whole_number_in_decimal_form_is_not_an_integer(api, stocked):
    """The schema (OpenAPI 3.0) says integer: 2.0 is a number, refused like 2.5."""
    error = assert_error(
        api.post(ORDERS, order_payload(lines=(("TSHIRT-BLK-M", 2.0),)), format="json"), 400
    )
    assert list(error["fields"]) == ["lines.0.quantity"]
    assert "2.0" in error["fields"]["lines.0.quantity"][0]
    body = {"sku": "LEAD-1", "product": "Lead", "lead_time_days": 10.0}
    error = assert_error(api.post("/api/v1/skus/", body, format="json"), 400)
    assert list(error["fields"]) == ["lead_time_days"]


@pytest.mark.parametrize(
    "value",
    [
        "0069-04-08T20:34:10+18:08",  # offset PostgreSQL refuses
        "0001-01-01T00:00:00+05:00",  # before the first moment Python can hold in UTC
        "9999-12-31T23:59:59-05:00",  # after the last one
        "2026-06-30T23:59:60Z",  # a leap second
        "2026-05-01T08:00:00.123456789+02:00",
    ],
)
def test_any_rfc3339_moment_filters_without_error(api, stocked, value):
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        response = api.get(ORDERS, {name: value})
        assert response.status_code == 200, (name, value, response.content)


@pytest.mark.parametrize("value", ["", "2026-05-01", "2026-05-01T08:00:00", "yesterday"])
def test_malformed_or_empty_date_filters_are_400(api, value):
    error = assert_error(api.get(ORDERS, {"updated_before": value}), 400, "invalid")
    assert "updated_before" in error["fields"]


def test_rfc3339_is_converted_to_utc():
    moment = parse_rfc3339("2026-05-01T10:00:00+02:00")
    assert moment.isoformat() == "2026-05-01T08:00:00+00:00"


@pytest.mark.parametrize("query", ["page_size=0", "page_size=201", "page_size=abc", "cursor="])
def test_bad_page_parameters_are_400(api, query):
    assert_error(api.get(f"{ORDERS}?{query}"), 400, "invalid")


def test_a_cursor_that_points_nowhere_is_404(api):
    assert_error(api.get(f"{ORDERS}?cursor=zzz"), 404, "not_found")


def test_boolean_filters_take_true_or_false_only(api, stocked):
    assert api.get("/api/v1/skus/?active=true").status_code == 200
    assert_error(api.get("/api/v1/skus/?active=2"), 400, "invalid")


def test_nul_in_a_text_filter_matches_nothing(api, stocked):
    response = api.get(ORDERS, {"q": "a\x00b"})
    assert response.status_code == 200 and response.json()["results"] == []

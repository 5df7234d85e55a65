"""The OpenAPI document itself, checked without a server: what a client generated from it
or a validator reading it would accept must be what the server accepts."""

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document():
    return SchemaGenerator().get_schema(request=None, public=True)


def _nodes_with(document, keyword):
    stack = [("", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            if keyword in node:
                yield path, node
            stack.extend((f"{path}/{key}", value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}/{index}", value) for index, value in enumerate(node))


def _validator(document, schema):
    """A validator of ``schema`` whose ``#/components/...`` references resolve in the
    document."""
    rooted = {"allOf": [schema], "components": document["components"]}
    return jsonschema.Draft7Validator(
        rooted, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_no_one_of_lets_an_empty_string_match_two_branches(document):
    """drf-spectacular writes a blank-allowed text as ``oneOf: [text, {maxLength: 0}]``;
    when the text branch accepts "" as well, "" breaks the ``oneOf`` (a fuzzer found
    ``"brand": ""`` declared invalid yet accepted)."""
    overlapping = []
    for path, node in _nodes_with(document, "oneOf"):
        matches = [branch for branch in node["oneOf"] if _validator(document, branch).is_valid("")]
        if len(matches) > 1:
            overlapping.append(path)
    assert overlapping == []


def test_blank_text_fields_are_valid_as_declared(document):
    product = document["components"]["schemas"]["ProductWriteRequest"]
    validator = _validator(document, product)
    assert validator.is_valid({"name": "Mug", "brand": "", "description": ""})
    assert not validator.is_valid({"name": "Mug", "brand": "x" * 101})
    assert not validator.is_valid({"name": "Mug", "brand": "a\u0000b"})

    order = document["components"]["schemas"]["OrderCreateRequest"]["properties"]["email"]
    email = _validator(document, order)
    assert email.is_valid("") and email.is_valid("ada@example.com")
    assert not email.is_valid("not an e-mail")


def test_the_server_accepts_a_blank_brand(api):
    response = api.post("/api/v1/products/", {"name": "Mug", "brand": ""}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["brand"] == ""

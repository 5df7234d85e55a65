"""The OpenAPI document says exactly what the server does.

drf-spectacular infers most of it; this module adds what it can't know, for every endpoint
at once (so endpoints added later are described by the same rules):

- the error responses each operation can give, all in the one ``Error`` shape: 401/403/406
  everywhere, 400 where a body or query parameters can be wrong, 413/415 where a body is
  read, 404 where the path names a resource, 409/422 where a write can be refused;
- request objects of our strict serializers refuse unknown properties
  (``additionalProperties: false``);
- text fields refuse the NUL character (PostgreSQL can't store it), stated as a pattern;
- decimal strings state their exact pattern (no sign unless negatives are allowed);
- links from each create operation to the operations on the resource it created, for
  stateful clients and tests.
"""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from .api_fields import RefusesUnknownFields, decimal_pattern

ERROR_COMPONENT = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every 4xx and 5xx answer. `fields` maps the dotted path of each offending input "
        "(`lines.0.sku`, `shipping_address.country`, `Idempotency-Key`) to its messages; "
        "errors about the request as a whole are under `non_field_errors`."
    ),
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine-readable, e.g. invalid, not_found, "
                    "transition_not_allowed.",
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}

ERROR_DESCRIPTIONS = {
    "400": "The request does not match this schema (type, required field, length, range, "
    "unknown field, malformed JSON, bad query parameter or cursor).",
    "401": "No credentials, or an invalid, revoked or expired API key.",
    "403": "The role or the API key's scopes or channels do not allow this.",
    "404": "No such resource (or not visible to this key).",
    "406": "The Accept header excludes application/json.",
    "409": "The resource's current state does not allow this (e.g. the order already "
    "shipped), or a conflicting record exists.",
    "414": "The URL is longer than the web server accepts (too many or too long query "
    "values); this answer comes from the web server and may not be JSON.",
    "413": "The body is larger than the server accepts (OMS_MAX_REQUEST_BYTES).",
    "415": "The body is not application/json.",
    "422": "Well-formed, but refused: it names something unknown or breaks a business rule "
    "(unknown SKU, totals that don't add up, Idempotency-Key reused with another body).",
}
# Answered by gunicorn before Django sees the request: no JSON body is promised.
FROM_WEB_SERVER = {"414"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
NO_NUL = "[^\\u0000]"
# CharField subclasses whose values already have a format or pattern of their own.
_FORMATTED_TEXT = (
    serializers.EmailField,
    serializers.RegexField,
    serializers.SlugField,
    serializers.URLField,
    serializers.UUIDField,
    serializers.IPAddressField,
)


class AutoSchema(SpectacularAutoSchema):
    """The project's schema generator (``DEFAULT_SCHEMA_CLASS``).

    A view may set ``error_statuses`` (a set of status codes) to replace the inferred error
    responses, or ``extra_error_statuses`` to add to them.
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        responses = operation.setdefault("responses", {})
        component = self._error_component()
        for code in sorted(self.error_statuses(has_query=has_query)):
            response = {"description": ERROR_DESCRIPTIONS.get(code, "Error.")}
            if code not in FROM_WEB_SERVER:
                response["content"] = {"application/json": {"schema": component.ref}}
            responses.setdefault(code, response)
        return operation

    def error_statuses(self, *, has_query: bool) -> set[str]:
        override = getattr(self.view, "error_statuses", None)
        if override is not None:
            return {str(code) for code in override}
        statuses = {"401", "403", "406"}
        if self.method in BODY_METHODS:
            statuses |= {"400", "413", "415"}
        if self.method in WRITE_METHODS:
            statuses |= {"409", "422"}
        if has_query:
            statuses |= {"400", "414"}
        if re.search(r"\{[^}]+\}", self.path) or self._get_pagination_parameters():
            statuses.add("404")  # no such resource, or a cursor that points nowhere
        statuses |= {str(code) for code in getattr(self.view, "extra_error_statuses", ())}
        return statuses

    def _error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name=ERROR_COMPONENT,
            type=ResolvedComponent.SCHEMA,
            object=ERROR_COMPONENT,
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        return component

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, RefusesUnknownFields):
            schema["additionalProperties"] = False
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        _blank_as_one_branch(schema)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.ListSerializer | serializers.ListField):
            if not field.allow_empty:
                schema.setdefault("minItems", 1)
            if getattr(field, "min_length", None) is not None:
                schema["minItems"] = field.min_length
            if getattr(field, "max_length", None) is not None:
                schema["maxItems"] = field.max_length
            return schema
        if (
            isinstance(field, serializers.CharField)
            and not isinstance(field, _FORMATTED_TEXT)
            and "pattern" not in schema
            and "format" not in schema
            and "enum" not in schema
        ):
            schema["pattern"] = f"^{NO_NUL}*$"
        elif isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        return schema


_BLANK = {"type": "string", "maxLength": 0}


def _blank_as_one_branch(schema: dict) -> None:
    """Keep the empty string valid under exactly one branch.

    drf-spectacular states a blank-allowed text with a pattern or format as
    ``oneOf: [text, {maxLength: 0}]``. When the text's own branch accepts "" too (the
    no-NUL pattern does), "" matches both branches and so fails ``oneOf``: a client or a
    validator would refuse what the server accepts. Such a field is stated as its text
    branch alone; any other pair becomes ``anyOf``, which means the same whether or not
    the branches overlap.
    """
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or len(branches) != 2 or branches[1] != _BLANK:
        return
    text = branches[0]
    accepts_blank = (
        text.get("type") == "string"
        and "format" not in text
        and not text.get("minLength")
        and re.search(text.get("pattern", ""), "") is not None
    )
    if accepts_blank:
        del schema["oneOf"]
        schema.update(text)
    else:
        schema["anyOf"] = schema.pop("oneOf")


# --- Postprocessing: links between operations ----------------------------------------------

_PARAMETER = re.compile(r"\{([^}]+)\}")


def add_links(result, generator, request, public):
    """Link every 201 response to the operations on the resource it created.

    ``POST /orders/`` answers an order with ``number``; ``/orders/{number}/...`` operations
    take that number. A create operation is linked to every operation whose path is its own
    path plus ``{field}`` (and anything after it), when the created object has that field.
    """
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        for method, operation in operations.items():
            created = operation.get("responses", {}).get("201")
            if method != "post" or not created:
                continue
            body = created.get("content", {}).get("application/json", {}).get("schema", {})
            properties = _properties(body, schemas)
            links = {}
            for target_path, target_operations in paths.items():
                if not target_path.startswith(path) or target_path == path:
                    continue
                first = _PARAMETER.match(target_path[len(path) :])
                if not first or first.group(1) not in properties:
                    continue
                if len(_PARAMETER.findall(target_path)) != len(_PARAMETER.findall(path)) + 1:
                    continue
                name = first.group(1)
                for target in target_operations.values():
                    operation_id = target.get("operationId")
                    if not operation_id:
                        continue
                    links[operation_id] = {
                        "operationId": operation_id,
                        "parameters": {name: f"$response.body#/{name}"},
                    }
            if links:
                created["links"] = links
    return result


def _properties(schema, schemas) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return schema.get("properties", {})

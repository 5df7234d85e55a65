"""The API reads JSON and nothing else.

Form-encoded and multipart bodies carry every value as text, so "minutes=5" would fail as
"not a whole number": the API accepts ``application/json`` only and answers any other
content type with 415. Documents nested deeper than any request body of ours are refused
with 400 before a serializer walks them (Python's parser itself dies with RecursionError
at about 1,000 levels).
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Our deepest request body is an order: order -> lines -> line -> field, four or five
# levels. Thirty leaves room for growth and stops pathological nesting early.
MAX_DEPTH = 30


def nesting_depth_exceeds(document, limit: int) -> bool:
    """Whether arrays/objects in ``document`` nest deeper than ``limit`` (no recursion)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, with a nesting limit and no RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        if nesting_depth_exceeds(document, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        return document

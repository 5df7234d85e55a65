"""Serializers whose fields are built once per thread, for the API's hot paths.

DRF builds a serializer's fields on every instantiation: it deep-copies every declared
field, and a ModelSerializer introspects its model again. For an order (some 40 fields,
with its lines and their allocations) that was about a sixth of the create path's CPU.
The fields keep no state between calls (DRF's own ListSerializer reuses one child for
every item), so one instance per serializer class and thread can represent or validate
any number of objects; only the context and the instance or data change per call.
"""

import threading

from rest_framework import serializers

_local = threading.local()


def _serializer(serializer_class) -> serializers.BaseSerializer:
    cache = _local.__dict__.setdefault("by_class", {})
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class()
    return serializer


def represent(serializer_class, instance, *, context=None) -> dict:
    """``serializer_class(instance, context=context).data``, without rebuilding fields."""
    serializer = _serializer(serializer_class)
    serializer._context = context or {}
    serializer.instance = instance
    try:
        return serializer.to_representation(instance)
    finally:
        serializer._context = {}
        serializer.instance = None


def validated_data(serializer_class, data) -> dict:
    """``serializer_class(data=data)``'s validated data; raises ``ValidationError`` as
    ``is_valid(raise_exception=True)`` does."""
    serializer = _serializer(serializer_class)
    serializer.initial_data = data
    try:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    finally:
        # The next call validates afresh (is_valid keeps its answer on the instance).
        for name in ("initial_data", "_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(name, None)

"""One serializer instance per class and thread answers exactly as a fresh one would, call
after call: nothing of one call's data, errors or context is left for the next."""

import threading
from types import SimpleNamespace

import pytest
from rest_framework import serializers

from oms_site import serializer_reuse
from oms_site.api_fields import StrictCharField, StrictIntegerField, StrictSerializer


class LineIn(StrictSerializer):
    sku = StrictCharField(max_length=10)
    quantity = StrictIntegerField(min_value=1)


class OrderIn(StrictSerializer):
    channel = serializers.SlugField()
    lines = LineIn(many=True, allow_empty=False)


class LineOut(serializers.Serializer):
    sku = serializers.CharField()


class OrderOut(serializers.Serializer):
    number = serializers.CharField()
    lines = LineOut(many=True)
    caller = serializers.SerializerMethodField()

    def get_caller(self, order) -> str:
        return self.context.get("caller", "")


def an_order(number, *skus):
    return SimpleNamespace(number=number, lines=[SimpleNamespace(sku=sku) for sku in skus])


def test_represents_each_object_with_its_own_context():
    first = serializer_reuse.represent(OrderOut, an_order("SO-1", "A"), context={"caller": "x"})
    second = serializer_reuse.represent(OrderOut, an_order("SO-2", "B", "C"))
    assert first == OrderOut(an_order("SO-1", "A"), context={"caller": "x"}).data
    assert second == {"number": "SO-2", "lines": [{"sku": "B"}, {"sku": "C"}], "caller": ""}


def test_validates_afresh_after_a_refusal():
    with pytest.raises(serializers.ValidationError) as refused:
        serializer_reuse.validated_data(OrderIn, {"channel": "web", "lines": [{"sku": 5}]})
    assert "lines" in refused.value.detail
    data = serializer_reuse.validated_data(
        OrderIn, {"channel": "web", "lines": [{"sku": "A", "quantity": 2}]}
    )
    assert data["channel"] == "web"
    assert [dict(line) for line in data["lines"]] == [{"sku": "A", "quantity": 2}]
    with pytest.raises(serializers.ValidationError):
        serializer_reuse.validated_data(OrderIn, {"channel": "web", "lines": []})


def test_each_thread_has_its_own_instance():
    seen = []

    def use():
        serializer_reuse.represent(OrderOut, an_order("SO-3"))
        seen.append(id(serializer_reuse._serializer(OrderOut)))

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 2

"""Objects a service just wrote, handed to readers as if ``prefetch_related`` had loaded
them: the API answers a create from the objects in hand instead of reading them back."""


def attach(instance, related_name: str, objects) -> None:
    """Make ``instance.<related_name>.all()`` return ``objects`` without a query."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}
    cache.pop(related_name, None)
    queryset = getattr(instance, related_name).get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache[related_name] = queryset


def has(instance, related_name: str) -> bool:
    return related_name in getattr(instance, "_prefetched_objects_cache", {})


def attach_new_order(order, lines) -> None:
    """An order created in this transaction: its lines, and their allocations (none unless
    allocation attached them), are exactly the objects in hand."""
    for line in lines:
        if not has(line, "allocations"):
            attach(line, "allocations", [])
    attach(order, "lines", lines)

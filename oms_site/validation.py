"""Checks of values that services receive from any caller (pages, API, tasks, imports)."""

from .errors import ValidationFailed


def whole_number(value, *, field: str, minimum: int | None = None, nonzero: bool = False) -> int:
    """``value`` as a whole number (never a bool, a float or a string), at least ``minimum``
    and, with ``nonzero``, not zero; otherwise ValidationFailed naming ``field``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(
            f"{field} must be a whole number.", fields={field: ["Not a whole number."]}
        )
    if minimum is not None and value < minimum:
        raise ValidationFailed(
            f"{field} must be {minimum} or more.", fields={field: [f"Must be >= {minimum}."]}
        )
    if nonzero and value == 0:
        raise ValidationFailed(f"{field} must not be zero.", fields={field: ["Must not be zero."]})
    return value

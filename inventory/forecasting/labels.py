"""What the pages call each forecasting model (the engine knows them by short codes, which
the database, the CSV export and the API keep)."""

from django.utils.translation import gettext_lazy as _

MODEL_LABELS = {
    "seasonal_naive": _("Seasonal naive"),
    "ses": _("Exponential smoothing"),
    "holt": _("Holt (trend)"),
    "seasonal_es": _("Seasonal exponential smoothing"),
    "holt_winters": _("Holt-Winters (trend and season)"),
    "theta": _("Theta"),
    "yearly_es": _("Yearly profile and weekly season"),
    "damped": _("Damped trend"),
    "combined": _("Combination (Theta, damped trend, Holt-Winters)"),
    "croston": _("Croston"),
    "sba": _("Syntetos-Boylan (SBA)"),
    "tsb": _("TSB"),
    "none": _("none"),
}


def model_label(code: str) -> str:
    """The model's name for people; an unknown code as it is."""
    return MODEL_LABELS.get(code, code)

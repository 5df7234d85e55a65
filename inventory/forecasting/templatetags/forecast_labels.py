"""``{% load forecast_labels %}`` then ``{{ forecast.model|model_label }}``: the model's
translated name instead of the engine's code."""

from django import template

from inventory.forecasting.labels import model_label as label_of

register = template.Library()


@register.filter
def model_label(code):
    return label_of(code) if code else code

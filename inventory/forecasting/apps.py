from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "inventory.forecasting"
    label = "forecasting"
    verbose_name = "Forecasting and purchasing"
    default_auto_field = "django.db.models.BigAutoField"

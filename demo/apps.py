from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo shop: scenario modules and the ``load_demo`` command.

    The top of the layering: it may import every app, and no app imports it.
    """

    name = "demo"
    verbose_name = "Demo data"

"""Orders listens to inventory: when stock arrives, backordered orders get a chance.
(Payments listen to the orders' own shipping signals: ``orders.payments.receivers``.)"""

from django.dispatch import receiver

from inventory.signals import stock_arrived

from .payments import receivers as _payment_receivers  # noqa: F401 (connects them)


@receiver(stock_arrived)
def allocate_backorders_on_arrival(sender, sku_ids, warehouse_id, **kwargs):
    from .tasks import allocate_backorders

    try:
        allocate_backorders.delay(sku_ids=list(sku_ids))
    except Exception:  # broker down: beat's periodic allocate_backorders catches up
        import logging

        logging.getLogger(__name__).exception("could not enqueue backorder allocation")

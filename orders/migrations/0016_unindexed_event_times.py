"""Fewer index entries for every order written: an event's time is not indexed (a trail
is read by its order, in id order, and an order writes five or six events), and a
payment transaction's refund only where it has one (a payment's own transactions, two
for every marketplace order, have none)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0015_fewer_indexes_on_bulk_written_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderevent",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="refund",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="orders.refund",
            ),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("refund__isnull", False)),
                fields=["refund"],
                name="transaction_refund",
            ),
        ),
    ]

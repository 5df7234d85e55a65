"""An outbox event's time is not indexed: deliveries are found through their own rows,
never events by time, and every order writes one to three events."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oms_site", "0006_outbox_indexes_without_like"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxevent",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
    ]

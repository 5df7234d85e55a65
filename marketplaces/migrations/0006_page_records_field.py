"""A stored page's records are a ``JSONTextField`` (the field an order link's record has
used since 0005), instead of a text column encoded and decoded by hand. The column keeps
its values and its lz4 compression; only its name goes back to ``records``."""

from django.db import migrations

import oms_site.json_field


class Migration(migrations.Migration):
    dependencies = [
        ("marketplaces", "0005_link_record_as_json_text"),
    ]

    operations = [
        migrations.RenameField(model_name="syncpage", old_name="records_json", new_name="records"),
        migrations.AlterField(
            model_name="syncpage",
            name="records",
            field=oms_site.json_field.JSONTextField(
                default=list, help_text="The page's records (a JSON array); emptied once imported."
            ),
        ),
    ]

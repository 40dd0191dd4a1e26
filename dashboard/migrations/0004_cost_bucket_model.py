"""Cost rows carry the model their line item bills, so the Costs page can group by model."""

from django.db import migrations, models

from dashboard.families import line_item_parts


def fill_models(apps, schema_editor):
    CostBucket = apps.get_model("dashboard", "CostBucket")
    line_items = CostBucket.objects.values_list("line_item", flat=True).distinct().order_by()
    for line_item in list(line_items):
        model = line_item_parts(line_item).model
        if model:
            CostBucket.objects.filter(line_item=line_item).update(model=model)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_usage_rows_without_fk_constraint")]

    operations = [
        migrations.AddField(
            model_name="costbucket",
            name="model",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.RunPython(fill_models, migrations.RunPython.noop),
    ]

"""Production: release numbers, expected dates, series lead times, service tokens for the factory API."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0014_invoices")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ServiceToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=64)),
                ("scopes", fields.CharField(max_length=255)),
                ("secret_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Staff",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="service_tokens",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "service_token", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Order",
            name="production_order_number",
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
        ops.AddField(
            model_name="Order",
            name="released_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="OrderPiece",
            name="expected_date",
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name="OrderPiece",
            name="state_since",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Product",
            name="production_days",
            field=fields.IntField(default=15, db_default=15),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Each order's standing (not voided) payments' total, stored on the order (workflow/owed.py keeps it with
# every payment recorded, voided or corrected), so what is owed is read without summing payments: on a
# million orders the company's 未收清 took 1.2 s summing payments (bench/results/issue12-money-stats.md).
#
# Filled from the payments already recorded, in plain SQL that SQLite (3.33+) and PostgreSQL both run.
# ROUND: SQLite sums the decimal text as floating point; rounded to cents it is stored as their text.
FILL = """
UPDATE "order" SET paid_amount = standing.total
FROM (SELECT order_id, ROUND(SUM(amount), 2) AS total FROM payment WHERE voided_at IS NULL GROUP BY order_id)
     AS standing
WHERE standing.order_id = "order".id
"""
# The orders still owing something and not cancelled: a small part of all orders once most are paid.
# `contract_amount - paid_amount > 0`, not `contract_amount > paid_amount`: SQLite stores a decimal as
# text and would compare the texts ('9.00' > '10.00'); the difference is a number on both databases.
# Queries that want this index repeat the two conditions word for word (workflow/owed.py OWING).
OWING = (
    'CREATE INDEX IF NOT EXISTS "idx_order_owing" ON "order" '
    '("org_unit_id", "confirmed_at", "contract_amount", "paid_amount") '
    "WHERE \"state\" <> 'cancelled' AND \"contract_amount\" - \"paid_amount\" > 0"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0016_money_stats_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='paid_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=12, decimal_places=2),
        ),
        ops.RunSQL(FILL, reverse_sql=ops.RunSQL.noop),
        ops.RunSQL(OWING, reverse_sql='DROP INDEX IF EXISTS "idx_order_owing"'),
    ]

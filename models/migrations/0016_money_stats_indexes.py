from tortoise import migrations
from tortoise.migrations import operations as ops

# The money in the managers' numbers (workflow/stats_money.py), measured on a million orders
# (bench/results/issue12-money-stats.md):
# - what is still owed sums each order's standing payments: walking this index by order reads only the
#   order_id and amount of payments not voided, without visiting the table (PostgreSQL: an index-only scan);
#   a store's orders find their payments directly;
# - what was collected in a period: the period's payments found by their time, not by scanning them all.
# Plain SQL: tortoise's Index cannot say "WHERE" (both SQLite and PostgreSQL take a partial index).
STANDING = (
    'CREATE INDEX IF NOT EXISTS "idx_payment_standing_order" ON "payment" ("order_id", "amount") '
    'WHERE "voided_at" IS NULL'
)
RECORDED = 'CREATE INDEX IF NOT EXISTS "idx_payment_created_at" ON "payment" ("created_at")'


class Migration(migrations.Migration):
    dependencies = [("models", "0015_production")]

    initial = False

    operations = [
        ops.RunSQL(STANDING, reverse_sql='DROP INDEX IF EXISTS "idx_payment_standing_order"'),
        ops.RunSQL(RECORDED, reverse_sql='DROP INDEX IF EXISTS "idx_payment_created_at"'),
    ]

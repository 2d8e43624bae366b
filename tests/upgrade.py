"""A database upgraded release by release, as at a company that has run Relay from the start: empty,
migrated to 0005 and given that time's records, to 0016 and given that time's, then to the last migration.
The migrations that move records (0007 made each order item into its pieces, 0017 stored each order's
paid total) are checked on it, and its schema against the stored snapshot (tests/test_migrations.py).

One database per backend for all three, made once in a session: tortoise replays the state of every
earlier migration each time it migrates (about 5 s of CPU for the whole chain), and three tests each
replaying it from empty were a tenth of the suite's CPU. The tests that read it are in the xdist group
"upgrade", so that `--dist loadgroup` (scripts/test) makes it on one worker only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from infra.db import db
from relay.db import close_db, migrate, open_db, tortoise_config
from tests.support import fresh_database

XDIST_GROUP = "upgrade"

# Before 0007: a confirmed order whose first item has arrived (its production number and who received it)
# and two that have not. And the salesperson the orders of the next stop are made by.
BEFORE_PIECES = """
INSERT INTO org_unit (id, name, path) VALUES (1, '朗斯家居', '朗斯家居');
INSERT INTO staff (id, userid, name, roles, active, created_at, org_unit_id)
  VALUES (1, 'fengcangku', '冯仓管', '["warehouse"]', TRUE, '2026-11-01 08:00:00+00:00', 1),
         (2, 'zhangxiaoshou', '张晓燕', '["sales"]', TRUE, '2026-11-01 08:00:00+00:00', 1);
INSERT INTO customer (id, name, phone_encrypted, phone_index, created_at)
  VALUES (1, '黄女士', 'x', 'y', '2026-11-01 08:00:00+00:00');
INSERT INTO "order" (id, number, address, state, note, created_at, updated_at, customer_id, org_unit_id, sales_id,
                     cancel_reason)
  VALUES (1, 'LS-OLD', '上海', 'confirmed', '', '2026-11-01 08:00:00+00:00', '2026-11-03 08:00:00+00:00', 1, 1, 2, '');
INSERT INTO order_item (id, order_id, series, model, room, quantity, production_number, arrived_at, received_by_id)
  VALUES (1, 1, '门窗 断桥铝', 'D70', '阳台', 3, 'P-OLD-1', '2026-11-02 09:30:00+00:00', 1),
         (2, 1, '淋浴房 K系列', 'K5', '主卫', 1, NULL, NULL, NULL),
         (3, 1, '浴室柜 M系列', 'M80', '客卫', 2, NULL, NULL, NULL);
"""

# Before 0017: orders with payments standing, voided and in cents that floating point would not add up.
BEFORE_PAID_TOTAL = """
INSERT INTO "order" (id, number, address, state, note, created_at, updated_at, customer_id, org_unit_id, sales_id,
                     cancel_reason, contract_amount, confirmed_at)
  VALUES (11, 'OLD-1', '上海', 'confirmed', '', '2026-11-01 08:00:00+00:00', '2026-11-03 08:00:00+00:00', 1, 1, 2, '',
          '12800.00', '2026-11-02 08:00:00+00:00'),
         (12, 'OLD-2', '上海', 'installed', '', '2026-11-01 08:00:00+00:00', '2026-11-03 08:00:00+00:00', 1, 1, 2, '',
          '0.30', '2026-11-02 08:00:00+00:00'),
         (13, 'OLD-3', '上海', 'designed', '', '2026-11-01 08:00:00+00:00', '2026-11-03 08:00:00+00:00', 1, 1, 2, '',
          NULL, NULL);
INSERT INTO payment (id, order_id, amount, method, kind, note, created_at, voided_at, void_reason)
  VALUES (1, 11, '3000.00', 'cash', 'deposit', '', '2026-11-02 08:00:00+00:00', NULL, NULL),
         (2, 11, '1234.56', 'cash', 'balance', '', '2026-11-03 08:00:00+00:00', NULL, NULL),
         (3, 11, '999.99', 'cash', 'balance', '', '2026-11-03 09:00:00+00:00', '2026-11-03 10:00:00+00:00', '错'),
         (4, 12, '0.10', 'cash', 'deposit', '', '2026-11-02 08:00:00+00:00', NULL, NULL),
         (5, 12, '0.20', 'cash', 'balance', '', '2026-11-03 08:00:00+00:00', NULL, NULL);
"""

STOPS = [("models.0005_purged", BEFORE_PIECES), ("models.0016_money_stats_indexes", BEFORE_PAID_TOTAL)]


@contextlib.asynccontextmanager
async def upgraded(kind: str, folder: Path) -> AsyncIterator[str]:
    """A new database of this kind taken through STOPS and then every migration; its URL."""
    async with fresh_database(kind, folder) as url:
        for target, records in STOPS:
            await tortoise_migrate(config=tortoise_config(url), target=target)
            await Tortoise.close_connections()
            await open_db(url)
            try:
                await db().execute_script(records)
            finally:
                await close_db()
        await migrate(url)
        yield url

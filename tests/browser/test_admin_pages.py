"""Admin on H5 (管理后台) in Chromium: the index names every section; a member's roles changed, an org unit
created (and a duplicate refused), a product edited after a refused price, a price entered on a price
list, an alert threshold changed (and a wrong one refused) — each in the audit log; a non-admin refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import aiohttp
from playwright.async_api import Page, expect

from infra.timeutil import local_today
from models import (
    AlertThreshold,
    AuditAction,
    AuditEntry,
    OrgUnit,
    PriceList,
    PriceListEntry,
    Product,
    Staff,
    UnitKind,
    Warehouse,
)
from tests.browser.h5 import open_as
from tests.support import World
from webviews.auth import csrf_token
from workflow.catalog import PriceListInput, save_price_list

ADMIN = "wangzong"
SALES = "zhangxiaoshou"


async def audited(action: AuditAction) -> list[dict[str, object]]:
    return [e.detail for e in await AuditEntry.filter(action=action).order_by("id")]


async def test_the_index_lists_every_section(page: Page, world: World) -> None:
    await open_as(page, world, ADMIN, "/h5/admin")
    await expect(page.locator("header.bar h1")).to_have_text("管理后台")
    for section in ("人员与角色", "组织架构", "产品目录", "价目表", "预警规则", "访问令牌", "Webhooks", "审计日志"):
        await expect(page.locator("#admin-sections")).to_contain_text(section)
    await page.click("#to-tokens")
    await expect(page.locator("header.bar h1")).to_contain_text("访问令牌")


async def test_a_members_roles_and_unit(page: Page, world: World) -> None:
    await open_as(page, world, ADMIN, "/h5/admin/staff")
    await page.locator("[data-member=zhangxiaoshou] a").click()
    await expect(page.locator("header.bar h1")).to_have_text("张晓燕")
    await page.check("#role-measure_dispatcher")
    await page.click("#save-roles")
    await expect(page.locator("#notice")).to_have_text("角色已保存")
    member = await Staff.get(userid=SALES)
    assert member.roles == ["sales", "measure_dispatcher"]
    [detail] = await audited(AuditAction.STAFF_EDIT)
    assert detail["roles_to"] == ["sales", "measure_dispatcher"]
    # The admin cannot take their own admin role away: refused, nothing changed.
    me = await Staff.get(userid=ADMIN)
    await page.goto(f"{world.relay_url}/h5/admin/staff/{me.id}")
    await page.uncheck("#role-admin")
    await page.click("#save-roles")
    await expect(page.locator("#form-error")).to_have_text("不能取消自己的管理员角色")
    assert "admin" in (await Staff.get(userid=ADMIN)).roles


async def test_an_org_unit_created_and_a_duplicate_refused(page: Page, world: World) -> None:
    region = await OrgUnit.get(name="华东区")
    await open_as(page, world, ADMIN, "/h5/admin/units")
    await page.fill("#new-name", "上海静安店")
    await page.select_option("#new-parent", str(region.id))
    await page.click("#create-unit")
    await expect(page.locator("#notice")).to_have_text("已新建 上海静安店")
    unit = await OrgUnit.get(name="上海静安店")
    assert unit.path == f"{region.path}{unit.id}/" and unit.active
    await page.fill("#new-name", "上海静安店")
    await page.select_option("#new-parent", str(region.id))
    await page.click("#create-unit")
    await expect(page.locator("#form-error")).to_have_text("华东区下已有“上海静安店”")
    assert await OrgUnit.filter(name="上海静安店").count() == 1
    [detail] = await audited(AuditAction.UNIT_EDIT)
    assert detail["created"] == "上海静安店"


async def test_a_product_edit_refused_then_saved_and_a_price_entered(page: Page, world: World) -> None:
    product = await Product.get(model="K5")
    await open_as(page, world, ADMIN, f"/h5/admin/products/{product.id}")
    await page.fill("#list_price", "12.345")
    await page.click("#save-product")
    await expect(page.locator("#list_price-error")).to_contain_text("两位小数")
    assert (await Product.get(id=product.id)).list_price == product.list_price
    assert await audited(AuditAction.PRODUCT_EDIT) == []
    await page.fill("#list_price", "4888")
    await page.click("#save-product")
    await expect(page.locator("#notice")).to_contain_text("已保存")
    assert (await Product.get(id=product.id)).list_price == Decimal("4888.00")
    [detail] = await audited(AuditAction.PRODUCT_EDIT)
    assert detail["fields"]["list_price"] == "4888.00"  # type: ignore[index]

    admin = await Staff.get(userid=ADMIN)
    form = PriceListInput(
        name="徐汇店价", org_unit_id=None, valid_from=local_today() - timedelta(days=1), valid_to=None
    )
    price_list = await save_price_list(actor=admin, price_list_id=None, form=form)
    await page.goto(f"{world.relay_url}/h5/admin/prices/{price_list.id}")
    await page.get_by_label(f"{product.label} 价格").fill("4500")
    await page.click("#save-entries")
    await expect(page.locator("#notice")).to_have_text("价格已保存")
    entry = await PriceListEntry.get(price_list_id=price_list.id, product_id=product.id)
    assert entry.price == Decimal("4500.00")
    prices = [d["prices"] for d in await audited(AuditAction.PRICES_EDIT) if "prices" in d]
    assert prices == [{str(product.id): "4500.00"}]  # what changed, nothing else
    assert await PriceList.filter(id=price_list.id).exists()


async def test_an_alert_threshold(page: Page, world: World) -> None:
    await open_as(page, world, ADMIN, "/h5/admin/alerts")
    await page.fill("#design_overdue", "abc")
    await page.click("#save-thresholds")
    await expect(page.locator("#form-error")).to_contain_text("0 到 365 的整数")
    assert not await AlertThreshold.exists()
    await page.fill("#design_overdue", "5")
    await page.click("#save-thresholds")
    await expect(page.locator("#notice")).to_contain_text("已保存")
    assert (await AlertThreshold.get(rule="design_overdue")).threshold == 5
    [detail] = await audited(AuditAction.ALERT_RULE_EDIT)
    assert (detail["threshold_from"], detail["threshold_to"]) == (3, 5)


async def test_a_non_admin_is_refused(page: Page, world: World) -> None:
    await open_as(page, world, SALES, "/h5/admin")
    await expect(page.locator("main")).to_contain_text("只有管理员可以查看")
    sales = await Staff.get(userid=SALES)
    async with world.browser_session(SALES) as http:
        for path in ("/h5/admin/units", "/h5/admin/staff", "/h5/admin/alerts", "/h5/admin/warehouses"):
            async with http.get(f"{world.relay_url}{path}") as resp:
                assert resp.status == 403, path
        data = aiohttp.FormData({"csrf": csrf_token(sales), "action": "create", "name": "偷建", "parent": "1"})
        async with http.post(f"{world.relay_url}/h5/admin/units", data=data) as resp:
            assert resp.status == 403
    assert not await OrgUnit.filter(name="偷建").exists()


async def test_a_dealer_unit_and_a_warehouse_without_a_shell(page: Page, world: World) -> None:
    """A new dealer: its unit made and marked a dealer's on 组织架构; a warehouse added on 仓库 (and a second of
    the same name refused), then closed."""
    root = await OrgUnit.get(parent_id=None)
    await open_as(page, world, ADMIN, "/h5/admin/units")
    await page.fill("#new-name", "南京优家")
    await page.select_option("#new-parent", str(root.id))
    await page.click("#create-unit")
    unit = await OrgUnit.get(name="南京优家")
    row = page.locator(f"[data-unit='{unit.id}']")
    await row.locator("select[name=kind]").select_option("dealer")
    await row.locator("form.kind button").click()
    await expect(page.locator("#notice")).to_have_text("南京优家 现为经销商")
    assert (await OrgUnit.get(id=unit.id)).kind == UnitKind.DEALER
    assert (await audited(AuditAction.UNIT_EDIT))[-1]["kind_to"] == "dealer"

    region = await OrgUnit.get(name="华东区")
    await page.goto(f"{world.relay_url}/h5/admin")
    await page.click("#to-warehouses")
    await page.fill("#warehouse-name", "华东二仓")
    await page.select_option("#warehouse-unit", str(region.id))
    await page.click("#add-warehouse")
    await expect(page.locator("#notice")).to_have_text("已添加 华东二仓")
    await page.fill("#warehouse-name", "华东二仓")
    await page.click("#add-warehouse")
    await expect(page.locator("#form-error")).to_have_text("已有名为 华东二仓 的仓库")
    warehouse = await Warehouse.get(name="华东二仓")
    await page.locator(f"[data-warehouse='{warehouse.id}'] button").click()
    await expect(page.locator("#notice")).to_have_text("已停用 华东二仓")
    assert not (await Warehouse.get(id=warehouse.id)).active
    assert [d["active"] for d in await audited(AuditAction.WAREHOUSE_EDIT)] == [True, False]

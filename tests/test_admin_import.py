"""`relay staff import` and `relay products import`: all rows or none, clear Chinese errors."""

from __future__ import annotations

import pytest

from models import OrgUnit, Product, Staff
from tests.support import World
from workflow.admin import import_products, import_staff
from workflow.errors import Invalid


async def test_staff_import_builds_the_org_tree(world: World) -> None:
    csv = (
        "userid,name,roles,org_unit\n"
        "new.one,新人,sales;measurer,朗斯家居/华南区/广州天河店\n"
        "zhangxiaoshou,张晓燕,sales,朗斯家居/华东区/上海徐汇店\n"
    )
    result = await import_staff(csv)
    assert (result.created, result.updated) == (1, 1)
    member = await Staff.get(userid="new.one").prefetch_related("org_unit")
    assert member.roles == ["sales", "measurer"]
    store = member.org_unit
    region = await OrgUnit.get(id=store.parent_id)  # type: ignore[attr-defined]
    assert region.name == "华南区" and store.path.startswith(region.path) and store.path != region.path


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("userid,name\nx,y\n", "表头缺少：roles, org_unit"),
        ("userid,name,roles,org_unit\nbad id,某人,sales,公司\n", "第 2 行：userid “bad id” 不是有效的企业微信账号"),
        ("userid,name,roles,org_unit\nok1,某人,boss,公司\n", "第 2 行：未知角色 boss"),
        ("userid,name,roles,org_unit\nok1,某人,sales,公司\nok1,某人,sales,公司\n", "第 3 行：userid ok1 重复"),
        ("userid,name,roles,org_unit\n", "文件里没有数据行"),
    ],
)
async def test_staff_import_refuses_bad_rows_and_changes_nothing(world: World, csv: str, message: str) -> None:
    before = await Staff.all().count()
    with pytest.raises(Invalid) as refused:
        await import_staff(csv)
    assert refused.value.message.startswith(message)
    assert await Staff.all().count() == before


async def test_products_import_upserts(world: World) -> None:
    result = await import_products("series,model,name\n淋浴房 K系列,K5,钻石形 新款\n新系列,N1,\n")
    assert (result.created, result.updated) == (1, 1)
    assert (await Product.get(series="淋浴房 K系列", model="K5")).name == "钻石形 新款"
    with pytest.raises(Invalid, match="第 2 行：系列和型号不能为空"):
        await import_products("series,model\n,X\n")
    # Set per series: how many install photos, how often maintenance.
    await import_products("series,model,name,install_photos,maintenance_months\n新系列,N1,,4,6\n")
    n1 = await Product.get(series="新系列", model="N1")
    assert (n1.install_photo_min, n1.maintenance_months) == (4, 6)
    with pytest.raises(Invalid, match="第 2 行：maintenance_months 应为 0 到 60 的整数"):
        await import_products("series,model,maintenance_months\n新系列,N1,半年\n")
    assert (await Product.get(series="新系列", model="N1")).maintenance_months == 6


def test_cli_reports_errors_in_chinese(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from relay.cli import main

    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite://{tmp_path}/db.sqlite3"\n[wecom]\ncorp_id="c"\nsecret="s"\ntoken="t"\n'
        'encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"\n'
        '[security]\nsecret_key="a-session-key-of-thirty-two-chars"\npii_key="a-pii-key-of-thirty-two-characters"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "migrate"]) == 0
    bad = tmp_path / "staff.csv"
    bad.write_text("userid,name,roles,org_unit\nx,某人,boss,公司\n", encoding="utf-8")
    assert main(["--config", str(config), "staff", "import", str(bad)]) == 1
    assert "未知角色 boss" in capsys.readouterr().err
    good = tmp_path / "products.csv"
    good.write_text("series,model,name\nA,B,C\n", encoding="utf-8")
    assert main(["--config", str(config), "products", "import", str(good)]) == 0
    assert "导入完成：新增 1，更新 0" in capsys.readouterr().out
    assert main(["--config", str(tmp_path / "missing.toml"), "migrate"]) == 2
    assert "missing secrets" in capsys.readouterr().err

"""The emulated directory (通讯录): what a self-built app may read (department/list, user/list, user/get,
tag/list, tag/get; not user/list_id), its errors, and the change_contact events a change sends, encrypted
like every callback and in the narrow form WeCom has sent since 2022-08-15 (ids only)."""

from __future__ import annotations

from emulator import EmulatorDepartment, EmulatorTag, EmulatorUser
from tests.emulator.support import Emu, Receiver


async def test_departments_and_their_members(emu: Emu) -> None:
    emu.state.directory.add_department(EmulatorDepartment(4, "华东区", parentid=2))
    tree = await emu.call("GET", "department/list")
    assert [(d["id"], d["parentid"]) for d in tree["department"]] == [(1, 0), (2, 1), (3, 1), (4, 2)]
    assert tree["department"][3] == {
        "id": 4,
        "name": "华东区",
        "name_en": "",
        "department_leader": [],
        "parentid": 2,
        "order": 0,
    }
    below = await emu.call("GET", "department/list", params={"id": "2"})
    assert [d["id"] for d in below["department"]] == [2, 4]
    assert (await emu.call("GET", "department/get", params={"id": "4"}))["department"]["name"] == "华东区"
    # A department's own members only: user/list has had no fetch_child since 2022-08.
    root = await emu.call("GET", "user/list", params={"department_id": "1"})
    assert [u["userid"] for u in root["userlist"]] == ["zhangsan", "lisi"]
    assert root["userlist"][1]["main_department"] == 1 and root["userlist"][1]["status"] == 1
    assert "mobile" not in root["userlist"][1]  # an app made after 2022-06-20 gets none
    simple = await emu.call("GET", "user/simplelist", params={"department_id": "3"})
    assert simple["userlist"] == [{"userid": "wangwu", "name": "王五", "department": [3]}]


async def test_directory_errors(emu: Emu) -> None:
    assert (await emu.call("GET", "user/list"))["errcode"] == 60123
    assert (await emu.call("GET", "user/list", params={"department_id": "x"}))["errcode"] == 60123
    assert (await emu.call("GET", "user/list", params={"department_id": "99"}))["errcode"] == 60003
    assert (await emu.call("GET", "department/get", params={"id": "99"}))["errcode"] == 60003
    assert (await emu.call("GET", "tag/get", params={"tagid": "5"}))["errcode"] == 40068
    # user/list_id answers only the contact-sync secret, which a self-built app does not hold.
    assert (await emu.call("POST", "user/list_id", json={"limit": 100}))["errcode"] == 48002


async def test_tags(emu: Emu) -> None:
    emu.state.directory.tags[5] = EmulatorTag(5, "测量师傅", users=("lisi",), parties=(3,))
    assert (await emu.call("GET", "tag/list"))["taglist"] == [{"tagid": 5, "tagname": "测量师傅"}]
    tag = await emu.call("GET", "tag/get", params={"tagid": "5"})
    assert (tag["tagname"], tag["userlist"], tag["partylist"]) == (
        "测量师傅",
        [{"userid": "lisi", "name": "李四"}],
        [3],
    )


async def test_changes_are_events_to_relay(emu: Emu, receiver: Receiver) -> None:
    await emu.state.member_joins(EmulatorUser("zhaoliu", "赵六", [3, 1]))
    await emu.state.member_changes("zhaoliu", department=[1])
    await emu.state.member_leaves("zhaoliu")
    await emu.state.department_created(EmulatorDepartment(7, "新店", parentid=1))
    assert await emu.state.department_changes(7, name="新店二") is None  # a rename alone raises no event
    await emu.state.department_changes(7, parentid=3)
    await emu.state.department_deleted(7)
    events = [(m["Event"], m["ChangeType"]) for m in receiver.messages]
    assert events == [
        ("change_contact", "create_user"),
        ("change_contact", "update_user"),
        ("change_contact", "delete_user"),
        ("change_contact", "create_party"),
        ("change_contact", "update_party"),
        ("change_contact", "delete_party"),
    ]
    created, _, left, party, moved, _ = receiver.messages
    assert (created["FromUserName"], created["UserID"], created["Department"]) == ("sys", "zhaoliu", "3,1")
    assert "Name" not in created  # since 2022-08-15: UserID and Department only
    assert left["UserID"] == "zhaoliu" and "Department" not in left
    assert (party["Id"], party["ParentId"]) == ("7", "1") and (moved["Id"], moved["ParentId"]) == ("7", "3")
    # The directory answers what the events said.
    assert (await emu.call("GET", "user/get", params={"userid": "zhaoliu"}))["errcode"] == 60111


async def test_the_console_changes_the_directory(emu: Emu, receiver: Receiver) -> None:
    resp = await emu.client.post(
        "/emulator/api/directory/member", json={"action": "join", "userid": "qianqi", "name": "钱七", "department": [2]}
    )
    assert resp.status == 200 and (await resp.json())["ok"]
    assert receiver.messages[-1]["ChangeType"] == "create_user"
    resp = await emu.client.post(
        "/emulator/api/directory/member", json={"action": "leave", "userid": "qianqi", "notify": False}
    )
    assert (await resp.json())["event"] is None and len(receiver.messages) == 1
    resp = await emu.client.post(
        "/emulator/api/directory/department", json={"action": "change", "id": 42, "name": "无"}
    )
    assert resp.status == 400
    resp = await emu.client.post("/emulator/api/directory/department", json={"action": "delete", "id": 1})
    assert resp.status == 400  # never the root, never a department with members
    listing = await (await emu.client.get("/emulator/api/directory")).json()
    assert [d["id"] for d in listing["departments"]] == [1, 2, 3]

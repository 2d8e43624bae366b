"use strict";
// 通讯录 in the console: a member joins or the selected member leaves, as an admin would do it in WeCom's
// own console; WeCom then pushes change_contact to the app (unless unticked: an event that never came).
// The member list reloads with the change. Every text goes in escaped.

(() => {
  const $ = (sel) => document.querySelector(sel);
  const current = () => document.querySelector(".member.active")?.dataset.userid || "";

  async function change(path, body) {
    body.notify = $("#directory-notify").checked;
    const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    $("#directory-result").textContent = res.ok
      ? (answer.event === null ? "已变更（未推送事件）" : `已变更，事件推送${answer.ok ? "成功" : "失败"}`)
      : (answer.error || `失败（HTTP ${res.status}）`);
    if (res.ok) setTimeout(() => location.reload(), 600);
  }

  async function departments() {
    const data = await (await fetch("/emulator/api/directory", { cache: "no-store" })).json();
    $("#directory-department").replaceChildren(...data.departments.map((d) => {
      const option = document.createElement("option");
      option.value = d.id;
      option.textContent = `${d.name}（${d.id}）`;
      return option;
    }));
  }

  $("#directory-join").addEventListener("submit", (e) => {
    e.preventDefault();
    change("/emulator/api/directory/member", {
      action: "join",
      userid: $("#directory-userid").value.trim(),
      name: $("#directory-name").value.trim(),
      department: [Number($("#directory-department").value)],
    });
  });
  $("#directory-leave").addEventListener("click", () => {
    const userid = current();
    if (userid) change("/emulator/api/directory/member", { action: "leave", userid });
  });
  departments();
})();

"use strict";
// 客户联系 in the console: the customers' side. A customer "scans" a 「联系我」 code and adds its member (WeCom
// then pushes add_external_contact to the app); the selected member confirms their pending mass-send
// tasks (as in 群发助手); and what each of their customers received in WeChat. Every text goes in escaped.

(() => {
  const $ = (sel) => document.querySelector(sel);
  const text = (tag, value, cls) => {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  };
  const current = () => document.querySelector(".member.active")?.dataset.userid || "";

  async function post(path, body) {
    const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return res.json().catch(() => ({ ok: false }));
  }

  async function refresh() {
    try {
      const ways = (await (await fetch("/emulator/api/contact/ways", { cache: "no-store" })).json()).ways;
      $("#contact-ways").replaceChildren(...ways.slice(0, 8).map((w) => {
        const li = text("li", `${w.name} 的「联系我」（${w.state}）`);
        const button = text("button", "客户扫码添加");
        button.type = "button";
        button.addEventListener("click", async () => {
          button.disabled = true;
          await post("/emulator/api/contact/add", { config_id: w.config_id, name: $("#contact-customer").value });
          button.disabled = false;
          refresh();
        });
        li.append(document.createElement("br"), button);
        return li;
      }));
      const userid = current();
      if (!userid) return;
      const mine = await (await fetch(`/emulator/api/contact/member?userid=${encodeURIComponent(userid)}`, { cache: "no-store" })).json();
      $("#contact-tasks").replaceChildren(...mine.tasks.filter((t) => !t.confirmed).map((t) => {
        const li = text("li", "");
        li.append(text("pre", t.text));
        const button = text("button", "确认发送");
        button.type = "button";
        button.addEventListener("click", async () => {
          await post("/emulator/api/contact/confirm", { userid, msgid: t.msgid });
          refresh();
        });
        li.append(button);
        return li;
      }));
      $("#contact-customers").replaceChildren(...mine.customers.map((c) => {
        const li = text("li", `${c.name}（本月群发 ${c.this_month}/${mine.limit}）`);
        for (const r of c.received) {
          li.append(text("pre", `${r.kind === "welcome" ? "欢迎语" : "群发"}：${r.text}`));
          for (const a of r.attachments) if (a.link) li.append(text("div", `🔗 ${a.link.title} ${a.link.url}`, "muted"));
        }
        const over = mine.tasks.flatMap((t) => t.results).filter((x) => x.external_userid === c.external_userid && x.status === 3);
        if (over.length) li.append(text("div", `${over.length} 条群发因本月已收满未收到`, "muted"));
        return li;
      }));
    } catch (err) {
      // the emulator restarting: the next refresh tries again
    }
  }

  refresh();
  setInterval(refresh, 2000);
  document.addEventListener("click", (ev) => { if (ev.target.closest?.(".member")) setTimeout(refresh, 50); });
})();

"use strict";
// The emulator console: members on the left, one member's WeCom chat in the phone, callbacks on the right.
// Plain DOM; every text from a message goes in escaped, and only the few tags WeCom renders are rebuilt.

(() => {
  const $ = (sel) => document.querySelector(sel);
  const ui = {
    members: $("#members"), chat: $("#chat"), empty: $("#chat-empty"), input: $("#text-input"),
    send: $("#send"), photo: $("#photo-input"), overlay: $("#h5-overlay"), frame: $("#h5-frame"),
    h5Title: $("#h5-title"), toast: $("#toast"), callbacks: $("#callbacks"), agentName: $("#agent-name"),
    currentUser: $("#current-user"), toolResult: $("#tool-result"),
  };
  const state = {
    users: [], agentName: "应用", current: null, rev: 0, nodes: new Map(), lastTime: 0,
    polling: false, cbSeq: 0,
    stream: null, live: false, // the chat's event stream, and whether it is open (then nothing polls)
    pinned: true, // the chat shows its newest message; false once the member scrolls up to read
  };
  // Polling is the fallback while the event stream is down; ?poll=<ms> sets its interval.
  const POLL_MS = Number(new URLSearchParams(location.search).get("poll")) || 1000;
  const NOTICE_CARDS = new Set(["text_notice", "news_notice"]);
  const AVATAR_COLORS = ["#3b82f6", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#64748b"];
  const CALLBACK_KINDS = {
    text: "文本消息", image: "图片消息", enter_agent: "进入应用", template_card_event: "卡片按钮",
    template_card_menu_event: "卡片菜单", click: "菜单点击", scancode_waitmsg: "扫码",
  };

  // ---------- small helpers ----------

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key === "html") el.innerHTML = value;
      else if (key === "dataset") {
        for (const [name, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[name] = v;
      }
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function escapeHtml(text) {
    const map = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
    return String(text ?? "").replace(/[&<>"']/g, (c) => map[c]);
  }

  function unescapeHtml(text) {
    const area = document.createElement("textarea");
    area.innerHTML = text;
    return area.value;
  }

  function safeUrl(url) {
    const u = String(url || "").trim();
    return /^https?:\/\//i.test(u) || u.startsWith("/") ? u : null;
  }

  // `label` is already escaped HTML.
  function linkHtml(url, label) {
    const u = safeUrl(url);
    return u ? `<a class="link" data-href="${escapeHtml(u)}">${label}</a>` : label;
  }

  function linkifyBare(html) {
    return html
      .split(/(<a [^>]*>.*?<\/a>)/)
      .map((seg, i) => (i % 2 ? seg : seg.replace(/https?:\/\/[^\s<]+/g, (u) => linkHtml(unescapeHtml(u), u))))
      .join("");
  }

  const QUOTE = "(?:&quot;|&#39;)";

  // Text messages may carry <a href="...">...</a> (WeCom renders those as links).
  function textHtml(text) {
    const anchor = new RegExp(`&lt;a href=${QUOTE}(.*?)${QUOTE}&gt;(.*?)&lt;/a&gt;`, "g");
    const html = escapeHtml(text).replace(anchor, (_, href, label) => linkHtml(unescapeHtml(href), label));
    return linkifyBare(html);
  }

  // WeCom's markdown subset: headings, bold, links, inline code, quotes and <font color="info|comment|warning">.
  function inlineMarkdown(raw) {
    const font = new RegExp(`&lt;font color=${QUOTE}(info|comment|warning)${QUOTE}&gt;(.*?)&lt;/font&gt;`, "g");
    let s = escapeHtml(raw);
    s = s.replace(font, '<span class="font-$1">$2</span>');
    s = s.replace(/`([^`]+)`/g, '<code class="md-code">$1</code>');
    s = s.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
    s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label, url) => linkHtml(unescapeHtml(url), label));
    return linkifyBare(s);
  }

  function markdownHtml(source) {
    return String(source ?? "")
      .split("\n")
      .map((line) => {
        let m;
        if ((m = line.match(/^(#{1,6})\s+(.*)$/))) {
          return `<div class="md-h md-h${m[1].length}">${inlineMarkdown(m[2])}</div>`;
        }
        if ((m = line.match(/^>\s?(.*)$/))) return `<div class="md-quote">${inlineMarkdown(m[1])}</div>`;
        if ((m = line.match(/^\s*[-*]\s+(.*)$/))) return `<div class="md-line">• ${inlineMarkdown(m[1])}</div>`;
        return `<div class="md-line">${inlineMarkdown(line)}</div>`;
      })
      .join("");
  }

  // textcard descriptions use <div class="gray|normal|highlight"> and <br>.
  function textcardHtml(desc) {
    const div = new RegExp(`&lt;div class=${QUOTE}(gray|normal|highlight)${QUOTE}&gt;(.*?)&lt;/div&gt;`, "g");
    return escapeHtml(desc).replace(div, '<div class="tc-$1">$2</div>').replace(/&lt;br\s*\/?&gt;/g, "\n");
  }

  function colorFor(text) {
    let hash = 0;
    for (const ch of String(text)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return AVATAR_COLORS[hash % AVATAR_COLORS.length];
  }

  function avatar(name, color) {
    const label = String(name || "?").trim();
    // Chinese names show their last two characters, as WeCom's default avatars do; others an initial.
    const text = /[\u4e00-\u9fff]/.test(label) ? [...label].slice(-2).join("") : label.slice(0, 1).toUpperCase();
    return h("span", { class: "avatar", style: `background:${color || colorFor(label)}`, text });
  }

  function userName(userid) {
    const user = state.users.find((u) => u.userid === userid);
    return user ? user.name : userid;
  }

  function formatTime(seconds) {
    const d = new Date(seconds * 1000);
    const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return hm;
    return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
  }

  function formatSize(bytes) {
    if (!bytes && bytes !== 0) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  let toastTimer = null;
  function toast(message) {
    ui.toast.textContent = message;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 2600);
  }

  async function getJson(path) {
    const res = await fetch(path, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  async function post(path, body) {
    const init = body instanceof FormData
      ? { method: "POST", body }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) };
    try {
      const res = await fetch(path, init);
      return await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
    } catch (err) {
      return { ok: false, error: String(err) };
    }
  }

  function describeDelivery(result) {
    if (result.error && result.attempts === undefined) return result.error;
    const status = result.status ? `HTTP ${result.status}` : (result.error === "timeout" ? "超时" : "连接失败");
    return `${status}，共尝试 ${result.attempts} 次`;
  }

  function reportDelivery(result) {
    if (!result.ok) toast(`未送达应用（${describeDelivery(result)}）`);
  }

  // ---------- H5 pages ----------

  function openH5(url) {
    const target = safeUrl(url);
    if (!target) return toast("无法打开该链接");
    if (!state.current) return toast("请先在左侧选择成员");
    ui.h5Title.textContent = "加载中…";
    ui.h5Title.dataset.loading = "1";
    ui.frame.src = `/emulator/open?userid=${encodeURIComponent(state.current)}&url=${encodeURIComponent(target)}`;
    ui.overlay.hidden = false;
  }

  function closeH5() {
    ui.overlay.hidden = true;
    ui.frame.src = "about:blank";
    if (!state.live) poll();
  }

  function setH5Title(title) {
    ui.h5Title.textContent = title;
    delete ui.h5Title.dataset.loading;
  }

  // WeCom's title bar shows the page's <title>. A page on another origin (Relay's, in the demo) is not
  // ours to read: it posts its title to the frame's parent ({h5title}), and only the frame's own posts count.
  window.addEventListener("message", (ev) => {
    if (ev.source !== ui.frame.contentWindow || ui.overlay.hidden) return;
    const title = ev.data && typeof ev.data.h5title === "string" ? ev.data.h5title : null;
    if (title !== null) setH5Title(title);
  });

  ui.frame.addEventListener("load", () => {
    if (ui.overlay.hidden) return;
    try {
      setH5Title(ui.frame.contentDocument.title || ui.frame.contentWindow.location.host);
    } catch {
      if (ui.h5Title.dataset.loading) setH5Title(""); // another origin that told us nothing
    }
  });
  $("#h5-close").addEventListener("click", closeH5);

  // ---------- rendering: the bot's messages ----------

  function mediaUrl(mediaId, download) {
    return `/emulator/media/${encodeURIComponent(mediaId)}${download ? "?download=1" : ""}`;
  }

  function renderText(entry) {
    const content = entry.payload.text?.content ?? "";
    return h("div", { class: "bubble text", html: textHtml(content) });
  }

  function renderMarkdown(entry) {
    return h("div", { class: "bubble markdown", html: markdownHtml(entry.payload.markdown?.content) });
  }

  function renderTextcard(entry) {
    const c = entry.payload.textcard || {};
    return h("div", { class: "textcard", onclick: () => openH5(c.url) },
      h("div", { class: "textcard-title", text: c.title || "" }),
      h("div", { class: "textcard-desc", html: textcardHtml(c.description) }),
      h("div", { class: "textcard-more" }, h("span", { text: c.btntxt || "详情" }), h("span", { text: "›" })));
  }

  function renderNews(entry) {
    const articles = entry.payload.news?.articles || [];
    const box = h("div", { class: "news" });
    articles.forEach((a, i) => {
      const open = () => openH5(a.url);
      if (i === 0) {
        const pic = safeUrl(a.picurl);
        box.append(h("div", { class: `news-lead${pic ? "" : " noimg"}`, onclick: open },
          pic ? h("img", { src: pic, alt: "" }) : null, h("div", { class: "news-title", text: a.title })));
        if (a.description && articles.length === 1) box.append(h("div", { class: "news-desc", text: a.description }));
      } else {
        const pic = safeUrl(a.picurl);
        box.append(h("div", { class: "news-item", onclick: open },
          h("div", { style: "flex:1", text: a.title }), pic ? h("img", { src: pic, alt: "" }) : null));
      }
    });
    return box;
  }

  function renderImage(entry) {
    const mediaId = entry.payload.image?.media_id;
    const src = mediaUrl(mediaId);
    return h("img", { class: "photo", src, alt: "图片", onclick: () => openH5(src) });
  }

  function renderFile(entry) {
    const mediaId = entry.payload[entry.msgtype]?.media_id;
    const info = entry.media || {};
    const name = info.filename || "文件";
    const ext = (name.split(".").pop() || "FILE").slice(0, 4).toUpperCase();
    return h("a", { class: "file-bubble", href: mediaUrl(mediaId, true), download: name },
      h("span", { class: "file-icon", text: ext }),
      h("span", {}, h("div", { class: "file-name", text: name }), h("div", { class: "file-size", text: formatSize(info.size) })));
  }

  // ---------- rendering: template cards ----------

  function renderCard(entry) {
    const c = entry.payload.template_card || {};
    const replaced = Boolean(c.replace_text);
    const card = h("div", {
      class: `card card-${c.card_type || "unknown"}${replaced ? " replaced" : ""}`,
      style: "position:relative",
      dataset: { msgid: entry.msgid, taskId: c.task_id || "", cardType: c.card_type || "" },
    });
    const action = c.card_action && Number(c.card_action.type) === 1 ? safeUrl(c.card_action.url) : null;

    card.append(...cardHead(entry, c));
    if (c.main_title?.title) {
      card.append(h("div", { class: `card-title${action && !NOTICE_CARDS.has(c.card_type) ? " card-clickable" : ""}`,
        text: c.main_title.title, onclick: action && !NOTICE_CARDS.has(c.card_type) ? () => openH5(action) : null }));
    }
    if (c.main_title?.desc) card.append(h("div", { class: "card-desc", text: c.main_title.desc }));
    if (c.emphasis_content && (c.emphasis_content.title || c.emphasis_content.desc)) {
      card.append(h("div", { class: "card-emphasis" },
        h("div", { class: "num", text: c.emphasis_content.title || "" }),
        h("div", { class: "label", text: c.emphasis_content.desc || "" })));
    }
    // Sections follow the order WeCom draws them in (90236).
    if (c.card_image?.url && safeUrl(c.card_image.url)) {
      card.append(h("img", { class: "card-image", src: safeUrl(c.card_image.url), alt: "" }));
    }
    if (c.image_text_area) card.append(cardImageText(c.image_text_area));
    if (c.quote_area && (c.quote_area.title || c.quote_area.quote_text)) card.append(cardQuote(c.quote_area));
    if (c.sub_title_text) card.append(h("div", { class: "card-subtitle", text: c.sub_title_text }));
    if (c.vertical_content_list?.length) card.append(cardVertical(c.vertical_content_list));
    if (c.horizontal_content_list?.length) card.append(cardRows(c.horizontal_content_list));
    if (c.jump_list?.length) card.append(cardJumps(c.jump_list));
    card.append(...cardQuestions(c));
    if (replaced) {
      card.append(h("div", { class: "card-replaced", "aria-disabled": "true", text: c.replace_text }));
    } else {
      if (c.button_list?.length) card.append(cardButtons(entry, c.button_list, card));
      if (c.submit_button?.key) {
        const submit = h("button", { type: "button", class: "card-submit", dataset: { key: c.submit_button.key },
          text: c.submit_button.text || "提交" });
        submit.addEventListener("click", () => pressKey(entry, c.submit_button.key, submit, card));
        card.append(submit);
      }
    }
    if (action && NOTICE_CARDS.has(c.card_type)) {
      card.append(h("div", { class: "card-footer", onclick: () => openH5(action) }, h("span", { text: "查看详情" })));
    }
    return card;
  }

  function cardHead(entry, c) {
    const parts = [];
    const src = c.source || {};
    const source = src.desc || src.icon_url
      ? h("div", { class: "card-source" }, safeUrl(src.icon_url) ? h("img", { src: safeUrl(src.icon_url), alt: "" }) : null,
        h("span", { class: `src-${Number(src.desc_color) || 0}`, text: src.desc || "" }))
      : h("span");
    const actions = c.action_menu?.action_list || [];
    if (!src.desc && !src.icon_url && !actions.length) return parts;
    const head = h("div", { class: "card-head" }, source);
    if (actions.length) {
      const menu = h("div", { class: "card-menu", hidden: true });
      for (const a of actions) {
        const item = h("button", { type: "button", dataset: { key: a.key }, text: a.text });
        item.addEventListener("click", (ev) => { ev.stopPropagation(); menu.hidden = true; pressKey(entry, a.key, item, null); });
        menu.append(item);
      }
      const toggle = h("button", { type: "button", class: "card-menu-toggle", title: c.action_menu.desc || "更多", text: "⋯" });
      toggle.addEventListener("click", (ev) => { ev.stopPropagation(); menu.hidden = !menu.hidden; });
      head.append(toggle);
      parts.push(head, menu);
      return parts;
    }
    parts.push(head);
    return parts;
  }

  function cardQuote(q) {
    const url = Number(q.type) === 1 ? safeUrl(q.url) : null;
    return h("div", { class: `card-quote${url ? " card-clickable" : ""}`, onclick: url ? () => openH5(url) : null },
      q.title ? h("div", { class: "q-title", text: q.title }) : null, q.quote_text ? h("div", { text: q.quote_text }) : null);
  }

  function cardImageText(area) {
    const url = Number(area.type) === 1 ? safeUrl(area.url) : null;
    const img = safeUrl(area.image_url);
    return h("div", { class: `card-quote${url ? " card-clickable" : ""}`, style: "display:flex;gap:10px;align-items:center",
      onclick: url ? () => openH5(url) : null },
    img ? h("img", { src: img, alt: "", style: "width:56px;height:56px;object-fit:cover;border-radius:4px" }) : null,
    h("div", {}, h("div", { class: "q-title", text: area.title || "" }), h("div", { text: area.desc || "" })));
  }

  function cardVertical(list) {
    return h("div", { class: "card-vertical" }, list.map((v) =>
      h("div", { style: "margin-top:6px" }, h("div", { class: "v-title", text: v.title || "" }),
        v.desc ? h("div", { class: "v-desc", text: v.desc }) : null)));
  }

  function cardRows(rows) {
    const grid = h("div", { class: "card-rows" });
    for (const row of rows) {
      const type = Number(row.type) || 0;
      let value;
      if (type === 1 && safeUrl(row.url)) {
        value = h("a", { class: "link", dataset: { href: safeUrl(row.url) }, text: row.value || row.url });
      } else if (type === 2 && row.media_id) {
        value = h("a", { class: "link", href: mediaUrl(row.media_id, true), text: row.value || "下载" });
      } else if (type === 3 && row.userid) {
        value = h("span", { text: userName(row.userid) });
      } else {
        value = h("span", { text: row.value ?? "" });
      }
      grid.append(h("div", { class: "k", text: row.keyname || "" }), h("div", { class: "v" }, value));
    }
    return grid;
  }

  function cardJumps(jumps) {
    return h("div", { class: "card-jumps" }, jumps.map((j) => {
      const url = Number(j.type) === 1 ? safeUrl(j.url) : null;
      return url
        ? h("a", { class: "link", dataset: { href: url }, text: j.title || url })
        : h("span", { class: "unknown", text: j.title || "" });
    }));
  }

  function optionsSelect(question, options, selectedId) {
    const select = h("select", { dataset: { question } });
    for (const o of options || []) {
      select.append(h("option", { value: o.id, text: o.text, selected: o.id === selectedId }));
    }
    return select;
  }

  function cardQuestions(c) {
    const parts = [];
    if (c.button_selection?.question_key) {
      const s = c.button_selection;
      parts.push(h("div", { class: "card-question" }, h("div", { class: "q-label", text: s.title || "" }),
        optionsSelect(s.question_key, s.option_list, s.selected_id)));
    }
    if (c.checkbox?.question_key) {
      const box = c.checkbox;
      const multi = Number(box.mode) === 1;
      const group = h("div", { class: "card-question", dataset: { question: box.question_key, checkbox: "1" } });
      for (const o of box.option_list || []) {
        group.append(h("label", { class: "card-option" },
          h("input", { type: multi ? "checkbox" : "radio", name: `cb-${c.task_id}`, value: o.id, checked: Boolean(o.is_checked) }),
          h("span", { text: o.text })));
      }
      parts.push(group);
    }
    for (const s of c.select_list || []) {
      parts.push(h("div", { class: "card-question" }, h("div", { class: "q-label", text: s.title || "" }),
        optionsSelect(s.question_key, s.option_list, s.selected_id)));
    }
    return parts;
  }

  function collectSelection(cardEl) {
    if (!cardEl) return null;
    const selected = {};
    cardEl.querySelectorAll("select[data-question]").forEach((sel) => { selected[sel.dataset.question] = [sel.value]; });
    cardEl.querySelectorAll("[data-checkbox]").forEach((group) => {
      selected[group.dataset.question] = [...group.querySelectorAll("input:checked")].map((i) => i.value);
    });
    return Object.keys(selected).length ? selected : null;
  }

  function cardButtons(entry, buttons, cardEl) {
    const row = h("div", { class: "card-buttons" });
    for (const b of buttons) {
      const isUrl = Number(b.type) === 1;
      const btn = h("button", {
        type: "button", class: `style-${Number(b.style) || 1}`, text: b.text,
        dataset: { key: b.key || "", type: isUrl ? "url" : "callback", url: isUrl ? b.url : undefined },
      });
      btn.addEventListener("click", () => (isUrl ? openH5(b.url) : pressKey(entry, b.key, btn, cardEl)));
      row.append(btn);
    }
    return row;
  }

  async function pressKey(entry, key, button, cardEl) {
    if (button) button.disabled = true;
    const result = await post("/emulator/api/click", {
      userid: state.current, msgid: entry.msgid, key, selected: collectSelection(cardEl),
    });
    if (button) button.disabled = false;
    if (result.ok === false && result.attempts === undefined) toast(result.error || "无法点击");
    else reportDelivery(result);
    state.pinned = true;
    if (!state.live) poll();
  }

  // ---------- rendering: one chat entry ----------

  function renderBot(entry) {
    switch (entry.msgtype) {
      case "text": return renderText(entry);
      case "markdown": return renderMarkdown(entry);
      case "textcard": return renderTextcard(entry);
      case "news": return renderNews(entry);
      case "image": return renderImage(entry);
      case "file": return renderFile(entry);
      case "voice": return h("div", { class: "bubble", text: "[语音]" });
      case "template_card": return renderCard(entry);
      default: return h("div", { class: "bubble unknown", text: `[${entry.msgtype} 消息]` });
    }
  }

  function renderMine(entry) {
    if (entry.msgtype === "image") {
      const src = mediaUrl(entry.payload.image?.media_id);
      return h("img", { class: "photo", src, alt: "照片", onclick: () => openH5(src) });
    }
    return h("div", { class: "bubble text", text: entry.payload.text?.content ?? "" });
  }

  function renderEntry(entry) {
    const mine = entry.direction === "in";
    const who = mine ? avatar(userName(entry.userid)) : avatar(state.agentName, "#1a6ff0");
    return h("div", {
      class: `msg ${mine ? "me" : "bot"}`,
      dataset: { seq: String(entry.seq), rev: String(entry.rev), msgid: entry.msgid, msgtype: entry.msgtype },
    }, who, h("div", { class: "body" }, mine ? renderMine(entry) : renderBot(entry)));
  }

  function scrollToNewest() {
    // At once, not smoothly: while a smooth scroll runs the chat is not yet at the bottom, and a message
    // arriving meanwhile would find the member "scrolled up" and stay out of view.
    ui.chat.scrollTo({ top: ui.chat.scrollHeight, behavior: "instant" });
  }

  ui.chat.addEventListener("scroll", () => {
    state.pinned = ui.chat.scrollHeight - ui.chat.scrollTop - ui.chat.clientHeight < 80;
  });
  // A photo or card image that loads after its message grows the chat: keep the newest in view.
  ui.chat.addEventListener("load", (ev) => {
    if (ev.target instanceof HTMLImageElement && state.pinned) scrollToNewest();
  }, true);

  function applyEntries(entries) {
    if (!entries.length) return;
    for (const entry of entries) {
      const node = renderEntry(entry);
      const existing = state.nodes.get(entry.seq);
      if (existing) {
        existing.replaceWith(node); // a card the bot updated
      } else {
        if (entry.time - state.lastTime > 300) {
          ui.chat.append(h("div", { class: "time-divider", text: formatTime(entry.time) }));
        }
        state.lastTime = entry.time;
        ui.chat.append(node);
      }
      state.nodes.set(entry.seq, node);
    }
    ui.empty.hidden = state.nodes.size > 0;
    if (state.pinned) scrollToNewest();
  }

  // ---------- receiving: the event stream, polling only while it is down ----------

  function receive(data, userid) {
    if (userid !== state.current) return;
    applyEntries(data.entries);
    state.rev = Math.max(state.rev, data.rev);
  }

  function connect() {
    state.stream?.close();
    state.live = false;
    const userid = state.current;
    if (!userid || !window.EventSource) return;
    const stream = new EventSource(
      `/emulator/api/chat/stream?userid=${encodeURIComponent(userid)}&after=${state.rev}`);
    state.stream = stream;
    stream.addEventListener("open", () => { if (stream === state.stream) state.live = true; });
    stream.addEventListener("chat", (ev) => { if (stream === state.stream) receive(JSON.parse(ev.data), userid); });
    stream.addEventListener("reset", () => { if (stream === state.stream) resetChat(); });
    stream.addEventListener("error", () => {
      if (stream !== state.stream) return;
      state.live = false;
      poll(); // catch up while the browser reconnects (it resumes after the last event it had)
      if (stream.readyState === EventSource.CLOSED) setTimeout(() => { if (stream === state.stream) connect(); }, 3000);
    });
  }

  async function poll() {
    if (!state.current || state.polling) return;
    state.polling = true;
    const userid = state.current;
    try {
      const data = await getJson(`/emulator/api/chat?userid=${encodeURIComponent(userid)}&after=${state.rev}`);
      if (userid !== state.current) return;
      if (data.rev < state.rev) {
        resetChat(); // the emulator restarted: its revisions begin again
        return;
      }
      receive(data, userid);
    } catch {
      // the emulator restarted or is busy: the next tick tries again
    } finally {
      state.polling = false;
    }
  }

  function renderCallback(cb) {
    const label = CALLBACK_KINDS[cb.kind] || cb.kind;
    const pill = cb.ok
      ? h("span", { class: "pill ok", text: cb.attempts > 1 ? `200 · 第${cb.attempts}次` : "200" })
      : h("span", { class: "pill bad", text: `${cb.status || (cb.error === "timeout" ? "超时" : "失败")} ×${cb.attempts}` });
    return h("li", { dataset: { seq: String(cb.seq), kind: cb.kind } },
      h("span", { class: "cb-kind", text: label }), pill,
      h("span", { class: "cb-meta", text: `${formatTime(cb.time)} · ${userName(cb.userid)}` }));
  }

  async function pollCallbacks() {
    try {
      const data = await getJson(`/emulator/api/callbacks?after=${state.cbSeq}`);
      if (data.last < state.cbSeq) { // the emulator restarted
        state.cbSeq = 0;
        ui.callbacks.replaceChildren(h("li", { class: "empty", text: "暂无推送" }));
        return;
      }
      for (const cb of data.callbacks) {
        ui.callbacks.querySelector(".empty")?.remove();
        ui.callbacks.prepend(renderCallback(cb));
        state.cbSeq = Math.max(state.cbSeq, cb.seq);
      }
    } catch {
      // try again on the next tick
    }
  }

  // ---------- members ----------

  function readCookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
  }

  function resetChat() {
    state.rev = 0;
    state.lastTime = 0;
    state.nodes.clear();
    ui.chat.replaceChildren(ui.empty);
    ui.empty.hidden = false;
  }

  function selectMember(userid, { announce }) {
    const user = state.users.find((u) => u.userid === userid);
    if (!user) return;
    state.current = userid;
    // The emulator's OAuth page reads this cookie to know who is "logged in".
    document.cookie = `emu_user=${userid}; path=/; SameSite=Lax`;
    ui.members.querySelectorAll(".member").forEach((li) => li.classList.toggle("active", li.dataset.userid === userid));
    ui.currentUser.textContent = `${user.name}${user.position ? ` · ${user.position}` : ""}`;
    resetChat();
    state.pinned = true;
    ui.overlay.hidden = true;
    ui.frame.src = "about:blank";
    connect(); // the stream begins with the whole chat
    if (!state.stream) poll();
    if (announce) post("/emulator/api/enter", { userid }).then(() => { if (!state.stream) poll(); });
  }

  function renderMembers() {
    ui.members.replaceChildren(...state.users.map((u) => h("li", {
      class: "member", dataset: { userid: u.userid }, onclick: () => selectMember(u.userid, { announce: true }),
    }, avatar(u.name), h("div", { class: "who" },
      h("div", { class: "name", text: u.name }), h("div", { class: "position", text: u.position || u.userid })))));
  }

  // ---------- composer ----------

  $("#composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    if (!state.current) return toast("请先在左侧选择成员");
    ui.input.value = "";
    state.pinned = true;
    const pending = post("/emulator/api/send", { userid: state.current, text });
    if (!state.live) setTimeout(poll, 60); // show the member's own bubble before Relay has answered
    reportDelivery(await pending);
    if (!state.live) poll();
  });

  ui.photo.addEventListener("change", async () => {
    const file = ui.photo.files[0];
    ui.photo.value = "";
    if (!file) return;
    if (!state.current) return toast("请先在左侧选择成员");
    const form = new FormData();
    form.append("userid", state.current);
    form.append("file", file, file.name);
    state.pinned = true;
    const pending = post("/emulator/api/image", form);
    if (!state.live) setTimeout(poll, 120);
    reportDelivery(await pending);
    if (!state.live) poll();
  });

  ui.chat.addEventListener("click", (ev) => {
    const link = ev.target.closest("[data-href]");
    if (link && ui.chat.contains(link)) {
      ev.preventDefault();
      ev.stopPropagation();
      openH5(link.dataset.href);
    }
    if (!ev.target.closest(".card-menu, .card-menu-toggle")) {
      ui.chat.querySelectorAll(".card-menu").forEach((m) => { m.hidden = true; });
    }
  });

  // ---------- developer tools ----------

  $("#verify-url").addEventListener("click", async () => {
    ui.toolResult.textContent = "校验中…";
    const r = await post("/emulator/api/verify");
    ui.toolResult.textContent = r.ok ? "回调 URL 校验通过 ✓" : "回调 URL 校验失败：应用未原样返回 echostr";
  });

  $("#expire-tokens").addEventListener("click", async () => {
    await post("/emulator/api/tokens/expire");
    ui.toolResult.textContent = "所有 access_token 已过期，下次调用将返回 42001";
  });

  $("#fault-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await post("/emulator/api/faults", {
      api: $("#fault-api").value, kind: $("#fault-kind").value, count: Number($("#fault-count").value) || 1,
    });
    ui.toolResult.textContent = r.ok
      ? `待触发：${Object.entries(r.pending).map(([api, kinds]) => `${api} × ${kinds.length}`).join("，") || "无"}`
      : r.error;
  });

  // ---------- start ----------

  function tickClock() {
    const d = new Date();
    $("#clock").textContent = `${d.getHours()}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  async function start() {
    tickClock();
    setInterval(tickClock, 15000);
    const data = await getJson("/emulator/api/users");
    state.users = data.users;
    state.agentName = data.agent_name || "应用";
    ui.agentName.textContent = state.agentName;
    renderMembers();
    ui.callbacks.append(h("li", { class: "empty", text: "暂无推送" }));
    const remembered = readCookie("emu_user");
    const first = state.users.find((u) => u.userid === remembered) || state.users[0];
    if (first) selectMember(first.userid, { announce: false });
    setInterval(() => { if (!state.live) poll(); }, POLL_MS);
    setInterval(pollCallbacks, 1000);
    pollCallbacks();
  }

  start();
})();

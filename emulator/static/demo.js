// Kua demo page. It shows what the Telegram emulator holds and lets the person act as one of
// the demo's Telegram users; it never talks to the bot. Text is put into the page only as text
// nodes, formatted from Telegram's message entities, so nothing the bot or a person sends can
// become markup.
"use strict";

const state = {
  data: null,
  me: "reporter-a",         // who the person at the keyboard is
  reporter: "reporter-a",    // whose chat the reporter phone shows
  staff: "coordinator-1",    // whose chat the staff phone shows
  topic: null,               // the group topic shown (null: General)
  topicChosen: false,
  seenAnswers: new Set(),
};

const $ = (root, role) => root.querySelector(`[data-role="${role}"]`);
const phones = {
  reporter: document.getElementById("phone-reporter"),
  group: document.getElementById("phone-group"),
  staff: document.getElementById("phone-staff"),
};

function person(key) {
  return state.data ? state.data.people.find((p) => p.key === key) : null;
}

// --- Telegram entities to DOM ---------------------------------------------------------------

// Links that may open from the page; tg: links (a user's profile...) stay inert text.
const SAFE_SCHEMES = ["http:", "https:", "mailto:"];

function entityElement(entity, text) {
  const make = (tag, cls) => { const el = document.createElement(tag); if (cls) el.className = cls; return el; };
  switch (entity.type) {
    case "bold": return make("b");
    case "italic": return make("i");
    case "underline": return make("u");
    case "strikethrough": return make("s");
    case "code": return make("code");
    case "pre": return make("pre");
    case "blockquote": case "expandable_blockquote": return make("blockquote");
    case "spoiler": {
      const el = make("span", "spoiler");
      el.addEventListener("click", () => el.classList.toggle("shown"));
      return el;
    }
    case "text_link": case "url": {
      const href = entity.type === "url" ? text : entity.url;
      let url = null;
      try { url = new URL(href, "http://invalid/"); } catch (e) { url = null; }
      if (!url || !SAFE_SCHEMES.includes(url.protocol) || url.host === "invalid") return make("u");
      const a = make("a");
      a.href = url.href; a.target = "_blank"; a.rel = "noopener noreferrer"; a.title = url.href;
      return a;
    }
    default: return make("span", "entity-" + String(entity.type).replace(/[^a-z_]/g, ""));
  }
}

// Entities may nest (bold inside a quote); offsets are in UTF-16 units, like JS strings.
function renderEntities(parent, text, from, to, entities) {
  const list = entities.filter((e) => e.offset >= from && e.offset < to)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  let pos = from;
  let i = 0;
  while (i < list.length) {
    const e = list[i];
    const end = Math.min(e.offset + e.length, to);
    if (e.offset < pos) { i += 1; continue; }  // overlapping: Telegram would not send it
    if (e.offset > pos) parent.append(text.slice(pos, e.offset));
    const inner = [];
    let j = i + 1;
    while (j < list.length && list[j].offset < end) { inner.push(list[j]); j += 1; }
    const el = entityElement(e, text.slice(e.offset, end));
    renderEntities(el, text, e.offset, end, inner);
    parent.append(el);
    pos = end;
    i = j;
  }
  if (pos < to) parent.append(text.slice(pos, to));
}

function formatted(text, entities) {
  const body = document.createElement("div");
  body.className = "body";
  renderEntities(body, text, 0, text.length, entities || []);
  return body;
}

// --- chats ---------------------------------------------------------------------------------

function messageNode(msg, chat, viewerId) {
  const node = document.createElement("div");
  const mine = !msg.from_bot && msg.from_id === viewerId;
  node.className = "msg" + (mine ? " mine" : "") + (msg.from_bot ? " from-bot" : "");
  node.dataset.messageId = msg.id;
  if (chat.id < 0 && !mine) {
    const sender = document.createElement("div");
    sender.className = "sender";
    sender.textContent = msg.from_bot ? state.data.bot.name : msg.from;
    node.append(sender);
  }
  if (msg.reply_to) {
    const quote = document.createElement("div");
    quote.className = "quote";
    quote.textContent = msg.reply_to.text;
    node.append(quote);
  }
  if (msg.file) {
    if (msg.file.image) {
      const img = document.createElement("img");
      img.src = "/api/file/" + encodeURIComponent(msg.file.id);
      img.alt = "photo";
      node.append(img);
    } else {
      const a = document.createElement("a");
      a.className = "doc";
      a.href = "/api/file/" + encodeURIComponent(msg.file.id);
      a.textContent = "📄 " + (msg.file.name || msg.kind) + " (" + Math.ceil(msg.file.size / 1024) + " KB)";
      node.append(a);
    }
  }
  if (msg.service) {
    node.className = "msg service";
    node.textContent = msg.service;
    return node;
  }
  const text = msg.text !== null ? msg.text : msg.caption;
  if (text) node.append(formatted(text, msg.entities));
  else if (!msg.file) node.append(formatted("[" + msg.kind + "]", []));
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (msg.edited ? "edited " : "") + new Date(msg.date * 1000).toLocaleTimeString();
  node.append(meta);
  return node;
}

function keyboardNode(msg, chat) {
  const kb = document.createElement("div");
  kb.className = "kb";
  kb.dataset.messageId = msg.id;
  msg.buttons.forEach((row, r) => {
    const line = document.createElement("div");
    line.className = "row";
    row.forEach((button, c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = button.text;
      if (button.url) { b.classList.add("link"); b.title = button.url; }
      b.addEventListener("click", () => (button.url && openInternal(button.url)) || press(chat.id, msg.id, r, c));
      line.append(b);
    });
    kb.append(line);
  });
  return kb;
}

function renderMessages(phone, chat, messages, viewerId) {
  const box = $(phone, "messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const nodes = [];
  for (const msg of messages) {
    nodes.push(messageNode(msg, chat, viewerId));
    if (msg.buttons.length) nodes.push(keyboardNode(msg, chat));
  }
  box.replaceChildren(...nodes);
  if (atBottom || phone.dataset.chat !== String(chat.id)) box.scrollTop = box.scrollHeight;
  phone.dataset.chat = String(chat.id);
  $(phone, "typing").textContent = chat.typing ? state.data.bot.name + " is typing…" : "";
}

function setActive(phone, active, note) {
  phone.classList.toggle("inactive", !active);
  $(phone, "note").textContent = active ? "" : note;
  for (const el of phone.querySelectorAll(".composer textarea, .composer button, .kb button, select")) {
    el.disabled = !active;
  }
}

function renderPrivate(phone, key, kind) {
  const p = person(key);
  const chat = state.data.chats[String(p.user_id)];
  $(phone, "title").textContent = p.label + " · chat with " + state.data.bot.name;
  renderMessages(phone, chat, chat.messages, p.user_id);
  $(phone, "start").hidden = p.started || chat.messages.length > 0;
  const commands = $(phone, "commands");
  commands.replaceChildren(...p.commands.map((cmd) => {
    const b = document.createElement("button");
    b.type = "button";
    const name = document.createElement("b");
    name.textContent = "/" + cmd.command;
    b.append(name, " " + cmd.description);
    b.addEventListener("click", () => { commands.hidden = true; send(phone, "/" + cmd.command); });
    return b;
  }));
  const select = $(phone, "language");
  if (select) {
    if (!select.options.length) {
      for (const code of state.data.languages) select.append(new Option(code, code));
    }
    select.value = p.language_code;
  }
  const active = state.me === key;
  setActive(phone, active, "You are " + person(state.me).label + ": switch to " + p.label + " to act here.");
  if (kind === "staff" && p.role === "outsider") {
    $(phone, "title").textContent = p.label + " (no role) · chat with " + state.data.bot.name;
  }
}

function renderGroup(phone) {
  const chat = state.data.chats[String(state.data.group_id)];
  $(phone, "title").textContent = chat.title;
  const topics = chat.topics || [];
  if (!state.topicChosen && topics.length) state.topic = topics[topics.length - 1].id;
  if (state.topic !== null && !topics.some((t) => t.id === state.topic)) state.topic = null;
  const tabs = [{ id: null, name: "General" }, ...topics].map((t) => {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "tab");
    b.setAttribute("aria-selected", String(t.id === state.topic));
    b.textContent = t.name;
    b.addEventListener("click", () => { state.topic = t.id; state.topicChosen = true; render(); });
    return b;
  });
  $(phone, "topics").replaceChildren(...tabs);
  const messages = chat.messages.filter((m) => (m.thread === null ? null : m.thread) === state.topic);
  const me = person(state.me);
  renderMessages(phone, chat, messages, me.user_id);
  setActive(phone, me.in_group, "You are " + me.label + ": not a member of this group (shown for the demo).");
}

function renderErrors() {
  const list = document.getElementById("errors");
  document.getElementById("error-count").textContent = state.data.errors.length;
  list.replaceChildren(...state.data.errors.map((e) => {
    const li = document.createElement("li"); li.textContent = e.summary; return li;
  }));
  const actions = document.getElementById("action-errors");
  document.getElementById("action-error-count").textContent = state.data.action_errors.length;
  actions.replaceChildren(...state.data.action_errors.map((e) => {
    const li = document.createElement("li"); li.textContent = e.description; return li;
  }));
}

function renderPeople() {
  const box = document.getElementById("people");
  box.replaceChildren(...state.data.people.map((p) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.person = p.key;
    b.textContent = p.label;
    b.title = p.first_name + " — " + p.role;
    b.setAttribute("aria-pressed", String(p.key === state.me));
    b.addEventListener("click", () => becomes(p.key));
    return b;
  }));
}

function showAnswers() {
  for (const answer of state.data.answers) {
    if (state.seenAnswers.has(answer.id)) continue;
    state.seenAnswers.add(answer.id);
    const me = person(state.me);
    if (answer.user_id !== me.user_id || !answer.text) continue;
    const phone = answer.chat_id === state.data.group_id ? phones.group
      : (answer.chat_id === person(state.reporter).user_id ? phones.reporter : phones.staff);
    toast(phone, answer.text, false, answer.show_alert);
  }
}

function render() {
  if (!state.data) return;
  document.body.dataset.seq = String(state.data.seq);
  renderPeople();
  renderPrivate(phones.reporter, state.reporter, "reporter");
  renderGroup(phones.group);
  renderPrivate(phones.staff, state.staff, "staff");
  renderErrors();
  showAnswers();
  const status = document.getElementById("status");
  status.textContent = state.data.ready ? "Bot running" : "Bot starting…";
  status.className = "status " + (state.data.ready ? "live" : "");
}

function becomes(key) {
  state.me = key;
  for (const el of document.querySelectorAll(".toast")) el.className = "toast";
  const p = person(key);
  if (p.role === "reporter") state.reporter = key; else state.staff = key;
  render();
}

// --- acting ----------------------------------------------------------------------------------

function toast(phone, text, error, sticky) {
  const el = $(phone, "toast");
  el.textContent = text;
  el.className = "toast shown" + (error ? " error" : "");
  clearTimeout(el.timer);
  el.timer = setTimeout(() => { el.className = "toast"; }, sticky ? 6000 : 3000);
  if (sticky) el.addEventListener("click", () => { el.className = "toast"; }, { once: true });
}

async function post(phone, path, body) {
  const isForm = body instanceof FormData;
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: isForm ? {} : { "Content-Type": "application/json" },
      body: isForm ? body : JSON.stringify(body),
    });
    const result = await response.json().catch(() => ({ ok: false, description: response.statusText }));
    if (!result.ok) toast(phone, result.description || "Refused", true);
    return result;
  } catch (e) {
    toast(phone, "The demo is not running any more.", true);
    return { ok: false };
  }
}

function chatOf(phone) {
  if (phone === phones.group) return { chat_id: state.data.group_id, thread: state.topic };
  const key = phone === phones.reporter ? state.reporter : state.staff;
  return { chat_id: person(key).user_id, thread: null };
}

function press(chatId, messageId, row, col) {
  const phone = chatId === state.data.group_id ? phones.group
    : (chatId === person(state.reporter).user_id ? phones.reporter : phones.staff);
  return post(phone, "/api/press", { person: state.me, chat_id: chatId, message_id: messageId, row, col });
}

// A t.me link to a message of the demo's group opens that topic here instead of leaving.
function openInternal(url) {
  const match = /^https:\/\/t\.me\/c\/(\d+)\/(\d+)(?:\/(\d+))?$/.exec(url);
  if (!match || -Number("100" + match[1]) !== state.data.group_id) return false;
  const chat = state.data.chats[String(state.data.group_id)];
  const thread = match[3] ? Number(match[2]) : null;
  state.topic = (chat.topics || []).some((t) => t.id === thread) ? thread : null;
  state.topicChosen = true;
  render();
  return true;
}

function send(phone, text) {
  const target = chatOf(phone);
  return post(phone, "/api/send", { person: state.me, chat_id: target.chat_id, thread: target.thread, text });
}

function upload(phone, as, file) {
  const target = chatOf(phone);
  const form = new FormData();
  form.append("person", state.me);
  form.append("chat_id", String(target.chat_id));
  if (target.thread !== null) form.append("thread", String(target.thread));
  form.append("as", as);
  const caption = $(phone, "text");
  if (caption.value.trim()) form.append("caption", caption.value);
  form.append("file", file, file.name);
  caption.value = "";
  return post(phone, "/api/upload", form);
}

function wire(phone) {
  const text = $(phone, "text");
  const composer = $(phone, "composer");
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    const value = text.value;
    text.value = "";
    send(phone, value);
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  const file = $(phone, "file");
  for (const as of ["photo", "document"]) {
    $(phone, as).addEventListener("click", () => {
      file.dataset.as = as;
      file.accept = as === "photo" ? "image/*" : "";
      file.click();
    });
  }
  file.addEventListener("change", () => {
    if (file.files.length) upload(phone, file.dataset.as, file.files[0]);
    file.value = "";
  });
  const start = $(phone, "start");
  if (start) start.addEventListener("click", () => send(phone, "/start"));
  const menu = $(phone, "menu");
  if (menu) menu.addEventListener("click", () => { const c = $(phone, "commands"); c.hidden = !c.hidden; });
  const language = $(phone, "language");
  if (language) {
    language.addEventListener("change", () => post(phone, "/api/profile", {
      person: state.reporter, language_code: language.value,
    }));
  }
}

Object.values(phones).forEach(wire);

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("state", (event) => {
    state.data = JSON.parse(event.data);
    render();
  });
  events.addEventListener("error", () => {
    const status = document.getElementById("status");
    status.textContent = "Disconnected — is the demo still running?";
    status.className = "status down";
  });
}

connect();

// The chat page: log in with the server key, chat over claude-chat.js, show answers as they
// stream. Model output is untrusted: it reaches the DOM only as text, or through
// markdown-view.js, and the page's Content-Security-Policy forbids inline script besides.
import { ChatError, connect } from "/static/claude-chat.js";
import { MarkdownView } from "/static/markdown-view.js";

const KEY_STORAGE = "claude-chat-key";
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {string} tag @param {string} [className] @param {string} [text] */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Keep the log pinned to its end while it grows, unless the reader scrolled up. */
const log = $("log");
let pinned = true;
log.addEventListener("scroll", () => {
  pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
});
function follow() {
  if (pinned) log.scrollTop = log.scrollHeight;
}

/** @param {string} name @param {Record<string, any>} input */
function toolLine(name, input) {
  const main =
    input.command ?? input.file_path ?? input.path ?? input.pattern ?? input.url ?? input.query ?? input.description ??
    Object.values(input).find((v) => typeof v === "string") ?? "";
  const arg = String(main).replace(/\s+/g, " ");
  return `${name}(${arg.length > 120 ? `${arg.slice(0, 119)}…` : arg})`;
}

/** @param {number} n */
function tokens(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

/** @param {number | null | undefined} s */
function seconds(s) {
  return typeof s === "number" ? `${s.toFixed(2)}s` : "–";
}

/** One exchange in the log: the user's message, the answer as it streams, its footer. */
class TurnView {
  /** @param {string} text */
  constructor(text) {
    this.root = el("article", "turn");
    this.root.append(el("div", "you", text));
    this.answer = el("div", "answer");
    this.root.append(this.answer);
    log.append(this.root);
    /** @type {MarkdownView | null} */
    this.markdown = null;
    /** @type {Text | null} */
    this.thinking = null;
    /** @type {Map<string, HTMLElement>} */
    this.tools = new Map();
    pinned = true;
    follow();
  }

  /** @param {string} text */
  text(text) {
    this.thinking = null;
    if (!this.markdown) this.markdown = new MarkdownView(this.answer, follow);
    this.markdown.feed(text);
  }

  /** @param {string} text */
  think(text) {
    this.endText();
    if (!this.thinking) {
      const box = el("details", "thinking");
      box.append(el("summary", "", "Thinking"));
      const body = el("div", "thought");
      this.thinking = document.createTextNode("");
      body.append(this.thinking);
      box.append(body);
      this.answer.append(box);
    }
    this.thinking.appendData(text);
  }

  endText() {
    if (this.markdown) this.markdown.finish();
    this.markdown = null;
  }

  /** @param {string} id @param {string} name @param {Record<string, any>} input @param {boolean} nested */
  toolUse(id, name, input, nested) {
    this.endText();
    this.thinking = null;
    const box = el("details", nested ? "tool nested" : "tool");
    box.append(el("summary", "", `● ${toolLine(name, input)}`));
    const body = el("div", "tool-body");
    body.append(el("pre", "tool-input", JSON.stringify(input, null, 2)));
    box.append(body);
    this.answer.append(box);
    this.tools.set(id, box);
    follow();
    return box;
  }

  /** @param {string} id @param {string} content @param {boolean} isError */
  toolResult(id, content, isError) {
    const box = this.tools.get(id);
    if (!box) return;
    const body = /** @type {HTMLElement} */ (box.querySelector(".tool-body"));
    body.append(el("pre", isError ? "tool-result error" : "tool-result", content));
    if (isError) box.classList.add("failed");
    const summary = /** @type {HTMLElement} */ (box.querySelector("summary"));
    const first = content.split("\n").find((line) => line.trim()) ?? "";
    summary.append(el("span", "tool-summary", ` ⎿ ${first.length > 80 ? `${first.slice(0, 79)}…` : first}`));
  }

  /** @param {string} text @param {string} [className] */
  note(text, className = "note") {
    this.endText();
    this.answer.append(el("p", className, text));
    follow();
  }

  /** @param {Record<string, any>} result */
  footer(result) {
    this.endText();
    const usage = result.usage ?? {};
    const read = (usage.input_tokens ?? 0) + (usage.cache_read_tokens ?? 0) + (usage.cache_creation_tokens ?? 0);
    const parts = [
      result.model ?? "",
      `${tokens(read)} in / ${tokens(usage.output_tokens ?? 0)} out`,
      `$${(result.cost_usd ?? 0).toFixed(4)}`,
      `first token ${seconds(result.time_to_first_token_s)}`,
      seconds(result.duration_s),
    ];
    if (result.interrupted) parts.push("interrupted");
    this.root.append(el("div", "meta", parts.filter(Boolean).join(" · ")));
    follow();
  }

  /**
   * Ask the person whether a tool call may run.
   * @param {{tool: string, input: Record<string, any>}} request
   * @returns {Promise<{allow: boolean, always?: boolean, message?: string}>}
   */
  ask(request) {
    this.endText();
    const card = el("div", "permission");
    card.setAttribute("role", "group");
    card.append(el("p", "ask", `Allow ${toolLine(request.tool, request.input)}?`));
    card.append(el("pre", "tool-input", JSON.stringify(request.input, null, 2)));
    const reason = /** @type {HTMLInputElement} */ (el("input", "reason"));
    reason.placeholder = "Reason for denying (optional)";
    reason.setAttribute("aria-label", "Reason for denying");
    const buttons = el("div", "choices");
    const once = el("button", "allow", "Allow once");
    const always = el("button", "always", "Always");
    const deny = el("button", "deny", "Deny");
    buttons.append(once, always, deny);
    card.append(buttons, reason);
    this.answer.append(card);
    follow();
    once.focus();
    return new Promise((resolve) => {
      /** @param {{allow: boolean, always?: boolean, message?: string}} decision @param {string} said */
      const settle = (decision, said) => {
        openQuestion = null;
        card.replaceChildren(el("p", "answered", said));
        resolve(decision);
      };
      const refuse = (/** @type {string} */ message) =>
        settle({ allow: false, message }, message ? `Denied: ${message}` : "Denied");
      once.addEventListener("click", () => settle({ allow: true }, "Allowed once"));
      always.addEventListener("click", () => settle({ allow: true, always: true }, "Allowed always"));
      deny.addEventListener("click", () => refuse(reason.value.trim()));
      reason.addEventListener("keydown", (e) => {
        if (e.key === "Enter") refuse(reason.value.trim());
      });
      openQuestion = refuse;
    });
  }
}

/** A stored turn, drawn at once from a transcript. */
function drawStoredTurn(/** @type {Record<string, any>} */ turn) {
  const view = new TurnView(turn.user);
  for (const item of turn.items ?? []) {
    if (item.kind === "text") {
      const md = new MarkdownView(view.answer, follow);
      md.feed(item.text);
      md.finish();
    } else if (item.kind === "thinking") {
      view.think(item.text);
      view.thinking = null;
    } else if (item.kind === "tool") {
      const id = `stored-${Math.random()}`;
      view.toolUse(id, item.name ?? "tool", item.input ?? {}, false);
      if (item.result !== null && item.result !== undefined) view.toolResult(id, item.result, item.is_error);
    }
  }
  if (turn.error) view.note(turn.error, "error");
  const parts = [turn.model ?? ""];
  if (turn.input_tokens != null) parts.push(`${tokens(turn.input_tokens)} in / ${tokens(turn.output_tokens ?? 0)} out`);
  if (turn.cost_usd != null) parts.push(`$${turn.cost_usd.toFixed(4)}`);
  if (turn.time_to_first_token_s != null) parts.push(`first token ${seconds(turn.time_to_first_token_s)}`);
  if (turn.interrupted) parts.push("interrupted");
  view.root.append(el("div", "meta", parts.filter(Boolean).join(" · ")));
}

// ---------------------------------------------------------------------------------------
// The page's state and its controls

/** @type {import("./claude-chat.js").Chat | null} */
let chat = null;
/** @type {TurnView | null} */
let current = null;
/** @type {((message: string) => void) | null} */
let openQuestion = null;

const input = /** @type {HTMLTextAreaElement} */ ($("input"));
const sendButton = $("send");
const stopButton = $("stop");

/** @param {boolean} busy */
function setBusy(busy) {
  stopButton.hidden = !busy;
  sendButton.hidden = busy;
  document.body.classList.toggle("busy", busy);
}

async function sendMessage() {
  const text = input.value;
  if (!chat || chat.busy || !text.trim()) return;
  input.value = "";
  const view = new TurnView(text);
  current = view;
  setBusy(true);
  try {
    for await (const event of chat.send(text)) {
      switch (event.type) {
        case "content_block_delta":
          if (event.parent_tool_use_id) break; // a subagent's own words: its tool calls show
          if (event.delta.type === "text_delta") view.text(event.delta.text);
          else if (event.delta.type === "thinking_delta") view.think(event.delta.thinking);
          break;
        case "tool_use":
          view.toolUse(event.id, event.name, event.input ?? {}, Boolean(event.parent_tool_use_id));
          break;
        case "tool_result":
          view.toolResult(event.tool_use_id, String(event.content ?? ""), Boolean(event.is_error));
          break;
        case "permission_denied":
          view.note(`${event.name} was not allowed: ${event.reason}`, "note denied");
          break;
        case "retrying":
          view.note(event.message);
          break;
        case "error":
          view.note(event.message, "error");
          break;
        case "result":
          view.footer(event);
          break;
      }
    }
  } catch (error) {
    if (error instanceof ChatError && error.status === 0) {
      view.note(`${error.message}; the next message reconnects and goes on in this session`, "error");
    } else {
      view.note(error instanceof Error ? error.message : String(error), "error");
    }
  } finally {
    view.endText();
    current = null;
    setBusy(false);
    input.focus();
  }
  refreshSessions();
}

function stop() {
  if (!chat || !chat.busy) return;
  if (openQuestion) openQuestion("stopped");
  chat.interrupt();
}

/** @param {string} iso */
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!(s >= 0)) return "";
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

async function refreshSessions() {
  if (!chat) return;
  let sessions;
  try {
    sessions = await chat.sessions();
  } catch {
    return;
  }
  const list = $("sessions");
  list.replaceChildren();
  for (const s of sessions) {
    const item = el("li");
    const button = /** @type {HTMLButtonElement} */ (
      el("button", s.session_id === chat.sessionId ? "session active" : "session")
    );
    button.type = "button";
    button.dataset.sessionId = s.session_id;
    button.append(el("span", "session-title", s.title || "(untitled)"));
    const when = el("span", "session-when", ago(s.last_active));
    when.title = s.last_active;
    button.append(when);
    button.addEventListener("click", () => openSession(s.session_id, s.title));
    item.append(button);
    list.append(item);
    if (s.session_id === chat.sessionId) $("title").textContent = s.title || "(untitled)";
  }
}

/** @param {string} sessionId @param {string | null} title */
async function openSession(sessionId, title) {
  if (!chat || chat.busy) return;
  closeSidebar();
  let transcript;
  try {
    transcript = await chat.transcript(sessionId);
  } catch (error) {
    log.append(el("p", "error", error instanceof Error ? error.message : String(error)));
    return;
  }
  chat.resume(sessionId);
  log.replaceChildren();
  for (const turn of transcript.turns ?? []) drawStoredTurn(turn);
  $("title").textContent = title || transcript.title || "(untitled)";
  for (const b of document.querySelectorAll(".session")) {
    b.classList.toggle("active", /** @type {HTMLElement} */ (b).dataset.sessionId === sessionId);
  }
  pinned = true;
  follow();
  input.focus();
}

function newChat() {
  if (!chat || chat.busy) return;
  chat.resume(null);
  log.replaceChildren();
  $("title").textContent = "New chat";
  for (const b of document.querySelectorAll(".session")) b.classList.remove("active");
  closeSidebar();
  input.focus();
}

function closeSidebar() {
  document.body.classList.remove("sidebar-open");
  $("scrim").hidden = true;
}

/** @param {string} key */
async function login(key) {
  const error = $("login-error");
  error.textContent = "";
  try {
    chat = await connect(location.origin, key, {
      onPermission: (request) => (current ? current.ask(request) : { allow: false, message: "no turn to ask in" }),
    });
  } catch (e) {
    sessionStorage.removeItem(KEY_STORAGE);
    $("login").hidden = false;
    $("app").hidden = true;
    error.textContent = e instanceof ChatError && e.status === 401 ? "Wrong server key." : `Could not connect: ${e}`;
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $("login").hidden = true;
  $("app").hidden = false;
  input.focus();
  refreshSessions();
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  login(/** @type {HTMLInputElement} */ ($("key")).value);
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  sendMessage();
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendMessage();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && chat && chat.busy) {
    e.preventDefault();
    stop();
  }
});
stopButton.addEventListener("click", stop);
$("new-chat").addEventListener("click", newChat);
$("model").addEventListener("change", () => {
  const model = /** @type {HTMLSelectElement} */ ($("model")).value;
  if (chat && model) chat.setModel(model);
});
$("toggle-sessions").addEventListener("click", () => {
  const open = document.body.classList.toggle("sidebar-open");
  $("scrim").hidden = !open;
});
$("scrim").addEventListener("click", closeSidebar);
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  if (chat) chat.close();
  chat = null;
  log.replaceChildren();
  $("sessions").replaceChildren();
  $("app").hidden = true;
  $("login").hidden = false;
});

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) login(saved);
else $("login").hidden = false;

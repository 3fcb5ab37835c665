// claude-chat.js: continuous conversations with a `claude-chat serve` server, from a browser
// or any JavaScript runtime with WebSocket and fetch. One ES module, no dependencies.
//
//   import { connect } from "/static/claude-chat.js";
//   const chat = await connect("http://127.0.0.1:8765", key, { onPermission });
//   for await (const event of chat.send("Hello")) { ... }
//
// The key goes in the socket's first message and in Authorization headers, never in a URL.

/**
 * An event of a turn, as the server sends it: `session` first, then `content_block_delta`
 * (`delta.type` is `text_delta` or `thinking_delta`), `tool_use`, `tool_result`,
 * `permission_request`, `permission_denied`, `retrying`, `error`, and `result` last.
 * @typedef {{type: string, [field: string]: any}} ChatEvent
 */

/**
 * Claude Code asks whether a tool call may run.
 * @typedef {{type: "permission_request", id: string, tool: string, input: Object<string, any>}} PermissionRequest
 */

/**
 * The answer to a permission request: `always` allows this kind of call for the rest of the
 * session; a denial's `message` is what Claude is told.
 * @typedef {{allow: boolean, always?: boolean, message?: string}} PermissionDecision
 */

/**
 * @callback PermissionHook
 * @param {PermissionRequest} request
 * @returns {PermissionDecision | Promise<PermissionDecision>}
 */

/**
 * @typedef {Object} ConnectOptions
 * @property {string | null} [sessionId] resume this session with the first message
 * @property {string | null} [model] model alias or name for the next turns
 * @property {string | null} [permissionMode] Claude Code's permission mode for the next turns
 * @property {PermissionHook} [onPermission] answers permission requests; without it they are denied
 * @property {typeof WebSocket} [WebSocket] a WebSocket class, where there is no global one
 */

/**
 * A session as `GET /v1/sessions` lists it.
 * @typedef {{session_id: string, title: string | null, last_active: string, turns: number, cwd: string | null}} SessionSummary
 */

/** A refusal or failure, with the HTTP status the server gave it (0: no answer at all). */
export class ChatError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {string} [kind]
   */
  constructor(message, status, kind = "") {
    super(message);
    this.name = "ChatError";
    this.status = status;
    this.kind = kind;
  }
}

// A turn's own error kinds (an `error` event then a `result` follow); any other kind names a
// refused message (conflict_error, overloaded_error, ...), after which no `result` comes.
const TURN_ERROR_KINDS = new Set(["auth", "api", "billing", "rate_limit", "overloaded", "cli", "other"]);
const NOBODY_TO_ASK = "nobody answers permission requests on this connection";

/**
 * The server's HTTP base URL and WebSocket URL, from either.
 * @param {string} url `http(s)://host:port` or `ws(s)://host:port/v1/chat/ws`
 * @returns {{http: string, ws: string}}
 */
export function endpoints(url) {
  const base = new URL(url, globalThis.location ? globalThis.location.href : undefined);
  if (base.protocol === "ws:" || base.protocol === "wss:") {
    const http = `${base.protocol === "wss:" ? "https:" : "http:"}//${base.host}`;
    return { http, ws: base.pathname.endsWith("/v1/chat/ws") ? base.href : `${base.origin}/v1/chat/ws` };
  }
  const http = base.origin;
  return { http, ws: `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}/v1/chat/ws` };
}

/**
 * Connect with a server key: the key is checked (a wrong one throws a ChatError with status
 * 401) and the socket is open when this resolves.
 * @param {string} url the server, `http(s)://host:port` (or its WebSocket URL)
 * @param {string} key the server key
 * @param {ConnectOptions} [options]
 * @returns {Promise<Chat>}
 */
export async function connect(url, key, options = {}) {
  const chat = new Chat(endpoints(url), key, options);
  await chat.sessions(); // checks the key with a plain answer, which a socket cannot give
  await chat.open();
  return chat;
}

/** One conversation at a time over one socket, for many turns. */
export class Chat {
  /**
   * @param {{http: string, ws: string}} urls
   * @param {string} key
   * @param {ConnectOptions} options
   */
  constructor(urls, key, options) {
    this.urls = urls;
    /** @type {string | null} the session the next message goes to (null: a new one) */
    this.sessionId = options.sessionId ?? null;
    /** @type {string | null} the model the server last reported */
    this.model = null;
    /** @type {PermissionHook | undefined} */
    this.onPermission = options.onPermission;
    this._key = key;
    this._pendingModel = options.model ?? null;
    this._permissionMode = options.permissionMode ?? null;
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    /** @type {WebSocket | null} */
    this._socket = null;
    /** @type {ChatEvent[]} */
    this._inbox = [];
    /** @type {(() => void) | null} */
    this._wake = null;
    /** @type {ChatError | null} */
    this._lost = null;
    this._turning = false;
  }

  /** Whether a turn is running. */
  get busy() {
    return this._turning;
  }

  /**
   * Open the socket (again, after it was lost) and authenticate on it.
   * @returns {Promise<void>}
   */
  open() {
    if (this._socket && this._socket.readyState === 1 && !this._lost) return Promise.resolve();
    this._lost = null;
    this._inbox = [];
    return new Promise((resolve, reject) => {
      const socket = new this._WebSocket(this.urls.ws);
      this._socket = socket;
      let opened = false;
      socket.onopen = () => {
        opened = true;
        socket.send(JSON.stringify({ type: "auth", key: this._key }));
        resolve();
      };
      socket.onmessage = (message) => {
        let event;
        try {
          event = JSON.parse(String(message.data));
        } catch {
          return;
        }
        if (event && typeof event.type === "string") this._deliver(event);
      };
      socket.onclose = (close) => {
        if (this._socket !== socket) return;
        this._lost = new ChatError(
          close.code === 1008 ? "the server refused the key" : "the connection to the server was lost",
          close.code === 1008 ? 401 : 0,
        );
        if (!opened) reject(this._lost);
        this._wakeUp();
      };
    });
  }

  /**
   * Send a message and stream the turn's events, `result` last. What the server refuses (a
   * turn already running: 409, every process busy: 503, ...) throws a ChatError with its
   * status; so does a connection lost mid-turn (status 0; the next send reconnects and goes on
   * in the same session).
   * @param {string} text
   * @returns {AsyncGenerator<ChatEvent, void, void>}
   */
  async *send(text) {
    if (this._turning) throw new ChatError("a turn is still running; wait for its result", 409, "conflict_error");
    this._turning = true;
    try {
      await this.open();
      /** @type {Record<string, any>} */
      const message = { type: "message", text, session_id: this.sessionId };
      if (this._pendingModel) message.model = this._pendingModel;
      if (this._permissionMode) message.permission_mode = this._permissionMode;
      this._inbox = [];
      this._post(message);
      for (;;) {
        const event = await this._next();
        if (event.type === "session" || event.type === "result") {
          if (event.session_id) this.sessionId = event.session_id;
          if (event.model) this.model = event.model;
        }
        if (event.type === "error" && !TURN_ERROR_KINDS.has(event.kind)) {
          throw new ChatError(event.message, event.status ?? 0, event.kind);
        }
        if (event.type === "permission_request") this._answer(/** @type {PermissionRequest} */ (event));
        yield event;
        if (event.type === "result") return;
      }
    } finally {
      this._turning = false;
    }
  }

  /** Interrupt the running turn: what arrived stays, the turn ends with its `result`. */
  interrupt() {
    if (this._turning) this._post({ type: "interrupt" });
  }

  /**
   * Switch model (an alias such as `sonnet` or a full name) from the next turn on.
   * @param {string} name
   */
  setModel(name) {
    this._pendingModel = name;
    if (this._socket && this._socket.readyState === 1) this._post({ type: "set_model", model: name });
  }

  /**
   * Go on in a stored session with the next message, or start a new one (null).
   * @param {string | null} sessionId
   */
  resume(sessionId) {
    if (this._turning) throw new ChatError("a turn is still running", 409, "conflict_error");
    this.sessionId = sessionId;
  }

  /**
   * The tenant's sessions, newest first.
   * @returns {Promise<SessionSummary[]>}
   */
  async sessions() {
    const body = await this._get("/v1/sessions");
    return body.sessions;
  }

  /**
   * A stored session's transcript (`claude-chat-transcript/1`: `turns`, each with `user`,
   * `items` of kind text, thinking or tool, and its figures).
   * @param {string} sessionId
   * @returns {Promise<Object<string, any>>}
   */
  transcript(sessionId) {
    return this._get(`/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** Close the socket; a turn still running is interrupted by the server. */
  close() {
    const socket = this._socket;
    this._socket = null;
    this._lost = new ChatError("the chat was closed", 0);
    this._wakeUp();
    if (socket) socket.close(1000);
  }

  /**
   * @param {string} path
   * @returns {Promise<any>}
   */
  async _get(path) {
    let response;
    try {
      response = await fetch(this.urls.http + path, { headers: { Authorization: `Bearer ${this._key}` } });
    } catch (error) {
      throw new ChatError(`the server did not answer: ${error}`, 0);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = body && body.error ? body.error : {};
      throw new ChatError(detail.message || `HTTP ${response.status}`, response.status, detail.type || "");
    }
    return body;
  }

  /** @param {Record<string, any>} message */
  _post(message) {
    if (!this._socket || this._socket.readyState !== 1) throw this._lost ?? new ChatError("not connected", 0);
    this._socket.send(JSON.stringify(message));
  }

  /** @param {ChatEvent} event */
  _deliver(event) {
    if (!this._turning) return; // a refusal of something sent between turns (set_model)
    this._inbox.push(event);
    this._wakeUp();
  }

  _wakeUp() {
    const wake = this._wake;
    this._wake = null;
    if (wake) wake();
  }

  /** @returns {Promise<ChatEvent>} */
  async _next() {
    for (;;) {
      const event = this._inbox.shift();
      if (event) return event;
      if (this._lost) throw this._lost;
      await new Promise((resolve) => {
        this._wake = () => resolve(undefined);
      });
    }
  }

  /** @param {PermissionRequest} request */
  async _answer(request) {
    /** @type {PermissionDecision} */
    let decision = { allow: false, message: NOBODY_TO_ASK };
    if (this.onPermission) {
      try {
        decision = await this.onPermission(request);
      } catch (error) {
        decision = { allow: false, message: String(error) };
      }
    }
    if (!this._socket || this._socket.readyState !== 1) return;
    /** @type {Record<string, any>} */
    const answer = { type: "permission", id: request.id, allow: Boolean(decision.allow) };
    if (decision.allow && decision.always) answer.always = true;
    if (!decision.allow && decision.message) answer.message = decision.message;
    this._post(answer);
  }
}

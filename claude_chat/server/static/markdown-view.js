// Markdown of untrusted model output, rendered as it streams. markdown-it runs with raw HTML
// escaped (html: false) and its own link check (no javascript: or data: links); links open
// apart from the page, with no opener and no referrer.
import hljs from "/static/vendor/highlight.min.js";

/** @param {string} tag @param {string} className */
function el(tag, className) {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

// Highlighting a 3,000-line block takes a few hundred ms at once, which a reader feels as a
// pause; a block that long stays plain.
const HIGHLIGHT_MAX_CHARS = 40_000;
// The opening line of a fenced code block at the start of the open block.
const FENCE_OPENING = /^ {0,3}(`{3,}|~{3,})([^\n]*)\n/;

/** A markdown-it render rule (the vendored build has no types).
 * @typedef {(tokens: any[], i: number, options: any, env: any, self: any) => string} RenderRule */

/** @param {boolean} highlighted */
export function markdownRenderer(highlighted) {
  // @ts-ignore: markdown-it's UMD build, loaded before this module
  const md = globalThis.markdownit({
    html: false,
    linkify: true,
    highlight: highlighted
      ? (/** @type {string} */ code, /** @type {string} */ lang) => {
          if (lang && code.length <= HIGHLIGHT_MAX_CHARS && hljs.getLanguage(lang)) {
            try {
              return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
            } catch {
              return "";
            }
          }
          return "";
        }
      : null,
  });
  /** @type {RenderRule} */
  const defaultLink = md.renderer.rules.link_open || ((tokens, i, options, env, self) => self.renderToken(tokens, i, options));
  /** @type {RenderRule} */
  const linkOpen = (tokens, i, options, env, self) => {
    tokens[i].attrSet("rel", "noopener noreferrer");
    tokens[i].attrSet("target", "_blank");
    return defaultLink(tokens, i, options, env, self);
  };
  md.renderer.rules.link_open = linkOpen;
  // A table column's alignment comes as a style attribute, which the page's policy refuses:
  // a class says the same.
  for (const rule of ["th_open", "td_open"]) {
    /** @type {RenderRule} */
    const cell = (tokens, i, options, env, self) => {
      const style = tokens[i].attrGet("style");
      if (style) {
        const align = /text-align:\s*(left|right|center)/.exec(style);
        tokens[i].attrs = (tokens[i].attrs || []).filter((/** @type {string[]} */ [name]) => name !== "style");
        if (align) tokens[i].attrJoin("class", `align-${align[1]}`);
      }
      return self.renderToken(tokens, i, options);
    };
    md.renderer.rules[rule] = cell;
  }
  return md;
}

// Final blocks are rendered once, highlighted; the open block is redrawn each frame, so it
// skips highlighting (it gets it when it becomes final).
const finalMarkdown = markdownRenderer(true);
const openMarkdown = markdownRenderer(false);

/**
 * Streamed markdown: every top-level block but the last is final once a later one has begun
 * (as claude_chat/terminal/markdown_stream.py splits them), so it is rendered once and never
 * again; only the open block is redrawn, at most once per animation frame.
 */
export class MarkdownView {
  /**
   * @param {HTMLElement} parent where the rendered answer goes
   * @param {() => void} [drawn] called after each redraw (to keep the view scrolled)
   */
  constructor(parent, drawn = () => {}) {
    this.drawn = drawn;
    this.root = el("div", "md");
    this.openEl = el("div", "open");
    this.root.append(this.openEl);
    parent.append(this.root);
    this.open = "";
    /** @type {string[]} */
    this.pending = [];
    this.frame = 0;
    /** @type {Text | null} the open code block's text, while one is being written */
    this.code = null;
    this.codeShown = 0;
  }

  /** @param {string} text */
  feed(text) {
    this.pending.push(text);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    this.absorb();
    const fence = openFence(this.open);
    if (fence) {
      // Nothing after an unclosed fence can start a block, and its text is its rendering:
      // the new text is appended, no markdown parsed.
      this.drawOpenCode(fence.info, fence.body);
    } else {
      this.code = null;
      for (const block of this.takeFinalBlocks()) this.appendFinal(block);
      this.openEl.innerHTML = openMarkdown.render(this.open);
    }
    this.drawn();
  }

  /** @param {string} info @param {string} body */
  drawOpenCode(info, body) {
    if (!this.code) {
      const code = document.createElement("code");
      const lang = info.trim().split(/\s/)[0];
      if (lang) code.className = `language-${lang}`;
      this.code = document.createTextNode("");
      this.codeShown = 0;
      code.append(this.code);
      const pre = document.createElement("pre");
      pre.append(code);
      this.openEl.replaceChildren(pre);
    }
    this.code.appendData(body.slice(this.codeShown));
    this.codeShown = body.length;
  }

  finish() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.absorb();
    this.open += "\n";
    for (const block of this.takeFinalBlocks()) this.appendFinal(block);
    if (this.open.trim()) this.appendFinal(this.open.replace(/\n+$/, ""));
    this.open = "";
    this.code = null;
    this.openEl.remove();
    this.drawn();
  }

  absorb() {
    if (this.pending.length) {
      this.open += this.pending.join("");
      this.pending = [];
    }
  }

  /** @param {string} source */
  appendFinal(source) {
    this.openEl.insertAdjacentHTML("beforebegin", finalMarkdown.render(source));
  }

  /** @returns {string[]} the blocks that became final, as markdown source */
  takeFinalBlocks() {
    // A line still being written can change what it is ("1" may become "1. item"), so only
    // complete lines may start a new block.
    const complete = this.open.slice(0, this.open.lastIndexOf("\n") + 1);
    const starts = openMarkdown
      .parse(complete, {})
      .filter((/** @type {any} */ t) => t.level === 0 && t.nesting >= 0 && t.map)
      .map((/** @type {any} */ t) => t.map[0]);
    if (starts.length < 2) return [];
    const lines = this.open.split(/(?<=\n)/);
    const blocks = [];
    for (let i = 0; i + 1 < starts.length; i++) {
      const block = lines.slice(starts[i], starts[i + 1]).join("").replace(/\n+$/, "");
      if (block.trim()) blocks.push(block);
    }
    this.open = lines.slice(starts[starts.length - 1]).join("");
    return blocks;
  }
}

/**
 * The open block as a fenced code block still waiting for its closing line, or null.
 * @param {string} source
 * @returns {{info: string, body: string} | null}
 */
function openFence(source) {
  const opening = FENCE_OPENING.exec(source);
  if (!opening) return null;
  const [line, marker, info] = opening;
  if (marker[0] === "`" && info.includes("`")) return null; // not a fence: inline code
  const body = source.slice(line.length);
  const closing = new RegExp(`^ {0,3}${marker[0] === "`" ? "`" : "~"}{${marker.length},}[ \\t]*$`, "m");
  if (closing.test(body)) return null;
  return { info, body };
}

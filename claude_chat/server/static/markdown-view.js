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

/** @param {boolean} highlighted */
export function markdownRenderer(highlighted) {
  // @ts-ignore: markdown-it's UMD build, loaded before this module
  const md = globalThis.markdownit({
    html: false,
    linkify: true,
    highlight: highlighted
      ? (/** @type {string} */ code, /** @type {string} */ lang) => {
          if (lang && hljs.getLanguage(lang)) {
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
  const defaultLink = md.renderer.rules.link_open || ((tokens, i, options, env, self) => self.renderToken(tokens, i, options));
  md.renderer.rules.link_open = (tokens, i, options, env, self) => {
    tokens[i].attrSet("rel", "noopener noreferrer");
    tokens[i].attrSet("target", "_blank");
    return defaultLink(tokens, i, options, env, self);
  };
  // A table column's alignment comes as a style attribute, which the page's policy refuses:
  // a class says the same.
  for (const rule of ["th_open", "td_open"]) {
    md.renderer.rules[rule] = (tokens, i, options, env, self) => {
      const style = tokens[i].attrGet("style");
      if (style) {
        const align = /text-align:\s*(left|right|center)/.exec(style);
        tokens[i].attrs = (tokens[i].attrs || []).filter(([name]) => name !== "style");
        if (align) tokens[i].attrJoin("class", `align-${align[1]}`);
      }
      return self.renderToken(tokens, i, options);
    };
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
  }

  /** @param {string} text */
  feed(text) {
    this.pending.push(text);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    this.absorb();
    for (const block of this.takeFinalBlocks()) this.appendFinal(block);
    this.openEl.innerHTML = openMarkdown.render(this.open);
    this.drawn();
  }

  finish() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.absorb();
    this.open += "\n";
    for (const block of this.takeFinalBlocks()) this.appendFinal(block);
    if (this.open.trim()) this.appendFinal(this.open.replace(/\n+$/, ""));
    this.open = "";
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


// crdt_sync whiteboard: the browser half (Streamlit components v2, plain JS, no build).
//
// The page keeps the board it was last sent (`srv`), draws locally while the pointer
// moves, and sends one small operation per finished action (a stroke, a move, a note
// edit) with setTriggerValue("ops", ...). Operations carry a sequence number and are
// resent until the server acknowledges them (data.acks), so none is lost or applied twice;
// until then they are drawn over `srv`. The server sends back only the elements that
// changed since the version this page has (data.from -> data.to); a page that missed a
// version asks for the whole board again ("resync"). Where the app has a live channel,
// other people's cursors come and go over it (cursors.js), without Streamlit.

import { LiveCursors } from "./cursors.js";

const SVG = "http://www.w3.org/2000/svg";
const XHTML = "http://www.w3.org/1999/xhtml";
const WIDTH = 1000;
const COLORS = ["#1f2937", "#dc2626", "#2563eb", "#16a34a", "#d97706", "#7c3aed"];
const NOTE_COLORS = {
  "#1f2937": "#fef08a", "#dc2626": "#fecaca", "#2563eb": "#bfdbfe",
  "#16a34a": "#bbf7d0", "#d97706": "#fed7aa", "#7c3aed": "#e9d5ff",
};
const WIDTHS = [2, 4, 8];
const TOOLS = [
  ["select", "↖", "Select and move (V)"],
  ["pen", "✎", "Pen (P)"],
  ["note", "Note", "Sticky note (N)"],
  ["rect", "▭", "Rectangle (R)"],
  ["ellipse", "◯", "Ellipse (O)"],
  ["arrow", "➚", "Arrow (A)"],
];
const KEYS = { v: "select", p: "pen", n: "note", r: "rect", o: "ellipse", a: "arrow" };
const RESEND_MS = 2000;
const TEXT_DEBOUNCE_MS = 250;
const boards = new WeakMap();

const r1 = (v) => Math.round(v * 10) / 10;
const el = (tag, attrs = {}, ns = SVG) => {
  const node = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};
const h = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text) node.textContent = text;
  return node;
};
const newId = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
};
const stackKey = (e) => [Number(e.z || 0), String(e.id)];
const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

function pathData(pts) {
  // Smooth curve through the points (quadratic segments between midpoints).
  if (pts.length < 4) return "";
  let d = `M${pts[0]} ${pts[1]}`;
  if (pts.length === 4) return `${d}L${pts[2]} ${pts[3]}`;
  for (let i = 2; i < pts.length - 2; i += 2) {
    const mx = r1((pts[i] + pts[i + 2]) / 2), my = r1((pts[i + 1] + pts[i + 3]) / 2);
    d += `Q${pts[i]} ${pts[i + 1]} ${mx} ${my}`;
  }
  return `${d}L${pts[pts.length - 2]} ${pts[pts.length - 1]}`;
}

function arrowHead(x1, y1, x2, y2, w) {
  const a = Math.atan2(y2 - y1, x2 - x1), s = 6 + w * 2.5;
  const p = (t) => `${r1(x2 - s * Math.cos(a + t))},${r1(y2 - s * Math.sin(a + t))}`;
  return `${x2},${y2} ${p(0.45)} ${p(-0.45)}`;
}

function wrap(text, chars) {
  const out = [];
  for (const para of String(text).split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      if (line && (line + " " + word).length > chars) { out.push(line); line = word; }
      else line = line ? line + " " + word : word;
    }
    out.push(line);
  }
  return out;
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

class Board {
  constructor(root) {
    this.root = root;
    this.client = newId();
    this.seq = 0;
    this.pending = [];          // sent, not yet acknowledged operations (in order)
    this.srv = new Map();       // id -> element as the server last sent it
    this.nodes = new Map();     // id -> { g, sig, key }
    this.order = [];            // [z, id] of drawn elements, bottom first
    this.epoch = null;
    this.version = -1;
    this.resyncAsked = 0;
    this.tool = "pen";
    this.color = COLORS[0];
    this.width = WIDTHS[1];
    this.selected = null;
    this.drag = null;
    this.readOnly = false;
    this.height = 560;
    this.notes = new Map();     // id -> { base, timer } for notes being typed in
    this.setTrigger = () => {};
    this.build();
  }

  // ------------------------------------------------------------------ DOM
  build() {
    const root = this.root;
    root.innerHTML = "";
    root.tabIndex = 0;
    const bar = (this.bar = h("div", { class: "wb-bar" }));
    this.toolButtons = {};
    const tools = h("div", { class: "wb-group wb-edit" });
    for (const [name, icon, title] of TOOLS) {
      const b = h("button", { type: "button", title, "data-tool": name, "aria-label": title }, icon);
      b.addEventListener("click", () => this.setTool(name));
      this.toolButtons[name] = b;
      tools.append(b);
    }
    const colors = h("div", { class: "wb-group wb-edit" });
    this.colorButtons = [];
    for (const c of COLORS) {
      const b = h("button", { type: "button", class: "wb-swatch", title: `Colour ${c}`, "data-color": c });
      b.style.background = c;
      b.addEventListener("click", () => this.setColor(c));
      this.colorButtons.push(b);
      colors.append(b);
    }
    const widths = h("div", { class: "wb-group wb-edit" });
    this.widthButtons = [];
    for (const w of WIDTHS) {
      const b = h("button", { type: "button", title: `Width ${w}`, "data-width": w });
      b.append(h("span", { class: "wb-dot" }));
      b.firstChild.style.width = b.firstChild.style.height = `${w + 2}px`;
      b.addEventListener("click", () => { this.width = w; this.paintBar(); });
      this.widthButtons.push(b);
      widths.append(b);
    }
    const actions = h("div", { class: "wb-group" });
    const act = (label, title, fn, edit = true) => {
      const b = h("button", { type: "button", title, "aria-label": title, class: edit ? "wb-edit" : "" }, label);
      b.addEventListener("click", fn);
      actions.append(b);
      return b;
    };
    this.undoButton = act("↶", "Undo my last change (Ctrl+Z)", () => this.send({ op: "undo" }));
    this.redoButton = act("↷", "Redo (Ctrl+Shift+Z)", () => this.send({ op: "redo" }));
    this.deleteButton = act("Delete", "Delete the selected element (Del)", () => this.deleteSelected());
    act("Clear mine", "Remove my strokes and shapes", () => this.send({ op: "clear" }));
    act("PNG", "Download the board as PNG", () => this.exportPng(), false);
    act("SVG", "Download the board as SVG", () => this.exportSvg(), false);
    this.people = h("div", { class: "wb-people" });
    bar.append(tools, colors, widths, actions, this.people);

    const svg = (this.svg = el("svg", { class: "wb-svg", viewBox: `0 0 ${WIDTH} ${this.height}` }));
    const defs = el("defs");
    const grid = el("pattern", { id: "wb-grid", width: 25, height: 25, patternUnits: "userSpaceOnUse" });
    grid.append(el("path", { d: "M25 0H0V25", fill: "none", stroke: "#eef0f3", "stroke-width": 1 }));
    defs.append(grid);
    this.bg = el("rect", { class: "wb-bg", x: 0, y: 0, width: WIDTH, height: this.height, fill: "url(#wb-grid)" });
    this.layer = el("g", { class: "wb-layer" });
    svg.append(defs, this.bg, this.layer);
    // Previews and the selection live in a second, transparent SVG on top (its own
    // compositing layer), so drawing never repaints the board's elements under it.
    const top = (this.top = el("svg", { class: "wb-top", viewBox: `0 0 ${WIDTH} ${this.height}` }));
    this.overlay = el("g", { class: "wb-overlay" });
    this.cursorLayer = el("g", { class: "wb-cursors" });
    top.append(this.overlay, this.cursorLayer);
    const stage = h("div", { class: "wb-stage" });
    stage.append(svg, top);
    this.status = h("div", { class: "wb-status" });
    root.append(bar, stage, this.status);

    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
    svg.addEventListener("pointercancel", (e) => this.up(e, true));
    svg.addEventListener("pointerleave", () => this.live && this.live.moved(null));
    root.addEventListener("keydown", (e) => this.key(e));
    this.paintBar();
  }

  paintBar() {
    for (const [name, b] of Object.entries(this.toolButtons)) b.classList.toggle("on", name === this.tool);
    for (const b of this.colorButtons) b.classList.toggle("on", b.dataset.color === this.color);
    for (const b of this.widthButtons) b.classList.toggle("on", Number(b.dataset.width) === this.width);
    this.root.dataset.tool = this.tool;
    this.deleteButton.disabled = !this.selected;
  }

  setTool(name) {
    this.tool = name;
    if (name !== "select") this.select(null);
    this.paintBar();
  }

  setColor(c) {
    this.color = c;
    const v = this.selected && this.view(this.selected);
    if (v && !this.readOnly) {
      this.send({ op: "color", id: v.id, color: v.type === "note" ? NOTE_COLORS[c] || c : c });
    }
    this.paintBar();
  }

  // ------------------------------------------------------------------ data from Python
  receive(d) {
    this.setReadOnly(!!d.readOnly);
    if (d.live) {
      if (!this.live) this.live = new LiveCursors(this.cursorLayer, this.root);
      this.live.connect(d.live, d.board);
    }
    if (d.height && d.height !== this.height) {
      this.height = d.height;
      this.svg.setAttribute("viewBox", `0 0 ${WIDTH} ${this.height}`);
      this.top.setAttribute("viewBox", `0 0 ${WIDTH} ${this.height}`);
      this.bg.setAttribute("height", this.height);
    }
    this.renderPeople(d.people || []);
    this.undoButton.disabled = !d.canUndo && !this.pending.length;
    this.redoButton.disabled = !d.canRedo;
    let applied = false;
    if (d.full) {
      this.srv = new Map(d.els.map((e) => [e.id, e]));
      this.epoch = d.epoch;
      this.version = d.to;
      this.resyncAsked = 0;
      applied = true;
    } else if (d.epoch === this.epoch && d.from <= this.version) {
      if (d.to > this.version) {
        for (const e of d.els) this.srv.set(e.id, e);
        for (const id of d.del) this.srv.delete(id);
        this.version = d.to;
      }
      applied = true;
    } else {
      this.askResync();
    }
    if (applied) {
      const ack = d.acks ? d.acks[this.client] : undefined;
      if (ack !== undefined) this.pending = this.pending.filter((op) => op.seq > ack);
      if (d.full) this.renderAll();
      else this.renderIds(new Set([...d.els.map((e) => e.id), ...d.del, ...this.pendingIds()]));
    }
    this.flagState();
  }

  askResync() {
    const now = Date.now();
    if (now - this.resyncAsked < 1500) return;
    this.resyncAsked = now;
    this.setTrigger("ops", { client: this.client, ops: this.pending, resync: true });
  }

  setReadOnly(ro) {
    if (ro === this.readOnly && this.root.dataset.readonly !== undefined) return;
    this.readOnly = ro;
    this.root.dataset.readonly = ro ? "true" : "false";
    if (ro) { this.tool = "view"; this.select(null); }
    else if (this.tool === "view") this.tool = "pen";
    for (const n of this.nodes.values()) {
      const ta = n.g.querySelector("textarea");
      if (ta) ta.readOnly = ro;
    }
    this.paintBar();
  }

  renderPeople(people) {
    this.people.replaceChildren(
      ...people.map((p) => {
        const chip = h("span", { class: "wb-person", title: p.label }, p.you ? `${p.label} (you)` : p.label);
        chip.style.setProperty("--c", p.color);
        return chip;
      }),
    );
    this.root.dataset.people = String(people.length);
  }

  flagState() {
    const ds = this.root.dataset;
    ds.count = String(this.nodes.size);
    ds.version = String(this.version);
    ds.pending = String(this.pending.length);
    ds.synced = this.pending.length === 0 && !this.resyncAsked ? "true" : "false";
    const mine = [...this.nodes.keys()].filter((id) => (this.view(id) || {}).mine).length;
    this.status.textContent = this.readOnly
      ? `View only · ${this.nodes.size} elements`
      : `${this.nodes.size} elements · ${mine} mine${this.pending.length ? " · saving…" : ""}`;
  }

  // ------------------------------------------------------------------ local operations
  send(op) {
    if (this.readOnly) return;
    op.seq = ++this.seq;
    if (op.op === "add") op.z = this.topZ() + 1;  // drawn on top until the server says where
    this.pending.push(op);
    this.flush();
    this.renderIds(new Set(this.opIds(op)));
    this.flagState();
  }

  flush() {
    if (!this.pending.length) return;
    this.setTrigger("ops", { client: this.client, ops: this.pending });
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => this.flush(), RESEND_MS);
  }

  opIds(op) {
    if (op.op === "add") return [op.el.id];
    if (op.id) return [op.id];
    if (op.op === "clear") return [...this.srv.keys()];
    return [];
  }

  pendingIds() {
    return this.pending.flatMap((op) => this.opIds(op));
  }

  view(id) {
    // The element as this page shows it: the server's, with unacknowledged ops on top.
    let e = this.srv.get(id);
    for (const op of this.pending) {
      if (op.op === "add" && op.el.id === id) e = e || { ...op.el, mine: true, z: op.z };
      else if (!e) continue;
      else if (op.id !== id && op.op !== "clear") continue;
      else if (op.op === "move") e = { ...e, pos: op.pos };
      else if (op.op === "delete") e = null;
      else if (op.op === "text") e = { ...e, text: op.text };
      else if (op.op === "color") e = { ...e, color: op.color };
      else if (op.op === "clear" && e.mine && e.type !== "note") e = null;
    }
    return e || null;
  }

  topZ() {
    return this.order.length ? this.order[this.order.length - 1][0] : 0;
  }

  // ------------------------------------------------------------------ drawing
  renderAll() {
    this.layer.replaceChildren();
    this.nodes.clear();
    this.order = [];
    const ids = new Set([...this.srv.keys(), ...this.pendingIds()]);
    const views = [...ids].map((id) => this.view(id)).filter(Boolean);
    views.sort((a, b) => (before(stackKey(a), stackKey(b)) ? -1 : 1));
    const frag = document.createDocumentFragment();
    for (const v of views) {
      const g = this.draw(v);
      frag.append(g);
      this.nodes.set(v.id, { g, sig: this.sig(v), key: stackKey(v) });
      this.order.push(stackKey(v));
    }
    this.layer.append(frag);
    this.refreshSelection();
  }

  renderIds(ids) {
    for (const id of ids) this.renderOne(id);
    this.refreshSelection();
  }

  sig(v) {
    return JSON.stringify([v.type, v.pos, v.pts, v.size, v.color, v.width, v.mine]);
  }

  renderOne(id) {
    const v = this.view(id);
    const node = this.nodes.get(id);
    if (!v) {
      if (node) this.unplace(id, node);
      if (this.selected === id) this.select(null);
      return;
    }
    const key = stackKey(v);
    const sig = this.sig(v);
    if (!node) {
      this.place(id, this.draw(v), key, sig);
      return;
    }
    if (node.sig !== sig) {
      // A note keeps its textarea (and the caret of whoever is typing in it).
      if (v.type === "note" && node.g.dataset.type === "note") this.updateNote(node.g, v);
      else {
        const g = this.draw(v);
        node.g.replaceWith(g);
        node.g = g;
      }
      node.sig = sig;
    } else if (v.type === "note") {
      this.updateNoteText(node.g, v);
    }
    if (node.key[0] !== key[0] || node.key[1] !== key[1]) {
      this.unplace(id, node, false);
      this.place(id, node.g, key, sig);
    }
  }

  place(id, g, key, sig) {
    let lo = 0, hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.order[mid], key)) lo = mid + 1; else hi = mid;
    }
    this.order.splice(lo, 0, key);
    const next = this.order[lo + 1];
    const nextNode = next ? this.nodes.get(next[1]) : null;
    this.layer.insertBefore(g, nextNode ? nextNode.g : null);
    this.nodes.set(id, { g, sig, key });
  }

  unplace(id, node, remove = true) {
    const i = this.order.findIndex((k) => k[1] === id);
    if (i >= 0) this.order.splice(i, 1);
    if (remove) { node.g.remove(); this.nodes.delete(id); }
  }

  draw(v) {
    const [x, y] = v.pos;
    const g = el("g", { "data-id": v.id, "data-type": v.type, transform: `translate(${x} ${y})` });
    g.dataset.x = x;
    g.dataset.y = y;
    if (v.mine) g.dataset.mine = "true";
    const w = v.width || 3;
    if (v.type === "pen") {
      const d = pathData(v.pts.length === 2 ? [...v.pts, v.pts[0] + 0.1, v.pts[1]] : v.pts);
      g.append(el("path", { class: "wb-hit", d, "stroke-width": Math.max(14, w + 8) }));
      g.append(el("path", { d, stroke: v.color, "stroke-width": w, fill: "none", "stroke-linecap": "round", "stroke-linejoin": "round" }));
    } else if (v.type === "rect") {
      const [sw, sh] = v.size;
      g.append(el("rect", { class: "wb-hit", x: 0, y: 0, width: sw, height: sh, "stroke-width": Math.max(14, w + 8) }));
      g.append(el("rect", { x: 0, y: 0, width: sw, height: sh, rx: 4, stroke: v.color, "stroke-width": w, fill: "none" }));
    } else if (v.type === "ellipse") {
      const [sw, sh] = v.size;
      const a = { cx: sw / 2, cy: sh / 2, rx: sw / 2, ry: sh / 2 };
      g.append(el("ellipse", { class: "wb-hit", ...a, "stroke-width": Math.max(14, w + 8) }));
      g.append(el("ellipse", { ...a, stroke: v.color, "stroke-width": w, fill: "none" }));
    } else if (v.type === "arrow") {
      const [x1, y1, x2, y2] = v.pts;
      g.append(el("line", { class: "wb-hit", x1, y1, x2, y2, "stroke-width": Math.max(14, w + 8) }));
      g.append(el("line", { x1, y1, x2, y2, stroke: v.color, "stroke-width": w, "stroke-linecap": "round" }));
      g.append(el("polygon", { points: arrowHead(x1, y1, x2, y2, w), fill: v.color }));
    } else if (v.type === "note") {
      this.drawNote(g, v);
    }
    return g;
  }

  drawNote(g, v) {
    const [sw, sh] = v.size;
    g.append(el("rect", { class: "wb-note-bg", x: 0, y: 0, width: sw, height: sh, rx: 6, fill: v.color }));
    const fo = el("foreignObject", { x: 0, y: 0, width: sw, height: sh });
    const box = document.createElementNS(XHTML, "div");
    box.setAttribute("class", "wb-note");
    const grip = document.createElementNS(XHTML, "div");
    grip.setAttribute("class", "wb-grip");
    grip.setAttribute("title", "Drag to move");
    const ta = document.createElementNS(XHTML, "textarea");
    ta.setAttribute("placeholder", "Type here…");
    ta.setAttribute("aria-label", "Sticky note");
    ta.readOnly = this.readOnly;
    ta.value = v.text || "";
    ta.addEventListener("input", () => this.typed(v.id, ta));
    ta.addEventListener("blur", () => this.sendText(v.id, ta));
    ta.addEventListener("pointerdown", (e) => e.stopPropagation());
    box.append(grip, ta);
    fo.append(box);
    g.append(fo);
    if (!this.notes.has(v.id)) this.notes.set(v.id, { base: v.text || "", timer: null, dirty: false });
  }

  updateNote(g, v) {
    const [x, y] = v.pos;
    g.setAttribute("transform", `translate(${x} ${y})`);
    g.dataset.x = x;
    g.dataset.y = y;
    const [sw, sh] = v.size;
    const bg = g.querySelector(".wb-note-bg");
    bg.setAttribute("width", sw);
    bg.setAttribute("height", sh);
    bg.setAttribute("fill", v.color);
    const fo = g.querySelector("foreignObject");
    fo.setAttribute("width", sw);
    fo.setAttribute("height", sh);
    this.updateNoteText(g, v);
  }

  updateNoteText(g, v) {
    const ta = g.querySelector("textarea");
    const note = this.notes.get(v.id) || { base: "", timer: null, dirty: false };
    this.notes.set(v.id, note);
    const text = v.text || "";
    const waiting = this.pending.some((op) => op.op === "text" && op.id === v.id);
    if (note.dirty || waiting || ta.value === text) {
      if (!note.dirty && !waiting) note.base = text;
      return;
    }
    // Show the merged text, keeping the caret where it was relative to the words.
    const old = ta.value;
    const focused = this.root.getRootNode().activeElement === ta;
    const start = ta.selectionStart, end = ta.selectionEnd;
    ta.value = text;
    note.base = text;
    if (focused) {
      let p = 0;
      while (p < old.length && p < text.length && old[p] === text[p]) p++;
      const shift = text.length - old.length;
      const fix = (c) => (c <= p ? c : Math.max(p, c + shift));
      ta.setSelectionRange(fix(start), fix(end));
    }
  }

  typed(id, ta) {
    const note = this.notes.get(id);
    if (!note || this.readOnly) return;
    note.dirty = true;
    clearTimeout(note.timer);
    note.timer = setTimeout(() => this.sendText(id, ta), TEXT_DEBOUNCE_MS);
    this.root.dataset.typing = "true";
  }

  sendText(id, ta) {
    const note = this.notes.get(id);
    if (!note || !note.dirty) return;
    clearTimeout(note.timer);
    note.dirty = false;
    const text = ta.value;
    const base = note.base;
    note.base = text;
    delete this.root.dataset.typing;
    if (text !== base) this.send({ op: "text", id, base, text });
  }

  // ------------------------------------------------------------------ selection
  select(id) {
    this.selected = id;
    this.refreshSelection();
    if (this.deleteButton) this.deleteButton.disabled = !id;
  }

  refreshSelection() {
    if (this.selBox) { this.selBox.remove(); this.selBox = null; }
    const node = this.selected && this.nodes.get(this.selected);
    if (!node) { if (this.selected) this.selected = null; return; }
    const b = node.g.getBBox();
    const v = this.view(this.selected);
    this.selBox = el("rect", {
      class: "wb-selection", x: v.pos[0] + b.x - 6, y: v.pos[1] + b.y - 6, width: b.width + 12, height: b.height + 12,
    });
    this.overlay.append(this.selBox);
  }

  deleteSelected() {
    if (!this.selected) return;
    const id = this.selected;
    this.select(null);
    this.send({ op: "delete", id });
  }

  // ------------------------------------------------------------------ pointer
  point(e) {
    const m = this.svg.getScreenCTM();
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return [r1(p.x), r1(p.y)];
  }

  down(e) {
    if (e.button !== 0) return;
    this.root.focus({ preventScroll: true });
    const [x, y] = this.point(e);
    const target = e.target.closest ? e.target.closest("g[data-id]") : null;
    const onGrip = e.target.classList && e.target.classList.contains("wb-grip");
    if (this.readOnly) return;
    if (target && (this.tool === "select" || onGrip)) {
      const id = target.dataset.id;
      this.select(id);
      const v = this.view(id);
      this.drag = { kind: "move", id, start: [x, y], pos: v.pos, g: target, moved: false };
    } else if (this.tool === "select") {
      this.select(null);
      return;
    } else if (this.tool === "note") {
      const id = newId();
      this.send({ op: "add", el: { id, type: "note", pos: [x, y], size: [200, 140], color: NOTE_COLORS[this.color] || "#fef08a", width: 1, text: "" } });
      this.setTool("select");
      this.select(id);
      const node = this.nodes.get(id);
      if (node) setTimeout(() => node.g.querySelector("textarea").focus(), 0);
      return;
    } else {
      this.drag = { kind: this.tool, start: [x, y], pts: [x, y], preview: null };
    }
    this.svg.setPointerCapture(e.pointerId);
    e.preventDefault();
  }

  move(e) {
    if (this.live) this.live.moved(this.point(e));
    const d = this.drag;
    if (!d) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    const [x, y] = this.point(events.length ? events[events.length - 1] : e);
    if (d.kind === "move") {
      const dx = x - d.start[0], dy = y - d.start[1];
      if (Math.abs(dx) + Math.abs(dy) > 0) d.moved = true;
      const nx = r1(d.pos[0] + dx), ny = r1(d.pos[1] + dy);
      d.g.setAttribute("transform", `translate(${nx} ${ny})`);
      d.to = [nx, ny];
      if (this.selBox) this.selBox.setAttribute("transform", `translate(${dx} ${dy})`);
      return;
    }
    if (d.kind === "pen") {
      for (const ev of events.length ? events : [e]) {
        const [px, py] = this.point(ev);
        const n = d.pts.length;
        if (Math.hypot(px - d.pts[n - 2], py - d.pts[n - 1]) >= 1.5) d.pts.push(px, py);
      }
    } else {
      d.pts = [d.start[0], d.start[1], x, y];
    }
    this.preview(d);
  }

  preview(d) {
    if (d.preview) d.preview.remove();
    const v = this.shapeOf(d, "preview");
    d.preview = v ? this.draw(v) : null;
    if (d.preview) { d.preview.classList.add("wb-preview"); this.overlay.append(d.preview); }
  }

  shapeOf(d, id) {
    const [x0, y0] = d.start;
    const base = { id, color: this.color, width: this.width };
    if (d.kind === "pen") {
      const pts = [];
      for (let i = 0; i < d.pts.length; i += 2) pts.push(r1(d.pts[i] - x0), r1(d.pts[i + 1] - y0));
      return { ...base, type: "pen", pos: [x0, y0], pts };
    }
    const [, , x1, y1] = d.pts.length >= 4 ? d.pts : [x0, y0, x0, y0];
    if (d.kind === "arrow") {
      if (Math.hypot(x1 - x0, y1 - y0) < 4) return null;
      return { ...base, type: "arrow", pos: [x0, y0], pts: [0, 0, r1(x1 - x0), r1(y1 - y0)] };
    }
    const w = Math.abs(x1 - x0), hh = Math.abs(y1 - y0);
    if (w < 3 && hh < 3) return null;
    return { ...base, type: d.kind, pos: [Math.min(x0, x1), Math.min(y0, y1)], size: [r1(w), r1(hh)] };
  }

  up(e, cancelled = false) {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    if (d.preview) d.preview.remove();
    if (cancelled) { this.renderIds(new Set(d.id ? [d.id] : [])); return; }
    if (d.kind === "move") {
      if (this.selBox) this.selBox.removeAttribute("transform");
      if (d.moved && d.to) this.send({ op: "move", id: d.id, pos: d.to });
      else this.refreshSelection();
      return;
    }
    const v = this.shapeOf(d, newId());
    if (!v) return;
    delete v.mine;
    this.send({ op: "add", el: v });
  }

  key(e) {
    const inText = e.target && e.target.tagName === "TEXTAREA";
    const mod = e.ctrlKey || e.metaKey;
    if (inText) return;
    if (mod && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      this.send({ op: e.shiftKey ? "redo" : "undo" });
    } else if (mod && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      this.send({ op: "redo" });
    } else if ((e.key === "Delete" || e.key === "Backspace") && this.selected) {
      e.preventDefault();
      this.deleteSelected();
    } else if (e.key === "Escape") {
      this.select(null);
    } else if (!mod && !this.readOnly && KEYS[e.key]) {
      this.setTool(KEYS[e.key]);
    }
  }

  // ------------------------------------------------------------------ export
  sortedViews() {
    const ids = new Set([...this.srv.keys(), ...this.pendingIds()]);
    return [...ids].map((id) => this.view(id)).filter(Boolean).sort((a, b) => (before(stackKey(a), stackKey(b)) ? -1 : 1));
  }

  toSvg() {
    const parts = [
      `<svg xmlns="${SVG}" width="${WIDTH}" height="${this.height}" viewBox="0 0 ${WIDTH} ${this.height}">`,
      `<rect width="${WIDTH}" height="${this.height}" fill="#ffffff"/>`,
    ];
    for (const v of this.sortedViews()) {
      const [x, y] = v.pos, w = v.width || 3, c = esc(v.color);
      const t = `transform="translate(${x} ${y})"`;
      if (v.type === "pen") {
        const pts = v.pts.length === 2 ? [...v.pts, v.pts[0] + 0.1, v.pts[1]] : v.pts;
        parts.push(`<path ${t} d="${pathData(pts)}" stroke="${c}" stroke-width="${w}" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`);
      } else if (v.type === "rect") {
        parts.push(`<rect ${t} width="${v.size[0]}" height="${v.size[1]}" rx="4" stroke="${c}" stroke-width="${w}" fill="none"/>`);
      } else if (v.type === "ellipse") {
        const [sw, sh] = v.size;
        parts.push(`<ellipse ${t} cx="${sw / 2}" cy="${sh / 2}" rx="${sw / 2}" ry="${sh / 2}" stroke="${c}" stroke-width="${w}" fill="none"/>`);
      } else if (v.type === "arrow") {
        const [x1, y1, x2, y2] = v.pts;
        parts.push(`<g ${t}><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${c}" stroke-width="${w}" stroke-linecap="round"/><polygon points="${arrowHead(x1, y1, x2, y2, w)}" fill="${c}"/></g>`);
      } else if (v.type === "note") {
        const [sw, sh] = v.size;
        const lines = wrap(v.text || "", Math.max(8, Math.floor((sw - 16) / 7.5)));
        const tspans = lines.map((l, i) => `<tspan x="10" y="${38 + i * 18}">${esc(l)}</tspan>`).join("");
        parts.push(`<g ${t}><rect width="${sw}" height="${sh}" rx="6" fill="${c}" stroke="#00000022"/><text font-family="sans-serif" font-size="14" fill="#1f2937">${tspans}</text></g>`);
      }
    }
    parts.push("</svg>");
    return parts.join("\n");
  }

  download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  exportSvg() {
    this.download(new Blob([this.toSvg()], { type: "image/svg+xml" }), `${this.name || "whiteboard"}.svg`);
  }

  exportPng() {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([this.toSvg()], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = WIDTH * 2;
      canvas.height = this.height * 2;
      const g = canvas.getContext("2d");
      g.scale(2, 2);
      g.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => blob && this.download(blob, `${this.name || "whiteboard"}.png`), "image/png");
    };
    img.src = url;
  }

  destroy() {
    clearTimeout(this.resendTimer);
    if (this.live) this.live.close();
    for (const note of this.notes.values()) clearTimeout(note.timer);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".crdt-wb");
  if (!root) return undefined;
  let board = boards.get(root);
  if (!board) {
    board = new Board(root);
    boards.set(root, board);
  }
  board.setTrigger = setTriggerValue;
  if (data) {
    board.name = data.board;
    board.receive(data);
  }
  return () => {
    board.destroy();
    boards.delete(root);
  };
}

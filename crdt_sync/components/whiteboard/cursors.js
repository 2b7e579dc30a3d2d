// crdt_sync whiteboard: other people's cursors, live.
//
// Where the app is served by crdt_sync.App, the room's websocket route speaks the Yjs
// protocols. A board opens it in awareness-only mode (`?awareness=1`: no document sync)
// and announces its pointer as a standard y-protocols awareness state:
//   {user: {name, color}, streamlit: true, board: <board key>, cursor: {x, y} | null}
// in board units. Pointer moves never touch Streamlit (no rerun); any Yjs client that sets
// the same fields in its awareness shows up on the board too.

const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;
const SEND_EVERY_MS = 40;       // at most 25 cursor updates a second
const RENEW_EVERY_MS = 15000;   // Yjs peers drop states not renewed for 30 s
const OUTDATED_MS = 30000;
const RETRY_MIN_MS = 500, RETRY_MAX_MS = 10000;
const SVG_NS = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------- lib0 encoding
// Numbers are unsigned varints, 7 bits a byte, least significant first; strings and byte
// arrays are length-prefixed. Arithmetic, not bit operations: ids can exceed 32 bits.

function writeVarUint(out, n) {
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function writeVarBytes(out, bytes) {
  writeVarUint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

class Reader {
  constructor(bytes) { this.bytes = bytes; this.pos = 0; }
  varUint() {
    let n = 0, mult = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new Error("truncated varint");
      const b = this.bytes[this.pos++];
      n += (b & 127) * mult;
      if (b < 128) return n;
      mult *= 128;
    }
  }
  varBytes() {
    const len = this.varUint();
    if (this.pos + len > this.bytes.length) throw new Error("truncated bytes");
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  varString() { return new TextDecoder().decode(this.varBytes()); }
}

/** An awareness message: [(clientId, clock, state or null), ...]. */
export function encodeAwareness(entries) {
  const update = [];
  writeVarUint(update, entries.length);
  for (const [client, clock, state] of entries) {
    writeVarUint(update, client);
    writeVarUint(update, clock);
    writeVarBytes(update, new TextEncoder().encode(JSON.stringify(state)));
  }
  const out = [];
  writeVarUint(out, MESSAGE_AWARENESS);
  writeVarBytes(out, update);
  return new Uint8Array(out);
}

/** The entries of an awareness message, or null for any other message. */
export function decodeAwareness(bytes) {
  const reader = new Reader(bytes);
  if (reader.varUint() !== MESSAGE_AWARENESS) return null;
  const update = new Reader(reader.varBytes());
  const entries = [];
  for (let n = update.varUint(); n > 0; n--) {
    const client = update.varUint(), clock = update.varUint();
    entries.push([client, clock, JSON.parse(update.varString())]);
  }
  return entries;
}

// ---------------------------------------------------------------- the cursors
export class LiveCursors {
  /**
   * @param layer SVG group (in board units) the cursors are drawn in
   * @param root the board's root element (data-cursors: how many are shown)
   */
  constructor(layer, root) {
    this.layer = layer;
    this.root = root;
    this.client = crypto.getRandomValues(new Uint32Array(1))[0];
    this.clock = 0;
    this.state = null;
    this.peers = new Map();     // client id -> { clock, state, seen, g }
    this.socket = null;
    this.url = null;
    this.retry = RETRY_MIN_MS;
    this.sendTimer = null;
    this.lastSent = 0;
    this.closed = false;
    this.renewTimer = setInterval(() => this.renew(), RENEW_EVERY_MS);
  }

  /** Connect (again) if the route or who we are changed. */
  connect(live, board) {
    const url = new URL(live.url, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    this.board = board;
    const cursor = this.state ? this.state.cursor : null;
    this.state = { user: { name: live.name, color: live.color }, streamlit: true, board, cursor };
    if (this.url === url.href && this.socket) return;
    this.url = url.href;
    this.open();
  }

  open() {
    if (this.closed) return;
    if (this.socket) this.socket.close();
    const socket = (this.socket = new WebSocket(this.url));
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.retry = RETRY_MIN_MS;
      socket.send(new Uint8Array([MESSAGE_QUERY_AWARENESS]));
      this.sendNow();
    };
    socket.onmessage = (event) => this.received(new Uint8Array(event.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const client of [...this.peers.keys()]) this.drop(client);
      if (!this.closed) {
        setTimeout(() => this.open(), this.retry);
        this.retry = Math.min(this.retry * 2, RETRY_MAX_MS);
      }
    };
  }

  /** The pointer moved to (x, y) in board units; null: it left the board. */
  moved(point) {
    if (!this.state) return;
    this.state.cursor = point ? { x: point[0], y: point[1] } : null;
    const wait = SEND_EVERY_MS - (Date.now() - this.lastSent);
    if (!point || wait <= 0) this.sendNow();
    else if (!this.sendTimer) this.sendTimer = setTimeout(() => this.sendNow(), wait);
  }

  sendNow() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    if (!this.state || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    this.lastSent = Date.now();
    this.socket.send(encodeAwareness([[this.client, ++this.clock, this.state]]));
  }

  renew() {
    this.sendNow();
    const now = Date.now();
    for (const [client, peer] of this.peers) {
      if (now - peer.seen > OUTDATED_MS) this.drop(client);
    }
  }

  received(bytes) {
    let entries;
    try {
      entries = decodeAwareness(bytes);
    } catch (err) {
      console.warn("crdt_sync whiteboard: bad awareness message", err);
      return;
    }
    if (!entries) return;
    for (const [client, clock, state] of entries) {
      if (client === this.client) continue;
      const peer = this.peers.get(client);
      if (peer && clock < peer.clock) continue;  // an older state than the one shown
      if (state === null) this.drop(client);
      else this.show(client, clock, state);
    }
    this.root.dataset.cursors = String(this.layer.childElementCount);
  }

  show(client, clock, state) {
    let peer = this.peers.get(client);
    if (!peer) this.peers.set(client, (peer = { g: null }));
    Object.assign(peer, { clock, state, seen: Date.now() });
    const c = state.cursor;
    const here = c && state.board === this.board && Number.isFinite(c.x) && Number.isFinite(c.y);
    if (!here) {
      if (peer.g) { peer.g.remove(); peer.g = null; }
      return;
    }
    const user = state.user && typeof state.user === "object" ? state.user : {};
    const name = String(user.name || state.name || "someone").slice(0, 40);
    const color = /^#[0-9a-fA-F]{3,8}$/.test(String(user.color)) ? user.color : "#6b7280";
    if (!peer.g) {
      peer.g = document.createElementNS(SVG_NS, "g");
      peer.g.setAttribute("class", "wb-cursor");
      const arrow = document.createElementNS(SVG_NS, "path");
      arrow.setAttribute("d", "M0 0L0 17L4.5 12.8L7.6 19.6L10.4 18.4L7.4 11.7L13 11.4Z");
      arrow.setAttribute("stroke", "#ffffff");
      arrow.setAttribute("stroke-width", "1.2");
      const tag = document.createElementNS(SVG_NS, "rect");
      tag.setAttribute("x", "12");
      tag.setAttribute("y", "18");
      tag.setAttribute("rx", "4");
      tag.setAttribute("height", "18");
      const label = document.createElementNS(SVG_NS, "text");
      label.setAttribute("x", "17");
      label.setAttribute("y", "31");
      peer.g.append(arrow, tag, label);
      this.layer.append(peer.g);
    }
    const [arrow, tag, label] = peer.g.children;
    if (peer.g.dataset.name !== name) {
      label.textContent = name;
      tag.setAttribute("width", String(10 + name.length * 7));
      peer.g.dataset.name = name;
    }
    arrow.setAttribute("fill", color);
    tag.setAttribute("fill", color);
    peer.g.dataset.x = String(c.x);
    peer.g.dataset.y = String(c.y);
    // Board units are scaled to the board's width; a cursor keeps its size on screen.
    const shown = this.layer.ownerSVGElement ? this.layer.ownerSVGElement.clientWidth : 0;
    const scale = shown > 0 ? Math.min(3, 1000 / shown) : 1;
    peer.g.style.transform = `translate(${c.x}px, ${c.y}px) scale(${scale.toFixed(3)})`;
  }

  drop(client) {
    const peer = this.peers.get(client);
    if (peer && peer.g) peer.g.remove();
    this.peers.delete(client);
    this.root.dataset.cursors = String(this.layer.childElementCount);
  }

  /** Leave: others drop our cursor at once (the server also does when we disconnect). */
  close() {
    this.closed = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.sendTimer);
    if (this.socket) {
      if (this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(encodeAwareness([[this.client, ++this.clock, null]]));
      }
      this.socket.close();
      this.socket = null;
    }
  }
}

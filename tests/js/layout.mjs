// The crdt_sync document layout, read and written from JavaScript with plain Yjs.
//
// Shared by ydoc_tool.mjs and ws_client.mjs. Roots of a room's Y.Doc:
//   Y.Map   "kinds"          key -> "register" | "text" | "counter" | "list" | "set" | "table"
//   Y.Map   "registers"      key -> encoded value
//   Y.Text  "text:<key>"     a collaborative text
//   Y.Map   "counter:<key>"  String(clientID) -> that replica's running total; value = sum
//   Y.Array "list:<key>"     encoded values
//   Y.Map   "set:<key>"      canonical JSON of the encoded element -> encoded element
//   Y.Map   "table:<key>"    "c\u001f<row>\u001f<col>" -> encoded cell value,
//                            "r\u001f<row>" -> row position (number),
//                            "d\u001f<row>" -> true (deleted row tombstone)
// Encoded values are JSON-shaped (see the Python codec); this module never decodes them.

import * as Y from 'yjs'

export const KINDS = ['register', 'text', 'counter', 'list', 'set', 'table']
export const SEP = '\u001f'

/** Compare two strings by Unicode code point, as Python's `sorted()` does (JS `<` compares UTF-16 units). */
export function compareCodePoints (a, b) {
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1)
    const cx = x.value.codePointAt(0)
    const cy = y.value.codePointAt(0)
    if (cx !== cy) return cx < cy ? -1 : 1
  }
}

/** Python's `repr(float)` of a JS number: "1.0", "0.1", "1e-05", "1e+16", "nan", "inf", "-0.0". */
export function pyFloatRepr (x) {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  // toExponential() without an argument gives the shortest round-tripping digits, like Python's repr.
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential())
  const [, sign, first, rest = '', expText] = m
  const digits = first + rest
  const exp = Number(expText)
  if (exp >= -4 && exp < 16) {
    let intPart, fracPart
    if (exp < 0) {
      intPart = '0'
      fracPart = '0'.repeat(-exp - 1) + digits
    } else {
      const padded = digits.padEnd(exp + 1, '0')
      intPart = padded.slice(0, exp + 1)
      fracPart = padded.slice(exp + 1)
    }
    return `${sign}${intPart}.${fracPart || '0'}`
  }
  const mantissa = rest ? `${first}.${rest}` : first
  const expSign = exp < 0 ? '-' : '+'
  return `${sign}${mantissa}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`
}

/**
 * Canonical JSON of an encoded value, byte-identical to Python's
 * `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`:
 * integral numbers print as ints, other numbers as Python float reprs, keys sorted by code point.
 */
export function canonicalJson (v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`canonicalJson: ${v} is not JSON (the codec tags it as a float)`)
    return Number.isInteger(v) && !Object.is(v, -0) ? BigInt(v).toString() : pyFloatRepr(v)
  }
  if (typeof v === 'string') return JSON.stringify(v)
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']'
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareCodePoints)
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k])).join(',') + '}'
  }
  throw new Error(`canonicalJson: unsupported ${typeof v}`)
}

/** Make a value read from Yjs JSON-printable (shared types -> toJSON, BigInt and bytes -> codec tags). */
export function plain (v) {
  if (v instanceof Y.AbstractType) return plain(v.toJSON())
  if (typeof v === 'bigint') {
    return Number.isSafeInteger(Number(v)) ? Number(v) : { $crdt: 'int', v: v.toString() }
  }
  if (v instanceof Uint8Array) return { $crdt: 'bytes', v: Buffer.from(v).toString('base64') }
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  }
  return v
}

const sortedEntries = (ymap) => [...ymap.entries()].sort(([a], [b]) => compareCodePoints(a, b))

function readTable (ymap) {
  const pos = new Map()
  const deleted = new Set()
  const cells = new Map()
  for (const [k, v] of ymap.entries()) {
    const parts = k.split(SEP)
    if (parts[0] === 'r' && parts.length === 2) pos.set(parts[1], v)
    else if (parts[0] === 'd' && parts.length === 2 && v === true) deleted.add(parts[1])
    else if (parts[0] === 'c' && parts.length === 3) {
      if (!cells.has(parts[1])) cells.set(parts[1], {})
      cells.get(parts[1])[parts[2]] = plain(v)
    }
  }
  const rows = [...pos.keys()]
    .filter((r) => !deleted.has(r))
    .sort((a, b) => (pos.get(a) - pos.get(b)) || compareCodePoints(a, b))
  const liveCells = {}
  for (const [row, cols] of [...cells.entries()].sort(([a], [b]) => compareCodePoints(a, b))) {
    if (!deleted.has(row)) liveCells[row] = cols
  }
  return { rows, cells: liveCells, deleted: [...deleted].sort(compareCodePoints) }
}

/**
 * Everything in a room, values left encoded:
 * {kinds, registers, texts: {key: string}, counters: {key: sum}, lists: {key: [...]},
 *  sets: {key: [...] (sorted by canonical JSON)}, tables: {key: {rows, cells, deleted}}}.
 */
export function dumpDoc (doc) {
  const out = { kinds: {}, registers: {}, texts: {}, counters: {}, lists: {}, sets: {}, tables: {} }
  for (const [k, v] of sortedEntries(doc.getMap('registers'))) out.registers[k] = plain(v)
  for (const [key, kind] of sortedEntries(doc.getMap('kinds'))) {
    out.kinds[key] = kind
    switch (kind) {
      case 'text':
        out.texts[key] = doc.getText(`text:${key}`).toString()
        break
      case 'counter': {
        let sum = 0
        for (const v of doc.getMap(`counter:${key}`).values()) sum += Number(v)
        out.counters[key] = sum
        break
      }
      case 'list':
        out.lists[key] = plain(doc.getArray(`list:${key}`).toArray())
        break
      case 'set':
        out.sets[key] = sortedEntries(doc.getMap(`set:${key}`)).map(([, v]) => plain(v))
        break
      case 'table':
        out.tables[key] = readTable(doc.getMap(`table:${key}`))
        break
      default: // "register" (in out.registers) or a kind this tool does not know: kinds shows it.
    }
  }
  return out
}

function ensureKind (doc, key, kind) {
  if (typeof key !== 'string' || key === '') throw new Error(`op needs a non-empty string "key", got ${JSON.stringify(key)}`)
  const kinds = doc.getMap('kinds')
  const holds = kinds.get(key)
  if (holds === undefined) kinds.set(key, kind)
  else if (holds !== kind) throw new Error(`key ${JSON.stringify(key)} holds a ${holds}, not a ${kind}`)
}

function need (op, field, type) {
  const v = op[field]
  const ok = type === 'integer' ? Number.isInteger(v) : type === 'any' ? v !== undefined : typeof v === type
  if (!ok) throw new Error(`op ${JSON.stringify(op.op)} needs "${field}" (${type}), got ${JSON.stringify(v)}`)
  return v
}

/** Index into a Y.Text/Y.Array: integer, or absent/"end" for the end. Text indices are UTF-16 code units. */
function indexOf (op, length) {
  if (op.index === undefined || op.index === 'end') return length
  const i = need(op, 'index', 'integer')
  if (i < 0 || i > length) throw new Error(`op ${JSON.stringify(op.op)}: index ${i} out of range 0..${length}`)
  return i
}

const OPS = {
  set (doc, op) {
    ensureKind(doc, op.key, 'register')
    doc.getMap('registers').set(op.key, need(op, 'value', 'any'))
  },
  text_insert (doc, op) {
    ensureKind(doc, op.key, 'text')
    const text = doc.getText(`text:${op.key}`)
    text.insert(indexOf(op, text.length), need(op, 'text', 'string'))
  },
  text_delete (doc, op) {
    ensureKind(doc, op.key, 'text')
    const text = doc.getText(`text:${op.key}`)
    text.delete(indexOf(op, text.length), need(op, 'length', 'integer'))
  },
  counter_add (doc, op) {
    ensureKind(doc, op.key, 'counter')
    const m = doc.getMap(`counter:${op.key}`)
    const me = String(doc.clientID)
    m.set(me, Number(m.get(me) ?? 0) + need(op, 'n', 'number'))
  },
  list_push (doc, op) {
    ensureKind(doc, op.key, 'list')
    doc.getArray(`list:${op.key}`).push([need(op, 'value', 'any')])
  },
  list_insert (doc, op) {
    ensureKind(doc, op.key, 'list')
    const arr = doc.getArray(`list:${op.key}`)
    arr.insert(indexOf(op, arr.length), [need(op, 'value', 'any')])
  },
  list_delete (doc, op) {
    ensureKind(doc, op.key, 'list')
    const arr = doc.getArray(`list:${op.key}`)
    arr.delete(need(op, 'index', 'integer'), op.length ?? 1)
  },
  set_add (doc, op) {
    ensureKind(doc, op.key, 'set')
    const m = doc.getMap(`set:${op.key}`)
    const value = need(op, 'value', 'any')
    const id = canonicalJson(value)
    // Already there under some key (even one canonicalised differently)? Then nothing to do.
    for (const v of m.values()) if (canonicalJson(plain(v)) === id) return
    m.set(id, value)
  },
  set_remove (doc, op) {
    ensureKind(doc, op.key, 'set')
    const m = doc.getMap(`set:${op.key}`)
    const id = canonicalJson(need(op, 'value', 'any'))
    for (const [k, v] of [...m.entries()]) if (k === id || canonicalJson(plain(v)) === id) m.delete(k)
  },
  table_add_row (doc, op) {
    ensureKind(doc, op.key, 'table')
    addRow(doc.getMap(`table:${op.key}`), need(op, 'row', 'string'), op.pos)
  },
  table_set (doc, op) {
    ensureKind(doc, op.key, 'table')
    const m = doc.getMap(`table:${op.key}`)
    const row = need(op, 'row', 'string')
    if (!m.has(`r${SEP}${row}`)) addRow(m, row, undefined)
    m.set(`c${SEP}${row}${SEP}${need(op, 'col', 'string')}`, need(op, 'value', 'any'))
  },
  table_delete_row (doc, op) {
    ensureKind(doc, op.key, 'table')
    doc.getMap(`table:${op.key}`).set(`d${SEP}${need(op, 'row', 'string')}`, true)
  }
}

function addRow (m, row, pos) {
  if (pos === undefined) {
    let max = -1
    for (const [k, v] of m.entries()) if (k.startsWith(`r${SEP}`) && typeof v === 'number') max = Math.max(max, v)
    pos = max + 1
  }
  if (typeof pos !== 'number') throw new Error(`table row position must be a number, got ${JSON.stringify(pos)}`)
  m.set(`r${SEP}${row}`, pos)
}

export const OP_NAMES = Object.keys(OPS)

/**
 * Apply a list of ops ([{op, key, ...}]) in one transaction. Creating a key writes its kinds entry;
 * using a key as the wrong kind throws. Op names: see OP_NAMES.
 */
export function applyOps (doc, ops, origin = 'js') {
  if (!Array.isArray(ops)) throw new Error('ops must be a JSON array of {"op": ..., "key": ...} objects')
  for (const op of ops) {
    if (op === null || typeof op !== 'object' || !Object.hasOwn(OPS, op.op)) {
      throw new Error(`unknown op ${JSON.stringify(op)}; known: ${OP_NAMES.join(', ')}`)
    }
  }
  doc.transact(() => {
    for (const op of ops) OPS[op.op](doc, op)
  }, origin)
}

/** JSON text of a dump (one line). */
export const dumpJson = (doc) => JSON.stringify(dumpDoc(doc))

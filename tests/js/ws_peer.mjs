#!/usr/bin/env node
// A long-running y-websocket client driven over stdin/stdout, for tests of crdt_sync.App.
//
//   node ws_peer.mjs --url ws://127.0.0.1:PORT/crdt --room ROOM [--param k=v ...]
//
// Each stdin line is a JSON command {"id": N, "cmd": ..., ...}; each answer is one stdout line
// {"id": N, "ok": true, ...} or {"id": N, "ok": false, "error": "..."}. Unprompted events are
// stdout lines {"event": ...}: "status" {status}, "synced", "connection-close" {code, reason},
// "closed" {code, reason} (y-websocket gave up: a 4400-4499 code), "denied" {reason}
// (y-protocols permission-denied message), "awareness" {states}.
//
// Commands:
//   ops {ops}                 apply ops (see layout.mjs) in one transaction
//   dump                      -> {dump}: the room as layout.mjs dumps it
//   wait {key, value, timeout?}   until registers[key] equals value (canonical JSON)
//   wait_text {key, value, timeout?} until text:key equals value
//   ack {timeout?}            send SyncStep1, wait for the server's SyncStep2 answer: every
//                             frame sent before it has been handled by the server
//   bench_ack {count, key?}   count times: set registers[key] = i, then ack -> {ms: [...]}
// ops, wait and wait_text answer with {at}: the wall clock (ms) when done.
//   awareness {state}         set the local awareness state (null: leave)
//   states                    -> {states}: clientID -> state, the local one included
//   wait_states {names, timeout?}  until the awareness states' user.name set includes names
//   raw {hex}                 send raw bytes on the socket
//   disconnect / connect      provider.disconnect() / provider.connect()
//   quit                      exit 0
// Providers are created with disableBc: true, so two peers never sync around the server.

import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider } from 'y-websocket'
import { applyOps, canonicalJson, dumpDoc, plain } from './layout.mjs'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    param: { type: 'string', multiple: true, default: [] }
  },
  strict: true
})
if (!values.url || !values.room) {
  process.stderr.write('usage: node ws_peer.mjs --url ws://HOST:PORT/crdt --room ROOM [--param k=v ...]\n')
  process.exit(2)
}
const params = {}
for (const p of values.param) {
  const i = p.indexOf('=')
  params[p.slice(0, i)] = p.slice(i + 1)
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const doc = new Y.Doc()
const provider = new WebsocketProvider(values.url, values.room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  params,
  maxBackoffTime: 500
})

let step2Waiters = []
const syncHandler = provider.messageHandlers[0]
provider.messageHandlers[0] = (encoder, decoder, prov, emitSynced, messageType) => {
  const peek = decoding.clone(decoder)
  const isStep2 = decoding.readVarUint(peek) === syncProtocol.messageYjsSyncStep2
  syncHandler(encoder, decoder, prov, emitSynced, messageType)
  if (isStep2) {
    const waiters = step2Waiters
    step2Waiters = []
    for (const resolve of waiters) resolve()
  }
}
provider.messageHandlers[2] = (_encoder, decoder) => {
  decoding.readVarUint(decoder) // permission denied
  out({ event: 'denied', reason: decoding.readVarString(decoder) })
}
provider.on('status', ({ status }) => out({ event: 'status', status }))
provider.on('sync', (synced) => { if (synced) out({ event: 'synced' }) })
provider.on('connection-close', (event) => out({ event: 'connection-close', code: event?.code ?? null, reason: event?.reason ?? '' }))
provider.on('closed', ({ code, reason }) => out({ event: 'closed', code, reason }))
provider.awareness.on('change', () => out({ event: 'awareness', states: states() }))

function states () {
  return Object.fromEntries([...provider.awareness.getStates().entries()].map(([k, v]) => [String(k), v]))
}

/** Resolve when check() holds, re-checking on doc updates, awareness changes and every 20 ms. */
function until (check, timeoutS, what) {
  return new Promise((resolve, reject) => {
    const timer = setInterval(tick, 20)
    const deadline = setTimeout(() => { stop(); reject(new Error(`timed out after ${timeoutS}s waiting for ${what}`)) }, timeoutS * 1000)
    function stop () {
      clearInterval(timer)
      clearTimeout(deadline)
      doc.off('update', tick)
      provider.awareness.off('change', tick)
    }
    function tick () {
      if (check()) { stop(); resolve() }
    }
    doc.on('update', tick)
    provider.awareness.on('change', tick)
    tick()
  })
}

const now = () => performance.timeOrigin + performance.now()

async function ack (timeout) {
  if (!provider.wsconnected) await until(() => provider.wsconnected, timeout, 'a connection')
  const answered = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SyncStep2 answer in ${timeout}s`)), timeout * 1000)
    step2Waiters.push(() => { clearTimeout(timer); resolve() })
  })
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  syncProtocol.writeSyncStep1(encoder, doc)
  provider.ws.send(encoding.toUint8Array(encoder))
  await answered
}

const COMMANDS = {
  async ops ({ ops }) { applyOps(doc, ops, 'ws_peer'); return { at: now() } },
  async dump () { return { dump: dumpDoc(doc) } },
  async wait ({ key, value, timeout = 10 }) {
    const want = canonicalJson(value)
    const registers = doc.getMap('registers')
    await until(() => registers.has(key) && canonicalJson(plain(registers.get(key))) === want, timeout, `registers[${key}] == ${want}`)
    return { at: now() }
  },
  async wait_text ({ key, value, timeout = 10 }) {
    const text = doc.getText(`text:${key}`)
    await until(() => text.toString() === value, timeout, `text ${key} == ${JSON.stringify(value)}`)
    return { at: now() }
  },
  async ack ({ timeout = 10 }) { await ack(timeout); return {} },
  async bench_ack ({ count, key = 'bench' }) {
    const ms = []
    for (let i = 0; i < count; i++) {
      const t0 = now()
      applyOps(doc, [{ op: 'set', key, value: i }], 'ws_peer')
      await ack(10)
      ms.push(now() - t0)
    }
    return { ms }
  },
  async awareness ({ state }) { provider.awareness.setLocalState(state); return {} },
  async states () { return { states: states() } },
  async wait_states ({ names, timeout = 10 }) {
    const have = () => new Set([...provider.awareness.getStates().values()].map((s) => s?.user?.name ?? s?.name))
    await until(() => names.every((n) => have().has(n)), timeout, `awareness names ${names}`)
    return { states: states() }
  },
  async raw ({ hex }) {
    await until(() => provider.wsconnected, 10, 'a connection')
    provider.ws.send(Buffer.from(hex, 'hex'))
    return {}
  },
  async disconnect () { provider.disconnect(); return {} },
  async connect () { provider.connect(); return {} },
  async quit () {
    provider.destroy()
    setTimeout(() => process.exit(0), 50)
    return {}
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (!line.trim()) return
  let msg
  try {
    msg = JSON.parse(line)
    const handler = COMMANDS[msg.cmd]
    if (!handler) throw new Error(`unknown command ${JSON.stringify(msg.cmd)}`)
    out({ id: msg.id, ok: true, ...(await handler(msg)) })
  } catch (err) {
    out({ id: msg?.id ?? null, ok: false, error: String(err?.message ?? err) })
  }
}).on('close', () => {
  provider.destroy()
  process.exit(0)
})

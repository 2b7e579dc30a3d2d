#!/usr/bin/env node
// A y-websocket client for crdt_sync rooms: connect, sync, edit, wait for a value, print the room.
//
//   node ws_client.mjs --url ws://127.0.0.1:8765 --room ROOM [--ops OPS.json]
//                      [--expect-key KEY --expect-value JSON] [--timeout SECONDS] [--param k=v ...]
//
// Connects a y-websocket WebsocketProvider to URL/ROOM (y-websocket appends "/ROOM" to the URL),
// waits for the initial sync, applies the ops of OPS.json (same format as ydoc_tool.mjs), then waits
// until registers[KEY] equals the JSON value given (compared as canonical JSON; without
// --expect-key it stops right after its own edits are sent). It then prints the room's dump
// (see layout.mjs) on stdout and exits 0. On timeout (default 10 s) it prints the last dump on
// stderr and exits 3; bad usage exits 2, other errors 1.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { applyOps, canonicalJson, dumpJson, plain } from './layout.mjs'

const USAGE = 'usage: node ws_client.mjs --url ws://HOST:PORT[/PREFIX] --room ROOM [--ops OPS.json]\n' +
  '                          [--expect-key KEY --expect-value JSON] [--timeout SECONDS] [--param k=v ...]\n'

function parse () {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      room: { type: 'string' },
      ops: { type: 'string' },
      'expect-key': { type: 'string' },
      'expect-value': { type: 'string' },
      timeout: { type: 'string', default: '10' },
      param: { type: 'string', multiple: true, default: [] }
    },
    strict: true
  })
  const timeout = Number(values.timeout)
  if (!values.url || !values.room || !(timeout > 0) ||
      (values['expect-key'] === undefined) !== (values['expect-value'] === undefined)) {
    throw new UsageError('--url and --room are required; --expect-key and --expect-value go together')
  }
  const params = {}
  for (const p of values.param) {
    const i = p.indexOf('=')
    if (i < 1) throw new UsageError(`--param wants k=v, got ${p}`)
    params[p.slice(0, i)] = p.slice(i + 1)
  }
  return {
    url: values.url,
    room: values.room,
    ops: values.ops === undefined ? [] : JSON.parse(readFileSync(values.ops, 'utf8')),
    expectKey: values['expect-key'],
    expected: values['expect-value'] === undefined ? undefined : canonicalJson(JSON.parse(values['expect-value'])),
    timeoutMs: timeout * 1000,
    params
  }
}

class UsageError extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolve once `check()` is true, re-checking on every doc update. */
function until (doc, check) {
  return new Promise((resolve) => {
    const onUpdate = () => {
      if (check()) {
        doc.off('update', onUpdate)
        resolve()
      }
    }
    doc.on('update', onUpdate)
    onUpdate()
  })
}

async function run (opts, provider, doc) {
  await new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', (synced) => synced && resolve())
  })
  applyOps(doc, opts.ops, 'ws_client')
  if (opts.expectKey !== undefined) {
    const registers = doc.getMap('registers')
    await until(doc, () => registers.has(opts.expectKey) &&
      canonicalJson(plain(registers.get(opts.expectKey))) === opts.expected)
  }
  // Let our own updates leave the socket before closing it.
  while (provider.ws && provider.ws.bufferedAmount > 0) await sleep(10)
}

async function main () {
  let opts
  try {
    opts = parse()
  } catch (err) {
    process.stderr.write(`ws_client: ${err.message}\n${USAGE}`)
    return 2
  }
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(opts.url, opts.room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    params: opts.params
  })
  provider.on('connection-error', (event) => {
    process.stderr.write(`ws_client: connection error: ${event?.message ?? event?.error?.message ?? event}\n`)
  })
  let timer
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), opts.timeoutMs) })
  try {
    const result = await Promise.race([run(opts, provider, doc).then(() => 'ok'), timedOut])
    if (result === 'timeout') {
      const what = opts.expectKey === undefined ? 'sync' : `registers[${JSON.stringify(opts.expectKey)}] == ${opts.expected}`
      process.stderr.write(`ws_client: timed out after ${opts.timeoutMs / 1000}s waiting for ${what} ` +
        `(synced=${provider.synced}, wsconnected=${provider.wsconnected})\n${dumpJson(doc)}\n`)
      return 3
    }
    await new Promise((resolve) => process.stdout.write(dumpJson(doc) + '\n', resolve))
    return 0
  } finally {
    clearTimeout(timer)
    provider.destroy()
    provider.awareness.destroy()
    doc.destroy()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`ws_client: ${err.stack ?? err}\n`)
    process.exit(1)
  }
)

#!/usr/bin/env node
// Read and write crdt_sync room documents with plain Yjs, as any JS client would.
//
//   node ydoc_tool.mjs dump IN.ydoc [MORE.update ...]
//       Apply IN and then each MORE update (in that order) to a new Y.Doc and print the room as JSON: {"kinds", "registers", "texts", "counters", "lists", "sets", "tables"}
//       (values left in encoded form; see layout.mjs).
//   node ydoc_tool.mjs edit IN.ydoc OUT.update OPS.json
//       Load IN (a v1 Yjs update, e.g. pycrdt's doc.get_update(); an empty file is an empty doc),
//       apply the ops of OPS.json in one transaction, write ONLY the new changes
//       (Y.encodeStateAsUpdate(doc, stateVectorBeforeEdits)) to OUT, and print the edited room's dump.
//
// OPS.json is an array, e.g.
//   [{"op": "set", "key": "level", "value": 42},
//    {"op": "text_insert", "key": "notes", "index": 0, "text": "JS says hi. "},
//    {"op": "list_push", "key": "msgs", "value": {"who": "js"}},
//    {"op": "counter_add", "key": "clicks", "n": 5}]
// Other ops: text_delete {index, length}, list_insert {index, value}, list_delete {index, length?},
// set_add/set_remove {value}, table_add_row {row, pos?}, table_set {row, col, value},
// table_delete_row {row}. Text indices are UTF-16 code units (JS string indices); an absent index
// or "end" means the end. Exit status: 0 ok, 1 error (nothing written), 2 usage.

import { readFileSync, writeFileSync } from 'node:fs'
import * as Y from 'yjs'
import { applyOps, dumpJson } from './layout.mjs'

const USAGE = 'usage: node ydoc_tool.mjs dump IN.ydoc [MORE.update ...]\n' +
  '       node ydoc_tool.mjs edit IN.ydoc OUT.update OPS.json\n'

function load (...paths) {
  const doc = new Y.Doc()
  for (const path of paths) {
    const bytes = new Uint8Array(readFileSync(path))
    if (bytes.length === 0) continue
    try {
      Y.applyUpdate(doc, bytes)
    } catch (err) {
      throw new Error(`${path} is not a Yjs v1 update: ${err.message}`)
    }
  }
  // Yjs parks updates whose dependencies are missing instead of failing: say so.
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
    throw new Error(`${paths.join(' + ')}: changes depend on others that are missing (incomplete updates)`)
  }
  return doc
}

function main (argv) {
  const [cmd, ...args] = argv
  if (cmd === 'dump' && args.length >= 1) {
    process.stdout.write(dumpJson(load(...args)) + '\n')
    return 0
  }
  if (cmd === 'edit' && args.length === 3) {
    const [inPath, outPath, opsPath] = args
    const doc = load(inPath)
    const ops = JSON.parse(readFileSync(opsPath, 'utf8'))
    const before = Y.encodeStateVector(doc)
    applyOps(doc, ops, 'ydoc_tool')
    writeFileSync(outPath, Y.encodeStateAsUpdate(doc, before))
    process.stdout.write(dumpJson(doc) + '\n')
    return 0
  }
  process.stderr.write(USAGE)
  return 2
}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`ydoc_tool: ${err.message}\n`)
  process.exitCode = 1
}

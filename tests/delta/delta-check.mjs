#!/usr/bin/env node
// delta-check.mjs: an independent reader and validator of the Delta tables
// portada-worker writes.  It shares no code with the worker: it replays the
// JSON log itself and reads the data files with DuckDB (@duckdb/node-api)
// and hyparquet (footers only).
//
//   node delta-check.mjs <table-dir> [--expect expect.json] [--json]
//                        [--dump rows.ndjson] [--quiet]
//
// The log (<table>/_delta_log/*.json; checkpoints are refused, we write
// JSON commits only):
//   - versions contiguous from 0, 20-digit names, UTF-8, every line one JSON
//     object (strict JSON, no duplicate keys) with exactly one action key;
//   - version 0: protocol {minReaderVersion 1, minWriterVersion 2} and
//     metaData (id a UUID, format parquet with no options, schemaString a
//     JSON string holding a struct of supported types, partitionColumns [],
//     configuration a string map, createdTime ms); a later metaData may only
//     add nullable columns (same id, format, partitioning);
//   - add: path relative and RFC 2396 URI-encoded, decoded to a file that
//     exists with exactly `size` bytes; partitionValues {}; modificationTime
//     ms; dataChange true; no deletion vector; stats a JSON *string* with
//     numRecords, minValues, maxValues and nullCount, values typed for their
//     columns; no path added twice; a remove must name a live file;
//   - commitInfo (optional, at most one per commit): operation WRITE,
//     isBlindAppend true, engineInfo "portada-worker/...", portadaSourceIds
//     an array of strings (required when the commit adds files); a source id
//     in two commits is a duplicate ingestion, reported with both versions;
//   - txn: appId and version, at most one per appId and commit.
// The data (DuckDB, every live file):
//   - each file's columns equal the Delta schema in force when it was added
//     (names, order, types: string VARCHAR, long BIGINT, integer INTEGER,
//     date DATE, timestamp TIMESTAMP WITH TIME ZONE stored as INT64 micros,
//     double DOUBLE, boolean BOOLEAN, array<string> VARCHAR[]); no nulls in
//     NOT NULL columns; hyparquet reads the footer and agrees on num_rows;
//   - stats against the real contents: numRecords = count(*); nullCount =
//     count(*) - count(col) (array columns skipped); min/max exact for long,
//     integer, date, double and boolean; bounds for strings (bytewise,
//     UTF-8: min <= real min, max >= real max) and timestamps (at ms);
//   - read_parquet over all live files with union_by_name gives the final
//     schema and the sum of the files' rows.
// --expect expect.json: {"rows": N, "sourceIds": [...], "distinct":
// {"column": N}, "rowsBySource": {"id": N}}, each key optional.
// --dump rows.ndjson: every row, one JSON object per line, columns in schema
// order; int64 as strings, dates "YYYY-MM-DD", timestamps
// "YYYY-MM-DDTHH:MM:SS.ffffffZ", strings exactly as stored; ordered by
// file_id, record_index (or file_id, name; else every column), then by
// commit order of the files and row position.
// --json: print one JSON object instead of the summary: {table, tableId,
// version, ncommits, commits: [{version, sourceIds, adds, removes, rows}],
// files: [{path, version, size, rows}] (the live files), rows, schema:
// [{name, type, nullable}], sourceIds, infos, errors, ok}.
// Also a module: checkTable(dir, {expect, dump}) returns that object.
// Exit status: 0 no errors, 1 errors, 2 usage or internal failure.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ENGINE_PREFIX = 'portada-worker/'
const FILENAME_COL = '__delta_check_filename'

// Delta type name -> the DuckDB type read_parquet must give.
const DUCK_TYPES = {
  string: 'VARCHAR',
  long: 'BIGINT',
  integer: 'INTEGER',
  date: 'DATE',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  'array<string>': 'VARCHAR[]',
}

const KNOWN_ACTIONS = new Set(['protocol', 'metaData', 'add', 'remove', 'commitInfo', 'txn'])
const FOREIGN_ACTIONS = new Set(['cdc', 'domainMetadata', 'checkpointMetadata', 'sidecar'])

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
// (String.prototype.isWellFormed() needs Node 20.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

// ------------------------------------------------------------------ helpers

function show(v) {
  if (v === undefined) return 'undefined'
  if (typeof v === 'bigint') return String(v)
  if (typeof v === 'string') return v.length <= 80 ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, 60))}... (${Buffer.byteLength(v)} bytes)`
  if (v instanceof Uint8Array) return show(Buffer.from(v).toString('utf8'))
  try {
    const s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? String(x) : x))
    return s.length <= 120 ? s : `${s.slice(0, 100)}...`
  } catch {
    return String(v)
  }
}

function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`
}

function sqlIdent(s) {
  return `"${s.replaceAll('"', '""')}"`
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function isInt(v) {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint'
}

function floorDiv(a, b) {
  const q = a / b
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q
}

const pad = (n, w) => String(n).padStart(w, '0')

// days since 1970-01-01 -> "YYYY-MM-DD"
function daysToDate(days) {
  const d = new Date(days * 86400000)
  const y = d.getUTCFullYear()
  const ys = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + pad(Math.abs(y), 6)
  return `${ys}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}

// µs since the epoch (BigInt) -> "YYYY-MM-DDTHH:MM:SS.ffffffZ"
function microsToIso(us) {
  const secs = floorDiv(us, 1000000n)
  const frac = us - secs * 1000000n
  const d = new Date(Number(secs) * 1000)
  const days = Math.floor(Number(secs) / 86400)
  return `${daysToDate(days)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(frac, 6)}Z`
}

// "YYYY-MM-DD" -> days, or null when it is not a real date
function parseDate(s) {
  const m = typeof s === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (!m) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const back = new Date(0)
  back.setUTCFullYear(y, mo - 1, d) // Date.UTC() maps years 0..99 to 1900..1999
  const t = back.getTime()
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null
  return Math.round(t / 86400000)
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" -> ms (BigInt), or null
function parseTimestampStat(s) {
  const m = typeof s === 'string' && /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/.exec(s)
  if (!m) return null
  const days = parseDate(`${m[1]}-${m[2]}-${m[3]}`)
  const [h, mi, sec, ms] = [Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])]
  if (days === null || h > 23 || mi > 59 || sec > 59) return null
  return BigInt(days) * 86400000n + BigInt(((h * 60 + mi) * 60 + sec) * 1000 + ms)
}

// Strict JSON (RFC 8259) with two differences from JSON.parse: a duplicate
// key is an error, and an integer beyond 2^53 is a BigInt (int64 stats).
class JsonError extends Error {}

function parseJson(text) {
  let i = 0
  const n = text.length
  const fail = (msg) => {
    throw new JsonError(`${msg} at offset ${i}`)
  }
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++
      else break
    }
  }
  const NUM = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
  function str() {
    i++ // opening quote
    let out = ''
    let start = i
    for (;;) {
      if (i >= n) fail('unterminated string')
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        out += text.slice(start, i)
        i++
        return out
      }
      if (c < 0x20) fail('control character in a string')
      if (c === 0x5c) {
        out += text.slice(start, i)
        const e = text[i + 1]
        const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e]
        if (simple !== undefined) {
          out += simple
          i += 2
        } else if (e === 'u') {
          const h = text.slice(i + 2, i + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape')
          out += String.fromCharCode(parseInt(h, 16))
          i += 6
        } else {
          fail('bad escape')
        }
        start = i
        continue
      }
      i++
    }
  }
  function value() {
    ws()
    if (i >= n) fail('unexpected end')
    const c = text[i]
    if (c === '{') {
      i++
      const o = {}
      ws()
      if (text[i] === '}') {
        i++
        return o
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a key')
        const k = str()
        ws()
        if (text[i] !== ':') fail('expected ":"')
        i++
        const v = value()
        if (Object.hasOwn(o, k)) fail(`duplicate key ${JSON.stringify(k)}`)
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return o
        }
        fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      i++
      const a = []
      ws()
      if (text[i] === ']') {
        i++
        return a
      }
      for (;;) {
        a.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return a
        }
        fail('expected "," or "]"')
      }
    }
    if (c === '"') return str()
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) {
        i += word.length
        return v
      }
    }
    NUM.lastIndex = i
    const m = NUM.exec(text)
    if (!m) fail('unexpected character')
    i = NUM.lastIndex
    if (m[1] === undefined && m[2] === undefined) {
      const x = Number(m[0])
      return Number.isSafeInteger(x) ? x : BigInt(m[0])
    }
    return Number(m[0])
  }
  const v = value()
  ws()
  if (i < n) fail('trailing characters')
  return v
}

// ---------------------------------------------------------------- schema

// schemaString -> [{name, type, nullable}] (type a DUCK_TYPES key), or throw
function parseSchema(schemaString) {
  if (typeof schemaString !== 'string') throw new Error(`schemaString is not a string (${show(schemaString)})`)
  let s
  try {
    s = parseJson(schemaString)
  } catch (e) {
    throw new Error(`schemaString is not JSON: ${e.message}`)
  }
  if (!isPlainObject(s) || s.type !== 'struct' || !Array.isArray(s.fields)) {
    throw new Error('schemaString is not a struct ({"type":"struct","fields":[...]})')
  }
  if (s.fields.length === 0) throw new Error('schemaString has no fields')
  const seen = new Set()
  return s.fields.map((f, j) => {
    const where = `schemaString field ${j}`
    if (!isPlainObject(f)) throw new Error(`${where} is not an object`)
    if (typeof f.name !== 'string' || f.name === '') throw new Error(`${where}: no name`)
    const lc = f.name.toLowerCase()
    if (seen.has(lc)) throw new Error(`${where}: column ${show(f.name)} appears twice (names are case-insensitive)`)
    seen.add(lc)
    if (typeof f.nullable !== 'boolean') throw new Error(`${where} ${show(f.name)}: nullable is not a boolean`)
    if (f.metadata !== undefined && !isPlainObject(f.metadata)) throw new Error(`${where} ${show(f.name)}: metadata is not an object`)
    for (const k of Object.keys(f.metadata ?? {})) {
      if (/^delta\.(invariants|generationExpression|identity\.|columnMapping\.)/.test(k)) {
        throw new Error(`${where} ${show(f.name)}: metadata ${show(k)} needs writer support portada-worker does not have`)
      }
    }
    let type
    if (typeof f.type === 'string' && f.type !== 'array<string>' && Object.hasOwn(DUCK_TYPES, f.type)) {
      type = f.type
    } else if (isPlainObject(f.type) && f.type.type === 'array' && f.type.elementType === 'string' &&
        typeof f.type.containsNull === 'boolean') {
      type = 'array<string>'
    } else {
      throw new Error(`${where} ${show(f.name)}: type ${show(f.type)} is not one portada-worker writes ` +
        '(string, long, integer, date, timestamp, double, boolean, array of string)')
    }
    return { name: f.name, type, nullable: f.nullable }
  })
}

function schemaText(schema) {
  return schema.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`).join(', ')
}

// ------------------------------------------------------------- the checker

class Report {
  constructor() {
    this.errors = []
    this.infos = []
  }
  error(msg) {
    this.errors.push(msg)
  }
  info(msg) {
    this.infos.push(msg)
  }
}

const vname = (v) => String(v).padStart(20, '0') + '.json'

// An RFC 2396 relative path: unreserved, reserved and %HH only; no scheme,
// no leading "/", no query.  Returns the decoded path, or null when there is
// no file to follow; a path that is wrongly encoded or hidden is reported
// and still followed (decoded as well as it can be), so that one bad path
// does not turn into a cascade of errors about missing rows.
function checkPath(raw, where, rep) {
  if (typeof raw !== 'string' || raw === '') {
    rep.error(`${where}: path is not a non-empty string (${show(raw)})`)
    return null
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw) || raw.startsWith('/')) {
    rep.error(`${where}: path ${show(raw)} is absolute; portada-worker writes paths relative to the table`)
    return null
  }
  const bad = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-_.!~*'();/:@&=+$,%]/.exec(raw)
  let dec
  if (bad) {
    rep.error(`${where}: path ${show(raw)} is not URI-encoded (RFC 2396): character ${show(bad[0])} at ${bad.index} must be %-escaped`)
    try {
      dec = decodeURIComponent(raw)
    } catch {
      dec = raw
    }
  } else {
    try {
      dec = decodeURIComponent(raw)
    } catch {
      rep.error(`${where}: path ${show(raw)}: its %-escapes do not decode to UTF-8`)
      return null
    }
  }
  const segs = dec.split('/')
  if (segs.some((s) => s === '' || s === '.' || s === '..') || dec.includes('\0')) {
    rep.error(`${where}: path ${show(raw)} (decoded ${show(dec)}) has an empty, "." or ".." segment or a NUL`)
    return null
  }
  if (segs.some((s) => s.startsWith('_') || s.startsWith('.'))) {
    rep.error(`${where}: path ${show(raw)}: data files must not be hidden or in a hidden directory (name starting with "_" or ".")`)
  }
  return dec
}

function checkStatsValue(type, v, where, rep) {
  switch (type) {
    case 'string':
      if (typeof v !== 'string' || LONE_SURROGATE.test(v)) break
      return Buffer.from(v, 'utf8')
    case 'long':
      if (!isInt(v) || BigInt(v) < -(2n ** 63n) || BigInt(v) >= 2n ** 63n) break
      return BigInt(v)
    case 'integer':
      if (!isInt(v) || BigInt(v) < -(2n ** 31n) || BigInt(v) >= 2n ** 31n) break
      return Number(v)
    case 'date': {
      const d = parseDate(v)
      if (d === null) break
      return d
    }
    case 'timestamp': {
      const t = parseTimestampStat(v)
      if (t === null) break
      return t
    }
    case 'double':
      if (typeof v !== 'number') break
      return v
    case 'boolean':
      if (typeof v !== 'boolean') break
      return v
    case 'array<string>':
      rep.error(`${where}: a min/max statistic for an array column means nothing (${show(v)})`)
      return undefined
  }
  const form = {
    string: 'a string of valid Unicode',
    long: 'a 64-bit integer',
    integer: 'a 32-bit integer',
    date: '"YYYY-MM-DD"',
    timestamp: '"YYYY-MM-DDTHH:MM:SS.mmmZ"',
  }[type] ?? `a ${type}`
  rep.error(`${where}: ${show(v)} is not ${form}`)
  return undefined
}

// add.stats -> {numRecords, min: Map, max: Map, nulls: Map} (values decoded), or null
function checkStats(add, schema, where, rep) {
  if (add.stats === undefined || add.stats === null) {
    rep.error(`${where}: no stats`)
    return null
  }
  if (typeof add.stats !== 'string') {
    rep.error(`${where}: stats must be a JSON string, not a ${Array.isArray(add.stats) ? 'array' : typeof add.stats}`)
    return null
  }
  let s
  try {
    s = parseJson(add.stats)
  } catch (e) {
    rep.error(`${where}: stats is not JSON: ${e.message}`)
    return null
  }
  if (!isPlainObject(s)) {
    rep.error(`${where}: stats is not a JSON object`)
    return null
  }
  const out = { numRecords: null, min: new Map(), max: new Map(), nulls: new Map(), tight: true }
  if (!isInt(s.numRecords) || s.numRecords < 0) rep.error(`${where}: stats.numRecords missing or not a count (${show(s.numRecords)})`)
  else out.numRecords = BigInt(s.numRecords)
  if (s.tightBounds !== undefined) {
    if (typeof s.tightBounds !== 'boolean') rep.error(`${where}: stats.tightBounds is not a boolean`)
    else out.tight = s.tightBounds
  }
  const cols = new Map(schema.map((c) => [c.name, c]))
  for (const key of ['minValues', 'maxValues', 'nullCount']) {
    const m = s[key]
    if (!isPlainObject(m)) {
      rep.error(`${where}: stats.${key} missing or not an object (${show(m)})`)
      continue
    }
    for (const [name, v] of Object.entries(m)) {
      const c = cols.get(name)
      const w = `${where}: stats.${key}.${name}`
      if (!c) {
        rep.error(`${w}: no such column in the table schema`)
        continue
      }
      if (key === 'nullCount') {
        if (!isInt(v) || v < 0) rep.error(`${w}: ${show(v)} is not a count`)
        else if (out.numRecords !== null && BigInt(v) > out.numRecords) rep.error(`${w}: ${v} nulls in a file of ${out.numRecords} records`)
        else out.nulls.set(name, BigInt(v))
        continue
      }
      if (v === null) continue
      const d = checkStatsValue(c.type, v, w, rep)
      if (d !== undefined) (key === 'minValues' ? out.min : out.max).set(name, d)
    }
  }
  for (const [name, lo] of out.min) {
    const hi = out.max.get(name)
    if (hi === undefined) continue
    const t = cols.get(name).type
    const gt = t === 'string' ? Buffer.compare(lo, hi) > 0 : lo > hi
    if (gt) rep.error(`${where}: stats for ${name}: minValues ${show(lo)} > maxValues ${show(hi)}`)
  }
  return out
}

// Replays the log.  Returns the state for the data phase, or null when the
// log is too broken for a snapshot to mean anything.
function replayLog(table, rep) {
  const logDir = path.join(table, '_delta_log')
  let st
  try {
    st = fs.statSync(table)
  } catch (e) {
    rep.error(`table ${table}: ${e.code === 'ENOENT' ? 'no such directory' : e.message}`)
    return null
  }
  if (!st.isDirectory()) {
    rep.error(`table ${table}: not a directory`)
    return null
  }
  let names
  try {
    names = fs.readdirSync(logDir)
  } catch (e) {
    rep.error(`not a Delta table: ${logDir}: ${e.code === 'ENOENT' ? 'no such directory' : e.message}`)
    return null
  }
  const commits = []
  const checkpoints = []
  for (const nm of names.sort()) {
    if (/^\d{20}\.json$/.test(nm)) commits.push({ version: BigInt(nm.slice(0, 20)), name: nm })
    else if (/\.checkpoint(\.[^/]*)?\.(parquet|json)$/.test(nm) || nm === '_last_checkpoint' || nm === '_sidecars') checkpoints.push(nm)
    else if (/^\d+\.json$/.test(nm)) rep.error(`_delta_log/${nm}: not a valid log entry name (versions are 20-digit, zero-padded)`)
    else if (/^\d{20}\.crc$/.test(nm) || /^\d{20}\.\d{20}\.compacted\.json$/.test(nm)) rep.info(`_delta_log/${nm}: optional file, not checked`)
    else rep.info(`_delta_log/${nm}: not part of the log (left over by a writer?), ignored`)
  }
  if (checkpoints.length > 0) {
    rep.error(`${logDir} has checkpoints (${checkpoints.join(', ')}): this checker replays JSON commits only ` +
      '(portada-worker writes no checkpoints); refusing the table')
    return null
  }
  if (commits.length === 0) {
    rep.error(`${logDir}: no commits (no 00000000000000000000.json)`)
    return null
  }
  if (commits[0].version !== 0n) {
    rep.error(`${logDir}: missing early versions: the first commit is version ${commits[0].version} ` +
      `(versions 0..${commits[0].version - 1n} are gone, cleaned up by another engine?); this checker needs the whole log from version 0`)
    return null
  }
  let gaps = false
  for (let k = 1; k < commits.length; k++) {
    const a = commits[k - 1].version
    const b = commits[k].version
    if (b !== a + 1n) {
      rep.error(`${logDir}: versions not contiguous: ${vname(a)} is followed by ${vname(b)} ` +
        `(missing ${b - a === 2n ? `version ${a + 1n}` : `versions ${a + 1n}..${b - 1n}`})`)
      gaps = true
    }
  }
  if (gaps) return null

  const state = {
    table,
    tableId: null,
    schema: null, // the current one
    protocol: null,
    commits: [], // {version, sourceIds, adds: [file], removes, commitInfo}
    live: new Map(), // decoded path -> file
    everAdded: new Map(), // decoded path -> version
    sourceSeen: new Map(), // source id -> version
    broken: false,
  }
  let arraysNullInfo = false
  const missingStats = new Map() // message -> paths
  const txns = new Map() // appId -> {version, commits}
  for (const cm of commits) {
    const v = cm.version
    const wv = vname(v)
    let bytes
    let text
    try {
      bytes = fs.readFileSync(path.join(logDir, cm.name))
    } catch (e) {
      rep.error(`${wv}: ${e.message}`)
      state.broken = true
      continue
    }
    try {
      text = utf8Fatal.decode(bytes)
    } catch {
      rep.error(`${wv}: not UTF-8`)
      state.broken = true
      continue
    }
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    const acts = []
    lines.forEach((line, k) => {
      const w = `${wv} line ${k + 1}`
      if (line.trim() === '') {
        rep.error(`${w}: empty line`)
        return
      }
      let a
      try {
        a = parseJson(line)
      } catch (e) {
        rep.error(`${w}: not JSON: ${e.message}`)
        state.broken = true
        return
      }
      if (!isPlainObject(a)) {
        rep.error(`${w}: not a JSON object`)
        state.broken = true
        return
      }
      const keys = Object.keys(a)
      if (keys.length !== 1) {
        rep.error(`${w}: an action line must have exactly one key, this one has ${keys.length} (${keys.join(', ')})`)
        state.broken = true
        return
      }
      const kind = keys[0]
      if (!KNOWN_ACTIONS.has(kind)) {
        rep.error(`${w}: action ${show(kind)} ${FOREIGN_ACTIONS.has(kind) ? 'is not one portada-worker writes' : 'is unknown'}`)
        return
      }
      if (!isPlainObject(a[kind])) {
        rep.error(`${w}: ${kind} is not an object`)
        state.broken = true
        return
      }
      acts.push({ kind, a: a[kind], w })
    })
    if (acts.length === 0 && lines.length === 0) rep.error(`${wv}: empty commit`)
    const of = (kind) => acts.filter((x) => x.kind === kind)
    for (const kind of ['protocol', 'metaData', 'commitInfo']) {
      if (of(kind).length > 1) rep.error(`${wv}: ${of(kind).length} ${kind} actions (at most one per commit)`)
    }

    // protocol
    const prot = of('protocol')[0]
    if (v === 0n && !prot) {
      rep.error(`${wv}: version 0 has no protocol action`)
      state.broken = true
    }
    if (prot) {
      const p = prot.a
      const ok = p.minReaderVersion === 1 && p.minWriterVersion === 2 && p.readerFeatures === undefined && p.writerFeatures === undefined
      if (!ok) rep.error(`${prot.w}: protocol ${show(p)}, expected {"minReaderVersion":1,"minWriterVersion":2}`)
      else if (v !== 0n) rep.info(`${prot.w}: protocol action repeated (unchanged)`)
      state.protocol = p
    }

    // metaData
    const md = of('metaData')[0]
    if (v === 0n && !md) {
      rep.error(`${wv}: version 0 has no metaData action`)
      state.broken = true
    }
    if (md) {
      const m = md.a
      const w = md.w
      if (typeof m.id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(m.id)) {
        rep.error(`${w}: metaData.id ${show(m.id)} is not a UUID`)
      }
      if (!isPlainObject(m.format) || m.format.provider !== 'parquet' || !isPlainObject(m.format.options) ||
          Object.keys(m.format.options).length !== 0) {
        rep.error(`${w}: metaData.format ${show(m.format)}, expected {"provider":"parquet","options":{}}`)
      }
      if (!Array.isArray(m.partitionColumns) || m.partitionColumns.length !== 0) {
        rep.error(`${w}: metaData.partitionColumns ${show(m.partitionColumns)}, expected [] (portada-worker tables are not partitioned)`)
      }
      if (!isPlainObject(m.configuration) || Object.values(m.configuration).some((x) => typeof x !== 'string')) {
        rep.error(`${w}: metaData.configuration ${show(m.configuration)} is not a map of strings`)
      } else if (Object.keys(m.configuration).length > 0) {
        rep.info(`${w}: metaData.configuration ${show(m.configuration)}`)
      }
      if (!isInt(m.createdTime) || m.createdTime < 946684800000) {
        rep.error(`${w}: metaData.createdTime ${show(m.createdTime)} is not a time in ms since the epoch`)
      }
      for (const k of ['name', 'description']) {
        if (m[k] !== undefined && m[k] !== null && typeof m[k] !== 'string') rep.error(`${w}: metaData.${k} is not a string`)
      }
      let schema = null
      try {
        schema = parseSchema(m.schemaString)
      } catch (e) {
        rep.error(`${w}: bad metaData.schemaString: ${e.message}`)
        state.broken = true
      }
      if (v !== 0n && state.tableId !== null && m.id !== state.tableId) {
        rep.error(`${w}: metaData.id changed from ${state.tableId} to ${show(m.id)}`)
      }
      if (schema && state.schema) {
        // Schema evolution: every column kept as it was, new ones nullable.
        const newBy = new Map(schema.map((c) => [c.name, c]))
        for (const old of state.schema) {
          const c = newBy.get(old.name)
          if (!c) rep.error(`${w}: schema change drops column ${show(old.name)} (only added nullable columns are allowed)`)
          else if (c.type !== old.type || c.nullable !== old.nullable) {
            rep.error(`${w}: schema change alters column ${show(old.name)}: ${old.type}${old.nullable ? '' : ' NOT NULL'} -> ` +
              `${c.type}${c.nullable ? '' : ' NOT NULL'} (only added nullable columns are allowed)`)
          }
        }
        const oldNames = new Set(state.schema.map((c) => c.name))
        const added = schema.filter((c) => !oldNames.has(c.name))
        for (const c of added) {
          if (!c.nullable) rep.error(`${w}: schema change adds column ${show(c.name)} as NOT NULL (older files have no values for it)`)
        }
        const kept = schema.filter((c) => oldNames.has(c.name)).map((c) => c.name)
        if (kept.join('\0') !== state.schema.filter((c) => newBy.has(c.name)).map((c) => c.name).join('\0')) {
          rep.info(`${w}: schema change reorders columns`)
        }
        if (added.length > 0) rep.info(`${wv}: schema evolution adds ${added.map((c) => `${c.name} ${c.type}`).join(', ')}`)
      }
      if (schema) state.schema = schema
      if (v === 0n) state.tableId = typeof m.id === 'string' ? m.id : null
    }
    if (!state.schema) {
      state.broken = true
      continue
    }

    // commitInfo
    const ci = of('commitInfo')[0]
    const commit = { version: v, sourceIds: [], adds: [], removes: 0, hasCommitInfo: !!ci, schema: state.schema }
    const addActs = of('add')
    if (ci) {
      const c = ci.a
      const w = ci.w
      if (c.operation !== 'WRITE') rep.error(`${w}: commitInfo.operation ${show(c.operation)}, expected "WRITE"`)
      if (c.isBlindAppend !== true) rep.error(`${w}: commitInfo.isBlindAppend ${show(c.isBlindAppend)}, expected true`)
      if (typeof c.engineInfo !== 'string' || !c.engineInfo.startsWith(ENGINE_PREFIX)) {
        rep.error(`${w}: commitInfo.engineInfo ${show(c.engineInfo)} does not start with ${show(ENGINE_PREFIX)}`)
      }
      if (c.timestamp !== undefined && !isInt(c.timestamp)) rep.error(`${w}: commitInfo.timestamp ${show(c.timestamp)} is not ms since the epoch`)
      const ids = c.portadaSourceIds
      if (ids === undefined) {
        if (addActs.length > 0) rep.error(`${w}: commitInfo has no portadaSourceIds but the commit adds ${addActs.length} file(s)`)
      } else if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string' || x === '')) {
        rep.error(`${w}: commitInfo.portadaSourceIds ${show(ids)} is not an array of non-empty strings`)
      } else {
        const here = new Set()
        for (const id of ids) {
          if (here.has(id)) {
            rep.error(`${w}: source id ${show(id)} listed twice in one commit`)
            continue
          }
          here.add(id)
          const prev = state.sourceSeen.get(id)
          if (prev !== undefined) {
            rep.error(`duplicate ingestion: source id ${show(id)} is in commits ${prev} and ${v} (${vname(prev)}, ${wv})`)
          } else {
            state.sourceSeen.set(id, v)
          }
          commit.sourceIds.push(id)
        }
      }
    } else if (addActs.length > 0) {
      rep.info(`${wv}: no commitInfo, so no source ids for its ${addActs.length} file(s)`)
    }

    // txn: application transaction ids (the latest version per appId wins)
    const txnHere = new Set()
    for (const t of of('txn')) {
      if (typeof t.a.appId !== 'string' || !isInt(t.a.version)) {
        rep.error(`${t.w}: txn needs appId (string) and version (long), got ${show(t.a)}`)
      } else if (txnHere.has(t.a.appId)) {
        rep.error(`${t.w}: a second txn for appId ${show(t.a.appId)} in one commit`)
      } else {
        txnHere.add(t.a.appId)
        const prev = txns.get(t.a.appId)
        txns.set(t.a.appId, { version: t.a.version, commits: (prev?.commits ?? 0) + 1 })
      }
    }

    // removes: against the snapshot before this commit
    const removedHere = new Set()
    for (const r of of('remove')) {
      const dec = checkPath(r.a.path, `${r.w}: remove`, rep)
      commit.removes++
      if (typeof r.a.dataChange !== 'boolean') rep.error(`${r.w}: remove.dataChange is not a boolean`)
      if (r.a.deletionTimestamp !== undefined && r.a.deletionTimestamp !== null && !isInt(r.a.deletionTimestamp)) {
        rep.error(`${r.w}: remove.deletionTimestamp is not ms since the epoch`)
      }
      if (dec === null) continue
      if (removedHere.has(dec)) rep.error(`${r.w}: ${show(r.a.path)} removed twice in one commit`)
      else if (!state.live.has(dec)) rep.error(`${r.w}: remove of ${show(r.a.path)}, which is not a live file of the table`)
      removedHere.add(dec)
    }
    for (const dec of removedHere) state.live.delete(dec)

    // adds
    for (const x of addActs) {
      const a = x.a
      const w = `${x.w}: add ${show(a.path)}`
      const dec = checkPath(a.path, `${x.w}: add`, rep)
      if (!isPlainObject(a.partitionValues) || Object.keys(a.partitionValues).length !== 0) {
        rep.error(`${w}: partitionValues ${show(a.partitionValues)}, expected {}`)
      }
      if (!isInt(a.size) || a.size < 0) rep.error(`${w}: size ${show(a.size)} is not a byte count`)
      if (!isInt(a.modificationTime) || a.modificationTime < 946684800000) {
        rep.error(`${w}: modificationTime ${show(a.modificationTime)} is not a time in ms since the epoch`)
      }
      if (a.dataChange !== true) rep.error(`${w}: dataChange ${show(a.dataChange)}, expected true (an append)`)
      if (a.deletionVector !== undefined && a.deletionVector !== null) rep.error(`${w}: has a deletion vector (not supported)`)
      if (a.tags !== undefined && a.tags !== null && !isPlainObject(a.tags)) rep.error(`${w}: tags is not a map`)
      const stats = checkStats(a, state.schema, w, rep)
      if (stats) {
        const scalar = state.schema.filter((c) => c.type !== 'array<string>')
        const noMinMax = scalar.filter((c) => !stats.min.has(c.name) && !stats.max.has(c.name)).map((c) => c.name).join(', ')
        const noNulls = scalar.filter((c) => !stats.nulls.has(c.name)).map((c) => c.name).join(', ')
        if (noMinMax) missingStats.set(`no min/max stats for ${noMinMax}`, [...(missingStats.get(`no min/max stats for ${noMinMax}`) ?? []), a.path])
        if (noNulls) missingStats.set(`no nullCount for ${noNulls}`, [...(missingStats.get(`no nullCount for ${noNulls}`) ?? []), a.path])
      }
      if (stats && !arraysNullInfo && state.schema.some((c) => c.type === 'array<string>' && stats.nulls.has(c.name))) {
        arraysNullInfo = true
        rep.info('nullCount of array columns is not checked')
      }
      if (dec === null) continue
      const prev = state.everAdded.get(dec)
      if (prev !== undefined) {
        rep.error(`${w}: path added twice (versions ${prev} and ${v}); portada-worker never rewrites a data file`)
        continue
      }
      state.everAdded.set(dec, v)
      const file = {
        path: a.path,
        decoded: dec,
        abs: path.join(table, dec),
        version: v,
        size: isInt(a.size) ? Number(a.size) : null,
        stats,
        schema: state.schema,
        exists: false,
        rows: null, // count(*) by DuckDB
        where: w,
        commit,
      }
      let fst = null
      try {
        fst = fs.statSync(file.abs)
      } catch (e) {
        rep.error(`${w}: data file ${file.abs} ${e.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${e.message}`}`)
      }
      if (fst && !fst.isFile()) rep.error(`${w}: ${file.abs} is not a regular file`)
      else if (fst) {
        file.exists = true
        if (file.size !== null && fst.size !== file.size) {
          rep.error(`${w}: size ${file.size} in the log, but the file has ${fst.size} bytes`)
          file.sizeWrong = true
        }
      }
      state.live.set(dec, file)
      commit.adds.push(file)
    }
    state.commits.push(commit)
  }
  state.version = commits[commits.length - 1].version
  state.ncommits = commits.length
  for (const [app, t] of txns) rep.info(`txn appId ${show(app)}: in ${t.commits} commit(s), latest version ${t.version}`)
  for (const [msg, paths] of missingStats) {
    rep.info(`${msg} (allowed) in ${paths.length} file(s): ${paths.slice(0, 3).map(show).join(', ')}${paths.length > 3 ? ', ...' : ''}`)
  }
  if (state.broken) return state

  // Files in the table directory that the log does not name (a crashed
  // writer's temporary files, say): reported, not an error.
  const known = new Set(state.everAdded.keys())
  const orphans = []
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(table, rel), { withFileTypes: true })) {
      if (!rel && e.name === '_delta_log') continue
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) walk(r)
      else if (!known.has(r)) orphans.push(r)
    }
  }
  try {
    walk('')
  } catch (e) {
    rep.info(`listing ${table}: ${e.message}`)
  }
  if (orphans.length > 0) {
    rep.info(`${orphans.length} file(s) in the table directory are not in the log: ${orphans.slice(0, 5).join(', ')}${orphans.length > 5 ? ', ...' : ''}`)
  }
  return state
}

// ------------------------------------------------------------ data (DuckDB)

function fromDuck(type, v) {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'date':
      return typeof v === 'object' && 'days' in v ? v.days : v
    case 'timestamp':
      return typeof v === 'object' && 'micros' in v ? BigInt(v.micros) : v
    case 'string':
      return typeof v === 'object' && v.bytes instanceof Uint8Array ? Buffer.from(v.bytes) : v
    case 'array<string>':
      return typeof v === 'object' && 'items' in v ? v.items.map((x) => fromDuck('string', x)) : v
    case 'long':
      return BigInt(v)
    case 'integer':
      return Number(v)
    default:
      return v
  }
}

function statExpr(c) {
  const n = sqlIdent(c.name)
  switch (c.type) {
    case 'string':
      return [`count(${n})`, `min(encode(${n}))`, `max(encode(${n}))`]
    case 'double':
      return [`count(${n})`, `min(${n}) FILTER (WHERE NOT isnan(${n}))`, `max(${n}) FILTER (WHERE NOT isnan(${n}))`]
    case 'array<string>':
      return [`count(${n})`]
    default:
      return [`count(${n})`, `min(${n})`, `max(${n})`]
  }
}

function showVal(type, v) {
  if (v === null || v === undefined) return 'null'
  switch (type) {
    case 'string':
      return show(Buffer.from(v).toString('utf8'))
    case 'date':
      return daysToDate(v)
    case 'timestamp':
      return microsToIso(v)
    default:
      return String(v)
  }
}

let hyparquetModule = null
async function hyparquet() {
  hyparquetModule ??= await import('hyparquet')
  return hyparquetModule
}

async function checkFile(con, file, rep) {
  const w = `${vname(file.version)}: ${file.decoded}`
  const f = sqlString(file.abs)
  const q = async (sql) => con.runAndReadAll(sql)
  // hyparquet: the footer, independently
  let hyRows = null
  try {
    const { parquetMetadata } = await hyparquet()
    const b = fs.readFileSync(file.abs)
    const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
    hyRows = BigInt(meta.num_rows)
  } catch (e) {
    rep.error(`${w}: hyparquet cannot read the footer: ${e.message}`)
    return false
  }
  // Columns and their types.
  let names
  let types
  try {
    const r0 = await q(`SELECT * FROM read_parquet(${f}) LIMIT 0`)
    names = r0.columnNames()
    types = r0.columnTypes().map(String)
  } catch (e) {
    rep.error(`${w}: DuckDB cannot read it: ${e.message}`)
    return false
  }
  const want = file.schema
  const okCols = []
  const byName = new Map(names.map((n, j) => [n, types[j]]))
  for (const c of want) {
    const t = byName.get(c.name)
    if (t === undefined) rep.error(`${w}: column ${show(c.name)} of the Delta schema is not in the file`)
    else if (t !== DUCK_TYPES[c.type]) rep.error(`${w}: column ${show(c.name)} is ${t} in the file, the Delta schema says ${c.type} (${DUCK_TYPES[c.type]})`)
    else okCols.push(c)
  }
  const wantNames = new Set(want.map((c) => c.name))
  const extra = names.filter((n) => !wantNames.has(n))
  if (extra.length > 0) rep.error(`${w}: column(s) ${extra.map(show).join(', ')} in the file are not in the Delta schema`)
  if (extra.length === 0 && okCols.length === want.length && names.join('\0') !== want.map((c) => c.name).join('\0')) {
    rep.error(`${w}: columns in the order ${names.join(', ')}, the Delta schema has ${want.map((c) => c.name).join(', ')}`)
  }
  // Timestamps: INT64 micros, adjusted to UTC (TIMESTAMP WITH TIME ZONE
  // already says adjusted; check the unit and physical type).
  const tsCols = okCols.filter((c) => c.type === 'timestamp')
  if (tsCols.length > 0) {
    try {
      const sch = (await q(`SELECT name, type, converted_type, logical_type, num_children FROM parquet_schema(${f})`)).getRowObjectsJS()
      // Walk the flattened tree for the top-level elements.
      const top = []
      let k = 1
      const skip = (j) => {
        let next = j + 1
        for (let c = 0; c < Number(sch[j].num_children ?? 0); c++) next = skip(next)
        return next
      }
      while (k < sch.length) {
        top.push(sch[k])
        k = skip(k)
      }
      for (const c of tsCols) {
        const e = top.find((x) => x.name === c.name)
        const micros = e && e.type === 'INT64' &&
          (e.logical_type ? /MICROS=MicroSeconds/.test(e.logical_type) : e.converted_type === 'TIMESTAMP_MICROS')
        if (!micros) {
          rep.error(`${w}: timestamp column ${show(c.name)} is stored as ${e?.type}/${e?.converted_type}/${e?.logical_type}, expected INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS)`)
        }
      }
    } catch (e) {
      rep.error(`${w}: parquet_schema: ${e.message}`)
    }
  }
  // The real contents: count, nulls, min and max of every column.
  const exprs = ['count(*)']
  const at = []
  for (const c of okCols) {
    at.push(exprs.length)
    exprs.push(...statExpr(c))
  }
  let row
  try {
    row = (await q(`SELECT ${exprs.join(', ')} FROM read_parquet(${f})`)).getRows()[0]
  } catch (e) {
    rep.error(`${w}: DuckDB cannot read its rows: ${e.message}`)
    return false
  }
  const n = BigInt(row[0])
  file.rows = Number(n)
  if (hyRows !== n) rep.error(`${w}: hyparquet reads num_rows ${hyRows} in the footer, DuckDB counts ${n} rows`)
  const st = file.stats
  if (st && st.numRecords !== null && st.numRecords !== n) rep.error(`${w}: stats.numRecords ${st.numRecords}, the file has ${n} rows`)
  okCols.forEach((c, j) => {
    const nonNull = BigInt(row[at[j]])
    const nulls = n - nonNull
    if (!c.nullable && nulls > 0n) rep.error(`${w}: column ${show(c.name)} is NOT NULL in the schema but has ${nulls} null(s)`)
    if (!st) return
    if (c.type !== 'array<string>' && st.nulls.has(c.name) && st.nulls.get(c.name) !== nulls) {
      rep.error(`${w}: stats.nullCount.${c.name} ${st.nulls.get(c.name)}, the file has ${nulls} null(s)`)
    }
    if (c.type === 'array<string>') return
    const lo = fromDuck(c.type, row[at[j] + 1])
    const hi = fromDuck(c.type, row[at[j] + 2])
    for (const [key, real, stat] of [['minValues', lo, st.min.get(c.name)], ['maxValues', hi, st.max.get(c.name)]]) {
      if (stat === undefined) continue
      if (real === null) {
        rep.info(`${w}: stats.${key}.${c.name} given for a column with no values (carries no information)`)
        continue
      }
      const isMin = key === 'minValues'
      let ok
      let how
      switch (c.type) {
        case 'string': {
          const cmp = Buffer.compare(stat, real)
          ok = isMin ? cmp <= 0 : cmp >= 0
          how = isMin ? 'must be <= (bytewise)' : 'must be >= (bytewise)'
          break
        }
        case 'timestamp': {
          const realMs = floorDiv(real, 1000n)
          ok = isMin ? stat <= realMs : stat >= realMs
          how = isMin ? 'must be <= (at ms)' : 'must be >= (at ms)'
          break
        }
        default:
          ok = c.type === 'double' ? stat === real || (stat === 0 && real === 0) : stat === real
          how = 'must equal'
      }
      if (!ok) {
        const shownStat = c.type === 'timestamp' ? new Date(Number(stat)).toISOString() : showVal(c.type, stat)
        rep.error(`${w}: stats.${key}.${c.name} ${shownStat} ${how} the real ${isMin ? 'minimum' : 'maximum'} ${showVal(c.type, real)}`)
      }
    }
  })
  return true
}

async function readTable(instance, con, state, rep) {
  const result = { rows: 0, dumped: null }
  const files = [...state.live.values()]
  // The files are checked a few at a time, each on its own connection,
  // into reports of their own that are merged in log order.
  const pending = files.filter((f) => f.exists).map((file) => ({ file, rep: new Report(), ok: false }))
  const queue = [...pending]
  const width = Math.min(4, queue.length)
  await Promise.all(Array.from({ length: width }, async () => {
    const c = await instance.connect()
    try {
      await c.run("SET TimeZone = 'UTC'")
      while (queue.length > 0) {
        const t = queue.shift()
        t.ok = await checkFile(c, t.file, t.rep)
      }
    } finally {
      c.closeSync?.()
    }
  }))
  const readable = []
  for (const t of pending) {
    t.rep.errors.forEach((m) => rep.error(m))
    t.rep.infos.forEach((m) => rep.info(m))
    if (t.ok) readable.push(t.file)
  }
  const schema = state.schema
  if (readable.length < files.length) {
    rep.info(`${files.length - readable.length} of ${files.length} live file(s) could not be read; table-level checks use the rest`)
  }
  result.rows = readable.reduce((s, f) => s + f.rows, 0)
  if (readable.length === 0) return { ...result, src: null }
  const list = `[${readable.map((f) => sqlString(f.abs)).join(', ')}]`
  const src = `read_parquet(${list}, union_by_name = true, filename = ${sqlString(FILENAME_COL)}, file_row_number = true)`
  try {
    const r0 = await con.runAndReadAll(`SELECT * EXCLUDE (${sqlIdent(FILENAME_COL)}, file_row_number) FROM ${src} LIMIT 0`)
    const names = r0.columnNames()
    const types = r0.columnTypes().map(String)
    const got = new Map(names.map((nm, j) => [nm, types[j]]))
    for (const c of schema) {
      if (!got.has(c.name)) rep.error(`table read (union_by_name): column ${show(c.name)} is in no live file`)
      else if (got.get(c.name) !== DUCK_TYPES[c.type]) rep.error(`table read (union_by_name): column ${show(c.name)} reads as ${got.get(c.name)}, expected ${DUCK_TYPES[c.type]}`)
    }
    const inSchema = new Set(schema.map((c) => c.name))
    for (const nm of names) if (!inSchema.has(nm)) rep.error(`table read (union_by_name): column ${show(nm)} is not in the Delta schema`)
    const cnt = Number((await con.runAndReadAll(`SELECT count(*) FROM ${src}`)).getRows()[0][0])
    if (cnt !== result.rows) rep.error(`table read (union_by_name): ${cnt} rows, the files counted one by one have ${result.rows}`)
  } catch (e) {
    rep.error(`table read (union_by_name): ${e.message}`)
    return { ...result, src: null }
  }
  return { ...result, src, readable }
}

async function dumpRows(con, state, src, readable, out) {
  const schema = state.schema
  const has = (nm) => schema.some((c) => c.name === nm)
  let keys
  if (has('file_id') && has('record_index')) keys = ['file_id', 'record_index']
  else if (has('file_id') && has('name')) keys = ['file_id', 'name']
  else keys = schema.filter((c) => c.type !== 'array<string>').map((c) => c.name)
  const order = [...keys.map(sqlIdent),
    `list_position([${readable.map((f) => sqlString(f.abs)).join(', ')}], ${sqlIdent(FILENAME_COL)})`, 'file_row_number']
  const sel = schema.map((c) => {
    const n = sqlIdent(c.name)
    if (c.type === 'string') return `encode(${n})`
    if (c.type === 'array<string>') return `list_transform(${n}, x -> encode(x))`
    return n
  })
  const res = await con.run(`SELECT ${sel.join(', ')} FROM ${src} ORDER BY ${order.join(', ')}`)
  const fd = fs.openSync(out, 'w')
  let nrows = 0
  try {
    for (;;) {
      const chunk = await res.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      const vecs = schema.map((c, j) => chunk.getColumnVector(j))
      const lines = []
      for (let i = 0; i < chunk.rowCount; i++) {
        const o = {}
        schema.forEach((c, j) => {
          const v = fromDuck(c.type, vecs[j].getItem(i))
          o[c.name] = jsonValue(c.type, v)
        })
        lines.push(JSON.stringify(o))
      }
      fs.writeSync(fd, lines.join('\n') + '\n')
      nrows += chunk.rowCount
    }
  } finally {
    fs.closeSync(fd)
  }
  return nrows
}

function jsonValue(type, v) {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'string':
      return utf8Fatal.decode(v)
    case 'array<string>':
      return v.map((x) => (x === null ? null : utf8Fatal.decode(x)))
    case 'long':
      return String(v)
    case 'date':
      return daysToDate(v)
    case 'timestamp':
      return microsToIso(v)
    case 'double':
      return Number.isFinite(v) ? v : String(v)
    default:
      return v
  }
}

async function checkExpect(con, state, src, readable, expect, rep) {
  const w = 'expect'
  if (!isPlainObject(expect)) {
    rep.error(`${w}: expect.json is not an object`)
    return
  }
  for (const k of Object.keys(expect)) {
    if (!['rows', 'sourceIds', 'distinct', 'rowsBySource'].includes(k)) rep.error(`${w}: unknown key ${show(k)} in expect.json`)
  }
  const total = readable ? readable.reduce((s, f) => s + f.rows, 0) : 0
  if (expect.rows !== undefined && expect.rows !== total) rep.error(`${w}: ${total} rows, expected ${expect.rows}`)
  if (expect.sourceIds !== undefined) {
    if (!Array.isArray(expect.sourceIds)) rep.error(`${w}: sourceIds is not an array`)
    else {
      const have = new Set(state.sourceSeen.keys())
      const want = new Set(expect.sourceIds)
      const missing = [...want].filter((x) => !have.has(x))
      const unexpected = [...have].filter((x) => !want.has(x))
      if (missing.length > 0) rep.error(`${w}: source id(s) not in any commit: ${missing.map(show).join(', ')}`)
      if (unexpected.length > 0) rep.error(`${w}: unexpected source id(s) in the log: ${unexpected.map(show).join(', ')}`)
    }
  }
  if (expect.distinct !== undefined) {
    for (const [col, n] of Object.entries(expect.distinct ?? {})) {
      if (!state.schema.some((c) => c.name === col)) {
        rep.error(`${w}: distinct: no column ${show(col)}`)
        continue
      }
      const got = src ? Number((await con.runAndReadAll(`SELECT count(DISTINCT ${sqlIdent(col)}) FROM ${src}`)).getRows()[0][0]) : 0
      if (got !== n) rep.error(`${w}: ${got} distinct ${col}, expected ${n}`)
    }
  }
  if (expect.rowsBySource !== undefined) {
    const by = await rowsBySource(con, state, Object.keys(expect.rowsBySource ?? {}), rep)
    for (const [id, n] of Object.entries(expect.rowsBySource ?? {})) {
      const got = by.get(id)
      if (got === undefined) rep.error(`${w}: rowsBySource: source id ${show(id)} is not in any commit (expected ${n} rows)`)
      else if (got !== n) rep.error(`${w}: ${got} rows from source ${show(id)}, expected ${n}`)
    }
  }
}

// Rows per source id: the rows of the files of the commit that lists it;
// when a commit lists several sources, its rows are split by file_id.
async function rowsBySource(con, state, ids, rep) {
  const by = new Map()
  const hasFileId = state.schema.some((c) => c.name === 'file_id' && c.type === 'string')
  for (const cm of state.commits) {
    const files = cm.adds.filter((f) => state.live.get(f.decoded) === f && f.rows !== null)
    for (const id of cm.sourceIds) {
      if (!ids.includes(id)) continue
      if (cm.sourceIds.length === 1) {
        by.set(id, (by.get(id) ?? 0) + files.reduce((s, f) => s + f.rows, 0))
      } else if (!hasFileId) {
        rep.error(`expect: rowsBySource: commit ${cm.version} lists ${cm.sourceIds.length} sources and the table has no file_id column to split its rows`)
      } else if (files.length === 0) {
        by.set(id, by.get(id) ?? 0)
      } else {
        const list = `[${files.map((f) => sqlString(f.abs)).join(', ')}]`
        const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${list}, union_by_name = true) WHERE file_id = ${sqlString(id)}`)
        by.set(id, (by.get(id) ?? 0) + Number(r.getRows()[0][0]))
      }
    }
  }
  return by
}

// -------------------------------------------------------------------- main

export async function checkTable(table, opts = {}) {
  const rep = new Report()
  const state = replayLog(table, rep)
  const res = {
    table,
    tableId: state?.tableId ?? null,
    version: state?.version !== undefined ? Number(state.version) : null,
    ncommits: state?.ncommits ?? 0,
    commits: [],
    files: [],
    rows: null,
    schema: state?.schema ?? null,
    sourceIds: state ? [...state.sourceSeen.keys()] : [],
    infos: rep.infos,
    errors: rep.errors,
    ok: false,
  }
  if (state && state.broken) rep.error('the log is not valid: data files not read')
  if (state && !state.broken) {
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' })
    const con = await instance.connect()
    try {
      await con.run("SET TimeZone = 'UTC'")
      const { rows, src, readable } = await readTable(instance, con, state, rep)
      res.rows = rows
      const unread = state.live.size - (readable?.length ?? 0)
      if (opts.expect !== undefined && unread > 0) {
        rep.error(`expect: not checked (${unread} live file(s) could not be read)`)
      } else if (opts.expect !== undefined) {
        await checkExpect(con, state, src, readable, opts.expect, rep)
      }
      if (opts.dump) {
        if (src) res.dumped = await dumpRows(con, state, src, readable, opts.dump)
        else {
          fs.writeFileSync(opts.dump, '')
          res.dumped = 0
        }
      }
    } finally {
      con.closeSync?.()
      instance.closeSync?.()
    }
  } else if (opts.expect !== undefined) {
    rep.error('expect: not checked (the table could not be read)')
  }
  if (state) {
    res.commits = state.commits.map((c) => ({
      version: Number(c.version),
      sourceIds: c.sourceIds,
      adds: c.adds.length,
      removes: c.removes,
      rows: c.adds.reduce((s, f) => s + (f.rows ?? (f.stats?.numRecords != null ? Number(f.stats.numRecords) : 0)), 0),
    }))
    res.files = [...state.live.values()].map((f) => ({
      path: f.path, version: Number(f.version), size: f.size, rows: f.rows,
    }))
  }
  res.ok = rep.errors.length === 0
  return res
}

// For the selftest.
export const _internal = { parseJson, parseDate, parseTimestampStat, microsToIso, daysToDate, checkStatsValue }

function summary(res) {
  const out = []
  out.push(`delta-check: ${res.table}`)
  if (res.version !== null) {
    out.push(`  table id ${res.tableId ?? '?'}; version ${res.version} (${res.ncommits} commits), ${res.files.length} live file(s), ` +
      `${res.rows ?? '?'} row(s), ${res.sourceIds.length} source id(s)`)
  }
  if (res.schema) out.push(`  schema (${res.schema.length} columns): ${schemaText(res.schema)}`)
  for (const c of res.commits) {
    out.push(`  v${c.version}: ${c.adds} add(s)${c.removes ? `, ${c.removes} remove(s)` : ''}, ${c.rows} row(s)` +
      (c.sourceIds.length ? `, sources ${c.sourceIds.join(' ')}` : ''))
  }
  if (res.dumped !== undefined) out.push(`  dumped ${res.dumped} row(s)`)
  for (const m of res.infos) out.push(`  info: ${m}`)
  for (const m of res.errors) out.push(`  ERROR: ${m}`)
  out.push(res.ok ? 'delta-check: OK' : `delta-check: FAILED (${res.errors.length} error(s))`)
  return out.join('\n')
}

function usage(msg) {
  if (msg) process.stderr.write(`delta-check: ${msg}\n`)
  process.stderr.write('usage: node delta-check.mjs <table-dir> [--expect expect.json] [--json] [--dump rows.ndjson] [--quiet]\n')
  process.exit(2)
}

async function main(argv) {
  let table = null
  const opts = {}
  let json = false
  let quiet = false
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]
    if (a === '--json') json = true
    else if (a === '--quiet') quiet = true
    else if (a === '--expect' || a === '--dump') {
      if (k + 1 >= argv.length) usage(`${a} needs a file`)
      const v = argv[++k]
      if (a === '--dump') opts.dump = v
      else {
        try {
          opts.expect = parseJson(fs.readFileSync(v, 'utf8'))
        } catch (e) {
          usage(`--expect ${v}: ${e.message}`)
        }
      }
    } else if (a === '-h' || a === '--help') usage()
    else if (a.startsWith('-')) usage(`unknown option ${a}`)
    else if (table === null) table = a
    else usage('one table at a time')
  }
  if (table === null) usage()
  const res = await checkTable(table, opts)
  if (json) process.stdout.write(JSON.stringify(res, (k, x) => (typeof x === 'bigint' ? String(x) : x), 1) + '\n')
  else if (!quiet || !res.ok) process.stdout.write(summary(res) + '\n')
  return res.ok ? 0 : 1
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((rc) => {
    process.exitCode = rc
  }, (e) => {
    process.stderr.write(`delta-check: internal error: ${e.stack ?? e}\n`)
    process.exitCode = 2
  })
}

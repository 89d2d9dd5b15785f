#!/usr/bin/env node
// check.mjs <dir> [case-name-substring]
//
// For every <case>.expect.json that tests/interop/gen wrote into <dir>, read
// <case>.parquet with independent readers and compare everything with the
// expectation:
//
//   footer    a strict Thrift compact decoder of our own (field types and
//             required fields checked): schema (physical, converted and
//             logical types, repetition, the three-level list), row groups,
//             column chunks, codec, column_orders, created_by; every page
//             header walked, every page decompressed (gzip with node:zlib)
//             and its levels and values decoded far enough to check sizes,
//             counts and dictionary indices; statistics of every chunk.
//   duckdb    @duckdb/node-api: read_parquet (column types and every value),
//             parquet_schema, parquet_metadata (statistics, exactness),
//             parquet_file_metadata, and WHERE col = min/max counts (which
//             go through DuckDB's use of the statistics).
//   hyparquet hyparquet + hyparquet-compressors: every value.
//
// Statistics are recomputed here from the expected rows and the row-group
// sizes in the file: null_count; min and max of the non-null values (NaN
// left out, a zero min written -0.0 and a zero max +0.0); strings compared
// as UTF-8 bytes, the min cut to stats_bytes at a character boundary, the
// max, when longer than stats_bytes, cut the same way with its last
// character replaced by the next code point (trailing U+10FFFF dropped
// first; if the cut is empty, its first character kept; no min and max at
// all if no such bound exists), exactness flags saying which.  The file
// statistics pw_pq_close() returned (in expect.json) must equal the same
// computation over all rows and the combination of the row groups'.
//
// One line per case; on a mismatch, the case, reader, row, column,
// expected and got.  Exit status 1 if anything failed.

import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import { parquetMetadata, parquetRead } from 'hyparquet'
import { compressors, decompressZstd } from 'hyparquet-compressors'

const MAX_DIFFS = 12 // per case and reader

// ---------------------------------------------------------------- helpers

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function show(v) {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'string') {
    if (v.length <= 80) return JSON.stringify(v)
    return `${JSON.stringify(v.slice(0, 40))}...${JSON.stringify(v.slice(-24))} (${Buffer.byteLength(v)} bytes)`
  }
  if (v instanceof Uint8Array) {
    const hex = (b) => Buffer.from(b).toString('hex')
    if (v.length <= 48) return `0x${hex(v)}`
    return `0x${hex(v.subarray(0, 16))}...${hex(v.subarray(v.length - 16))} (${v.length} bytes)`
  }
  if (Array.isArray(v)) {
    const items = v.slice(0, 8).map(show).join(', ')
    return `[${items}${v.length > 8 ? `, ... (${v.length} items)` : ''}]`
  }
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x))
    } catch {
      return String(v)
    }
  }
  return String(v)
}

function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`
}

function sqlIdent(s) {
  return `"${s.replaceAll('"', '""')}"`
}

// Code point order, which is UTF-8 byte order (JS compares UTF-16 units).
function cmpStr(a, b) {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff
      const ys = y >= 0xd800 && y <= 0xdfff
      if (xs !== ys) return xs ? 1 : -1
      return x < y ? -1 : 1
    }
  }
  return a.length - b.length
}

function cmpBytes(a, b) {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

function bytesEqual(a, b) {
  return a.length === b.length && cmpBytes(a, b) === 0
}

// The longest prefix of UTF-8 bytes b no longer than n that ends on a
// character boundary.
function cutUtf8(b, n) {
  if (b.length <= n) return b
  let k = n
  while (k > 0 && (b[k] & 0xc0) === 0x80) k--
  return b.subarray(0, k)
}

function charLen(lead) {
  return lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4
}

// The smallest string above every string that starts with b: its last code
// point incremented (skipping surrogates), trailing U+10FFFF dropped first.
function successor(b) {
  const cps = Array.from(Buffer.from(b).toString('utf8'), (c) => c.codePointAt(0))
  while (cps.length > 0) {
    const cp = cps.pop()
    if (cp < 0x10ffff) {
      cps.push(cp === 0xd7ff ? 0xe000 : cp + 1)
      return Buffer.from(String.fromCodePoint(...cps), 'utf8')
    }
  }
  return null
}

// ------------------------------------------------------------ the expectation

const TYPES = ['string', 'long', 'integer', 'date', 'timestamp', 'double', 'boolean', 'string_list']

function decodeValue(type, v, where) {
  if (v === null) return null
  const bad = () => {
    throw new Error(`expect.json: ${where}: ${show(v)} is not a ${type}`)
  }
  switch (type) {
    case 'string':
      if (typeof v !== 'string') bad()
      return v
    case 'long':
    case 'timestamp':
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) bad()
      return BigInt(v)
    case 'integer':
    case 'date': {
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) bad()
      const n = Number(v)
      if (!Number.isSafeInteger(n) || n < -2147483648 || n > 2147483647) bad()
      return n
    }
    case 'double':
      if (typeof v === 'number') return v
      if (v === 'NaN') return NaN
      if (v === 'Infinity') return Infinity
      if (v === '-Infinity') return -Infinity
      if (v === '-0') return -0
      return bad()
    case 'boolean':
      if (typeof v !== 'boolean') bad()
      return v
    case 'string_list':
      if (!Array.isArray(v) || v.some((x) => x !== null && typeof x !== 'string')) bad()
      return v
  }
  return bad()
}

// xorshift32, as in gen.c.
function makeRng(seed) {
  let x = seed >>> 0
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

// The rows of gen.c's case_big(), column by column.
function generateBig(g, columns) {
  const n = g.rows
  const next = makeRng(g.seed)
  const names = columns.map((c) => c.name).join(',')
  if (names !== 'id,r,k,u,x,b,t,d') throw new Error(`generator big: unexpected columns ${names}`)
  const cols = columns.map(() => new Array(n))
  const [id, r, k, u, x, b, t, d] = cols
  const u32 = new Uint32Array(2)
  const i64 = new BigInt64Array(u32.buffer)
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
  for (let i = 0; i < n; i++) {
    id[i] = BigInt(i)
    let a = next()
    if (a % 16 === 0) r[i] = null
    else {
      const hi = next()
      const lo = next()
      u32[le ? 1 : 0] = hi
      u32[le ? 0 : 1] = lo
      r[i] = i64[0] // int64(hi << 32 | lo)
    }
    a = next()
    k[i] = a % 11 === 0 ? null : `key-${next() % 2000}`
    a = next()
    u[i] = `u${a.toString(16).padStart(8, '0')}-${i}`
    a = next()
    if (a % 13 === 0) x[i] = null
    else {
      const h = next()
      const l = next()
      let f = (h >>> 5) * 67108864
      f += l >>> 6
      f /= 9007199254740992
      f *= 2e9
      f -= 1e9
      x[i] = f
    }
    a = next()
    b[i] = a % 5 === 0 ? null : ((a >>> 8) & 1) === 1
    a = next()
    if (a % 7 === 0) t[i] = null
    else {
      const s = next() | 0
      const us = next() % 1000000
      t[i] = BigInt(s * 1000000 + us) // exact: |s * 1e6 + us| < 2^53
    }
    d[i] = (next() % 200000) - 100000
  }
  return cols
}

function loadExpectation(file) {
  const exp = JSON.parse(fs.readFileSync(file, 'utf8'))
  for (const c of exp.columns) {
    if (!TYPES.includes(c.type)) throw new Error(`expect.json: column ${c.name}: unknown type ${c.type}`)
  }
  let cols
  if (exp.generator) {
    if (exp.generator.name !== 'big') throw new Error(`unknown generator ${exp.generator.name}`)
    cols = generateBig(exp.generator, exp.columns)
  } else {
    cols = exp.columns.map(() => new Array(exp.rows.length))
    exp.rows.forEach((row, i) => {
      if (row.length !== exp.columns.length) throw new Error(`expect.json: row ${i} has ${row.length} values`)
      exp.columns.forEach((c, j) => {
        cols[j][i] = decodeValue(c.type, row[j], `row ${i}, column ${c.name}`)
      })
    })
  }
  exp.nrows = Number(exp.num_rows)
  if (cols.some((c) => c.length !== exp.nrows)) throw new Error('expect.json: num_rows does not match the rows')
  exp.cols = cols
  exp.rows = undefined
  exp.statsBytes = exp.options.stats_bytes
  return exp
}

// ---------------------------------------------------------------- a report

class Report {
  constructor(name) {
    this.name = name
    this.problems = []
    this.warnings = []
    this.counts = new Map()
  }

  fail(reader, msg) {
    const n = (this.counts.get(reader) ?? 0) + 1
    this.counts.set(reader, n)
    if (n <= MAX_DIFFS) this.problems.push(`[${reader}] ${msg}`)
    else if (n === MAX_DIFFS + 1) this.problems.push(`[${reader}] ... (more differences not shown)`)
  }

  warn(reader, msg) {
    this.warnings.push(`[${reader}] ${msg}`)
  }

  get failed() {
    return this.counts.size > 0
  }
}

function same(type, a, b) {
  if (a === null || b === null) return a === b
  if (type === 'double') return typeof b === 'number' && Object.is(a, b)
  if (type === 'string_list') {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  return a === b
}

// Compare got[0..] with expected rows from..from+got.length of column j.
function compareSlice(rep, reader, exp, j, from, got, norm = (v) => v) {
  const c = exp.columns[j]
  const want = exp.cols[j]
  const n = Math.min(got.length, want.length - from)
  for (let i = 0; i < n; i++) {
    const w = want[from + i]
    const g = norm(got[i])
    if (!same(c.type, w, g)) {
      rep.fail(reader, `row ${from + i}, column ${show(c.name)} (${c.type}): expected ${show(w)}, got ${show(g)}`)
    }
  }
  return from + got.length
}

function compareColumn(rep, reader, exp, j, got) {
  const c = exp.columns[j]
  const want = exp.cols[j]
  if (got.length !== want.length) {
    rep.fail(reader, `column ${show(c.name)}: ${got.length} values, expected ${want.length}`)
  }
  const n = Math.min(got.length, want.length)
  for (let i = 0; i < n; i++) {
    if (!same(c.type, want[i], got[i])) {
      rep.fail(reader, `row ${i}, column ${show(c.name)} (${c.type}): expected ${show(want[i])}, got ${show(got[i])}`)
    }
  }
}

// ------------------------------------------------ a strict Thrift compact decoder

const T = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 }
const TNAME = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]))

class ThriftReader {
  constructor(bytes, offset) {
    this.b = bytes
    this.o = offset
  }

  byte() {
    if (this.o >= this.b.length) throw new Error('thrift: past the end of the data')
    return this.b[this.o++]
  }

  varint() {
    let r = 0n
    let shift = 0n
    for (;;) {
      const x = this.byte()
      r |= BigInt(x & 0x7f) << shift
      if (!(x & 0x80)) return r
      shift += 7n
      if (shift > 63n) throw new Error('thrift: varint too long')
    }
  }

  zigzag() {
    const u = this.varint()
    return (u >> 1n) ^ -(u & 1n)
  }

  value(type, inList) {
    switch (type) {
      case T.TRUE:
        return inList ? this.byte() === 1 : true
      case T.FALSE:
        return inList ? this.byte() === 1 : false
      case T.BYTE:
        return (this.byte() << 24) >> 24
      case T.I16:
      case T.I32:
        return Number(this.zigzag())
      case T.I64:
        return this.zigzag()
      case T.DOUBLE: {
        if (this.o + 8 > this.b.length) throw new Error('thrift: double past the end')
        const v = Buffer.from(this.b.buffer, this.b.byteOffset + this.o, 8).readDoubleLE(0)
        this.o += 8
        return v
      }
      case T.BINARY: {
        const n = Number(this.varint())
        if (this.o + n > this.b.length) throw new Error(`thrift: binary of ${n} bytes past the end`)
        const v = this.b.subarray(this.o, this.o + n)
        this.o += n
        return v
      }
      case T.LIST:
      case T.SET: {
        const h = this.byte()
        let n = h >> 4
        const et = h & 15
        if (n === 15) n = Number(this.varint())
        const items = []
        for (let i = 0; i < n; i++) items.push(this.value(et, true))
        return { listType: et, items }
      }
      case T.STRUCT:
        return this.struct()
      default:
        throw new Error(`thrift: unexpected type ${type} (${TNAME[type] ?? '?'})`)
    }
  }

  // A struct: Map field id -> { t: wire type, v }; duplicates are errors.
  struct() {
    const fields = new Map()
    let last = 0
    for (;;) {
      const h = this.byte()
      const type = h & 15
      if (type === T.STOP) {
        if (h !== 0) throw new Error(`thrift: stop byte 0x${h.toString(16)}`)
        return fields
      }
      const delta = h >> 4
      const id = delta ? last + delta : Number(this.zigzag())
      if (fields.has(id)) throw new Error(`thrift: field ${id} appears twice`)
      const t = type === T.FALSE ? T.TRUE : type
      fields.set(id, { t, v: this.value(type, false) })
      last = id
    }
  }
}

// Typed access: spec maps field id -> [name, wire type, required, elemType].
const B = T.TRUE // booleans
const SPEC = {
  FileMetaData: { 1: ['version', T.I32, true], 2: ['schema', T.LIST, true, T.STRUCT], 3: ['num_rows', T.I64, true], 4: ['row_groups', T.LIST, true, T.STRUCT], 5: ['key_value_metadata', T.LIST, false, T.STRUCT], 6: ['created_by', T.BINARY, false], 7: ['column_orders', T.LIST, false, T.STRUCT] },
  SchemaElement: { 1: ['type', T.I32, false], 2: ['type_length', T.I32, false], 3: ['repetition_type', T.I32, false], 4: ['name', T.BINARY, true], 5: ['num_children', T.I32, false], 6: ['converted_type', T.I32, false], 7: ['scale', T.I32, false], 8: ['precision', T.I32, false], 9: ['field_id', T.I32, false], 10: ['logicalType', T.STRUCT, false] },
  RowGroup: { 1: ['columns', T.LIST, true, T.STRUCT], 2: ['total_byte_size', T.I64, true], 3: ['num_rows', T.I64, true], 4: ['sorting_columns', T.LIST, false, T.STRUCT], 5: ['file_offset', T.I64, false], 6: ['total_compressed_size', T.I64, false], 7: ['ordinal', T.I16, false] },
  ColumnChunk: { 1: ['file_path', T.BINARY, false], 2: ['file_offset', T.I64, true], 3: ['meta_data', T.STRUCT, false], 4: ['offset_index_offset', T.I64, false], 5: ['offset_index_length', T.I32, false], 6: ['column_index_offset', T.I64, false], 7: ['column_index_length', T.I32, false] },
  ColumnMetaData: { 1: ['type', T.I32, true], 2: ['encodings', T.LIST, true, T.I32], 3: ['path_in_schema', T.LIST, true, T.BINARY], 4: ['codec', T.I32, true], 5: ['num_values', T.I64, true], 6: ['total_uncompressed_size', T.I64, true], 7: ['total_compressed_size', T.I64, true], 8: ['key_value_metadata', T.LIST, false, T.STRUCT], 9: ['data_page_offset', T.I64, true], 10: ['index_page_offset', T.I64, false], 11: ['dictionary_page_offset', T.I64, false], 12: ['statistics', T.STRUCT, false], 13: ['encoding_stats', T.LIST, false, T.STRUCT], 14: ['bloom_filter_offset', T.I64, false], 15: ['bloom_filter_length', T.I32, false], 16: ['size_statistics', T.STRUCT, false] },
  Statistics: { 1: ['max', T.BINARY, false], 2: ['min', T.BINARY, false], 3: ['null_count', T.I64, false], 4: ['distinct_count', T.I64, false], 5: ['max_value', T.BINARY, false], 6: ['min_value', T.BINARY, false], 7: ['is_max_value_exact', B, false], 8: ['is_min_value_exact', B, false] },
  PageHeader: { 1: ['type', T.I32, true], 2: ['uncompressed_page_size', T.I32, true], 3: ['compressed_page_size', T.I32, true], 4: ['crc', T.I32, false], 5: ['data_page_header', T.STRUCT, false], 6: ['index_page_header', T.STRUCT, false], 7: ['dictionary_page_header', T.STRUCT, false], 8: ['data_page_header_v2', T.STRUCT, false] },
  DataPageHeader: { 1: ['num_values', T.I32, true], 2: ['encoding', T.I32, true], 3: ['definition_level_encoding', T.I32, true], 4: ['repetition_level_encoding', T.I32, true], 5: ['statistics', T.STRUCT, false] },
  PageEncodingStats: { 1: ['page_type', T.I32, true], 2: ['encoding', T.I32, true], 3: ['count', T.I32, true] },
  DictionaryPageHeader: { 1: ['num_values', T.I32, true], 2: ['encoding', T.I32, true], 3: ['is_sorted', B, false] },
  LogicalType: { 1: ['STRING', T.STRUCT], 2: ['MAP', T.STRUCT], 3: ['LIST', T.STRUCT], 4: ['ENUM', T.STRUCT], 5: ['DECIMAL', T.STRUCT], 6: ['DATE', T.STRUCT], 7: ['TIME', T.STRUCT], 8: ['TIMESTAMP', T.STRUCT], 10: ['INTEGER', T.STRUCT], 11: ['UNKNOWN', T.STRUCT], 12: ['JSON', T.STRUCT], 13: ['BSON', T.STRUCT], 14: ['UUID', T.STRUCT] },
  TimestampType: { 1: ['isAdjustedToUTC', B, true], 2: ['unit', T.STRUCT, true] },
  TimeUnit: { 1: ['MILLIS', T.STRUCT], 2: ['MICROS', T.STRUCT], 3: ['NANOS', T.STRUCT] },
  IntType: { 1: ['bitWidth', T.BYTE, true], 2: ['isSigned', B, true] },
  ColumnOrder: { 1: ['TYPE_ORDER', T.STRUCT] },
}

// Turn a raw struct into a plain object by its spec, checking wire types
// and required fields; problems go to errs.
function typed(raw, specName, errs, where) {
  const spec = SPEC[specName]
  const out = {}
  for (const [id, { t, v }] of raw) {
    const f = spec[id]
    if (!f) {
      errs.push(`${where}: ${specName} has unknown field ${id} (${TNAME[t]})`)
      continue
    }
    const [name, wt, , et] = f
    if (t !== wt) {
      errs.push(`${where}: ${specName}.${name} (field ${id}) has wire type ${TNAME[t]}, expected ${TNAME[wt]}`)
      // Go on with the value where it converts, to find more problems.
      const ints = [T.BYTE, T.I16, T.I32]
      if (wt === T.I64 && ints.includes(t)) out[name] = BigInt(v)
      else if (ints.includes(wt) && (ints.includes(t) || t === T.I64)) out[name] = Number(v)
      continue
    }
    if (wt === T.LIST) {
      if (v.items.length > 0 && v.listType !== et && !(et === B && v.listType === T.FALSE)) {
        errs.push(`${where}: ${specName}.${name} is a list of ${TNAME[v.listType]}, expected ${TNAME[et]}`)
        continue
      }
      out[name] = v.items
    } else {
      out[name] = v
    }
    if ((wt === T.I32 || wt === T.I16) && (v < -2147483648 || v > 2147483647)) {
      errs.push(`${where}: ${specName}.${name} = ${v} does not fit its type`)
    }
  }
  for (const [id, [name, , required]] of Object.entries(spec)) {
    if (required && !(name in out) && !raw.has(Number(id))) errs.push(`${where}: ${specName} lacks required field ${name} (${id})`)
  }
  if (specName === 'LogicalType' || specName === 'TimeUnit' || specName === 'ColumnOrder') {
    if (raw.size !== 1) errs.push(`${where}: ${specName} union has ${raw.size} fields set`)
  }
  return out
}

// ------------------------------------------------------------------ the footer

const PHYS = { 0: 'BOOLEAN', 1: 'INT32', 2: 'INT64', 3: 'INT96', 4: 'FLOAT', 5: 'DOUBLE', 6: 'BYTE_ARRAY', 7: 'FIXED_LEN_BYTE_ARRAY' }
const ENC = { 0: 'PLAIN', 2: 'PLAIN_DICTIONARY', 3: 'RLE', 4: 'BIT_PACKED', 5: 'DELTA_BINARY_PACKED', 6: 'DELTA_LENGTH_BYTE_ARRAY', 7: 'DELTA_BYTE_ARRAY', 8: 'RLE_DICTIONARY', 9: 'BYTE_STREAM_SPLIT' }
const CODEC = { none: 0, snappy: 1, gzip: 2, zstd: 6 }
const CODEC_DUCK = { 0: 'UNCOMPRESSED', 1: 'SNAPPY', 2: 'GZIP', 6: 'ZSTD' }
const PHYS_OF = { string: 6, string_list: 6, long: 2, timestamp: 2, integer: 1, date: 1, double: 5, boolean: 0 }

function leafInfo(c) {
  // max definition / repetition levels of the leaf
  if (c.type === 'string_list') return { maxDef: c.required ? 2 : 3, maxRep: 1, path: [c.name, 'list', 'element'] }
  return { maxDef: c.required ? 0 : 1, maxRep: 0, path: [c.name] }
}

function dec(b) {
  try {
    return utf8Fatal.decode(b)
  } catch {
    return `<not UTF-8: ${show(b)}>`
  }
}

function checkSchema(rep, exp, schema) {
  const R = 'footer'
  const el = schema.map((s) => s)
  const root = el[0]
  if (root === undefined) return rep.fail(R, 'empty schema')
  if (root.type !== undefined) rep.fail(R, `the schema root has a physical type ${root.type}`)
  if (root.num_children !== exp.columns.length) rep.fail(R, `the schema root has ${root.num_children} children, expected ${exp.columns.length}`)
  let k = 1
  const want = (cond, what) => {
    if (!cond) rep.fail(R, what)
  }
  const logical = (s) => (s.logicalType ? Object.keys(s.logicalType)[0] : undefined)
  for (const c of exp.columns) {
    const s = el[k++]
    const where = `schema of column ${show(c.name)}`
    if (!s) return rep.fail(R, `${where}: missing`)
    want(dec(s.name) === c.name, `${where}: name is ${show(dec(s.name))}`)
    want(s.repetition_type === (c.required ? 0 : 1), `${where}: repetition_type ${s.repetition_type}, expected ${c.required ? 'REQUIRED (0)' : 'OPTIONAL (1)'}`)
    if (c.type === 'string_list') {
      want(s.type === undefined, `${where}: the list group has a physical type`)
      want(s.num_children === 1, `${where}: the list group has ${s.num_children} children`)
      want(s.converted_type === 3, `${where}: converted_type ${s.converted_type}, expected LIST (3)`)
      want(logical(s) === 'LIST', `${where}: logicalType ${logical(s)}, expected LIST`)
      const l = el[k++]
      const e = el[k++]
      if (!l || !e) return rep.fail(R, `${where}: the list has no repeated group or element`)
      want(dec(l.name) === 'list', `${where}: the repeated group is named ${show(dec(l.name))}, expected "list"`)
      want(l.repetition_type === 2, `${where}: the repeated group has repetition_type ${l.repetition_type}`)
      want(l.type === undefined && l.num_children === 1, `${where}: the repeated group is not a group of one`)
      want(l.converted_type === undefined && l.logicalType === undefined, `${where}: the repeated group is annotated`)
      want(dec(e.name) === 'element', `${where}: the element is named ${show(dec(e.name))}, expected "element"`)
      want(e.repetition_type === 1, `${where}: the element has repetition_type ${e.repetition_type}, expected OPTIONAL`)
      want(e.type === 6, `${where}: the element has physical type ${PHYS[e.type]}`)
      want(e.converted_type === 0, `${where}: the element has converted_type ${e.converted_type}, expected UTF8 (0)`)
      want(logical(e) === 'STRING', `${where}: the element has logicalType ${logical(e)}, expected STRING`)
      want(e.num_children === undefined, `${where}: the element has children`)
      continue
    }
    want(s.type === PHYS_OF[c.type], `${where}: physical type ${PHYS[s.type]}, expected ${PHYS[PHYS_OF[c.type]]}`)
    want(s.num_children === undefined, `${where}: a leaf with num_children`)
    const lt = logical(s)
    switch (c.type) {
      case 'string':
        want(s.converted_type === 0, `${where}: converted_type ${s.converted_type}, expected UTF8 (0)`)
        want(lt === 'STRING', `${where}: logicalType ${lt}, expected STRING`)
        break
      case 'long':
      case 'integer': {
        const bits = c.type === 'long' ? 64 : 32
        want(s.converted_type === undefined || s.converted_type === (bits === 64 ? 18 : 17), `${where}: converted_type ${s.converted_type}`)
        if (lt !== undefined) {
          const it = s.logicalType.INTEGER
          want(lt === 'INTEGER' && it && it.bitWidth === bits && it.isSigned === true, `${where}: logicalType ${show(s.logicalType)}`)
        }
        break
      }
      case 'date':
        want(s.converted_type === 6, `${where}: converted_type ${s.converted_type}, expected DATE (6)`)
        want(lt === 'DATE', `${where}: logicalType ${lt}, expected DATE`)
        break
      case 'timestamp': {
        want(s.converted_type === 10, `${where}: converted_type ${s.converted_type}, expected TIMESTAMP_MICROS (10)`)
        const ts = s.logicalType?.TIMESTAMP
        want(lt === 'TIMESTAMP' && ts && ts.isAdjustedToUTC === true && ts.unit && Object.keys(ts.unit)[0] === 'MICROS',
          `${where}: logicalType ${show(s.logicalType)}, expected TIMESTAMP(isAdjustedToUTC=true, MICROS)`)
        break
      }
      default:
        want(s.converted_type === undefined && lt === undefined, `${where}: annotated (${s.converted_type}, ${lt})`)
    }
  }
  if (k !== el.length) rep.fail(R, `the schema has ${el.length - k} extra elements`)
}

// Decode the footer strictly: returns { md, errs } with typed sub-structs.
function decodeFooter(bytes) {
  const errs = []
  const n = bytes.length
  if (n < 12) throw new Error(`file of ${n} bytes is too short`)
  const head = Buffer.from(bytes.subarray(0, 4)).toString('latin1')
  const tail = Buffer.from(bytes.subarray(n - 4)).toString('latin1')
  if (head !== 'PAR1' || tail !== 'PAR1') throw new Error(`magic ${show(head)} ... ${show(tail)}`)
  const len = Buffer.from(bytes.buffer, bytes.byteOffset + n - 8, 4).readUInt32LE(0)
  const start = n - 8 - len
  if (start < 4) throw new Error(`footer length ${len} is past the start of the file`)
  const tr = new ThriftReader(bytes.subarray(0, n - 8), start)
  const raw = tr.struct()
  if (tr.o !== n - 8) errs.push(`the footer ends at ${tr.o}, ${n - 8 - tr.o} bytes before its length field`)
  const md = typed(raw, 'FileMetaData', errs, 'footer')
  md.footerStart = start
  md.schema = (md.schema ?? []).map((s, i) => {
    const e = typed(s, 'SchemaElement', errs, `schema[${i}]`)
    if (e.logicalType) {
      const lraw = e.logicalType
      e.logicalType = typed(lraw, 'LogicalType', errs, `schema[${i}].logicalType`)
      if (e.logicalType.TIMESTAMP) {
        const t = typed(e.logicalType.TIMESTAMP, 'TimestampType', errs, `schema[${i}].TIMESTAMP`)
        if (t.unit) t.unit = typed(t.unit, 'TimeUnit', errs, `schema[${i}].TIMESTAMP.unit`)
        e.logicalType.TIMESTAMP = t
      }
      if (e.logicalType.INTEGER) e.logicalType.INTEGER = typed(e.logicalType.INTEGER, 'IntType', errs, `schema[${i}].INTEGER`)
    }
    return e
  })
  md.row_groups = (md.row_groups ?? []).map((rg, g) => {
    const r = typed(rg, 'RowGroup', errs, `row group ${g}`)
    r.columns = (r.columns ?? []).map((cc, j) => {
      const c = typed(cc, 'ColumnChunk', errs, `row group ${g} column ${j}`)
      if (c.meta_data) {
        c.meta_data = typed(c.meta_data, 'ColumnMetaData', errs, `row group ${g} column ${j}`)
        if (c.meta_data.statistics) c.meta_data.statistics = typed(c.meta_data.statistics, 'Statistics', errs, `row group ${g} column ${j} statistics`)
      }
      return c
    })
    return r
  })
  md.column_orders = md.column_orders?.map((o, i) => typed(o, 'ColumnOrder', errs, `column_orders[${i}]`))
  return { md, errs }
}

// ------------------------------------------------------------------- pages

function readLE32(b, o) {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)
}

// RLE / bit-packed hybrid: decode `count` values of `width` bits from
// b[pos..end).  Returns the values (Uint32Array) or throws.
function decodeHybrid(b, pos, end, width, count) {
  const out = new Uint32Array(count)
  let n = 0
  const vbytes = (width + 7) >> 3
  while (n < count) {
    if (pos >= end) throw new Error(`RLE data ends after ${n} of ${count} values`)
    let h = 0
    let shift = 0
    for (;;) {
      const x = b[pos++]
      h += (x & 0x7f) * 2 ** shift
      if (!(x & 0x80)) break
      shift += 7
      if (pos >= end) throw new Error('RLE run header past the end')
    }
    if (h % 2 === 0) {
      const run = h / 2
      if (run === 0) throw new Error('RLE run of length 0')
      let v = 0
      for (let i = 0; i < vbytes; i++) v += b[pos + i] * 2 ** (8 * i)
      pos += vbytes
      if (pos > end) throw new Error('RLE run value past the end')
      if (width < 32 && v >= 2 ** width) throw new Error(`RLE value ${v} wider than ${width} bits`)
      if (n + run > count) throw new Error(`RLE run of ${run} passes the ${count} values expected`)
      out.fill(v, n, n + run)
      n += run
    } else {
      const groups = (h - 1) / 2
      const nbytes = groups * width
      if (groups === 0) throw new Error('bit-packed run of 0 groups')
      if (pos + nbytes > end) throw new Error(`bit-packed run of ${groups} groups past the end`)
      const total = groups * 8
      const mask = width === 32 ? 0xffffffff : 2 ** width - 1
      for (let i = 0; i < total && n < count; i++) {
        // the rest of the last group is padding
        const at = i * width
        const q = pos + (at >> 3)
        const word = (b[q] | (b[q + 1] << 8) | (b[q + 2] << 16) | (b[q + 3] << 24)) >>> 0
        let v
        if (width + (at & 7) <= 32) v = (word >>> (at & 7)) & mask
        else v = ((word >>> (at & 7)) + b[q + 4] * 2 ** (32 - (at & 7))) % 2 ** width
        out[n++] = v >>> 0
      }
      pos += nbytes
    }
  }
  return { values: out, pos }
}

// Decompress a page body without trusting its header's size where the
// format says the size itself: snappy's preamble, zstd's frames.
function decompress(codec, body, size) {
  switch (codec) {
    case 0:
      return body
    case 1: {
      let len = 0
      let shift = 0
      let i = 0
      for (; i < 5; i++) {
        len += (body[i] & 0x7f) * 2 ** shift
        if (!(body[i] & 0x80)) break
        shift += 7
      }
      if (len !== size) throw new Error(`snappy preamble says ${len} bytes, the page header ${size}`)
      return compressors.SNAPPY(body, size)
    }
    case 2:
      return new Uint8Array(zlib.gunzipSync(body)) // RFC 1952 framing, not raw zlib
    case 6:
      return decompressZstd(body)
    default:
      throw new Error(`codec ${codec}`)
  }
}

const PAGE_DATA = 0
const PAGE_DICT = 2

// Walk one column chunk's pages.  Returns a summary used by the checks.
function walkChunk(rep, bytes, md, g, j, c, cm) {
  const R = 'footer'
  const where = `row group ${g}, column ${show(c.name)}`
  const { maxDef, maxRep } = leafInfo(c)
  const start = Number(cm.dictionary_page_offset ?? cm.data_page_offset)
  const end = start + Number(cm.total_compressed_size)
  const sum = { dictPages: 0, dataPages: 0, plainPages: 0, dictDataPages: 0, dictSize: 0, levels: 0, values: 0, rows: 0, encodings: new Set(), pageEncodings: new Map(), start, end }
  const countPage = (type, enc) => {
    const k = `${type}:${enc}`
    sum.pageEncodings.set(k, (sum.pageEncodings.get(k) ?? 0) + 1)
  }
  if (cm.dictionary_page_offset !== undefined && cm.dictionary_page_offset >= cm.data_page_offset) {
    rep.fail(R, `${where}: dictionary_page_offset ${cm.dictionary_page_offset} is not before data_page_offset ${cm.data_page_offset}`)
  }
  if (start < 4 || end > md.footerStart) {
    rep.fail(R, `${where}: chunk [${start}, ${end}) is outside the data area [4, ${md.footerStart})`)
    return sum
  }
  let o = start
  let comp = 0
  let raw = 0
  let first = true
  while (o < end) {
    const pageAt = o
    const tr = new ThriftReader(bytes.subarray(0, end), o)
    let ph
    const errs = []
    try {
      ph = typed(tr.struct(), 'PageHeader', errs, `${where}, page at ${pageAt}`)
    } catch (e) {
      rep.fail(R, `${where}: page header at ${pageAt}: ${e.message}`)
      return sum
    }
    for (const e of errs) rep.fail(R, e)
    const hlen = tr.o - pageAt
    const csize = ph.compressed_page_size
    const usize = ph.uncompressed_page_size
    if (!(csize >= 0) || !(usize >= 0) || tr.o + csize > end) {
      rep.fail(R, `${where}: page at ${pageAt}: compressed size ${csize} runs past the chunk end ${end}`)
      return sum
    }
    comp += hlen + csize
    raw += hlen + usize
    const body = bytes.subarray(tr.o, tr.o + csize)
    o = tr.o + csize
    let page
    try {
      page = decompress(cm.codec, body, usize)
    } catch (e) {
      rep.fail(R, `${where}: page at ${pageAt}: cannot decompress ${csize} bytes: ${e.message}`)
      continue
    }
    if (page.length !== usize) {
      rep.fail(R, `${where}: page at ${pageAt}: decompresses to ${page.length} bytes, its header says ${usize}`)
      continue
    }
    if (ph.type === PAGE_DICT) {
      if (!first) rep.fail(R, `${where}: a dictionary page at ${pageAt} is not the chunk's first page`)
      if (pageAt !== Number(cm.dictionary_page_offset)) rep.fail(R, `${where}: a dictionary page at ${pageAt} but dictionary_page_offset is ${cm.dictionary_page_offset}`)
      const dh = ph.dictionary_page_header && typed(ph.dictionary_page_header, 'DictionaryPageHeader', [], '')
      if (!dh) {
        rep.fail(R, `${where}: a dictionary page without a dictionary_page_header`)
        continue
      }
      if (dh.encoding !== 0 && dh.encoding !== 2) rep.fail(R, `${where}: dictionary page encoding ${ENC[dh.encoding]}`)
      sum.encodings.add(dh.encoding)
      countPage(PAGE_DICT, dh.encoding)
      sum.dictPages++
      sum.dictSize = dh.num_values
      if (PHYS_OF[c.type] === 6) {
        // PLAIN byte arrays, exactly num_values of them, each UTF-8
        let p = 0
        let k = 0
        const seen = new Set()
        while (p < page.length) {
          if (p + 4 > page.length) break
          const len = readLE32(page, p)
          p += 4
          if (len < 0 || p + len > page.length) {
            rep.fail(R, `${where}: dictionary entry ${k} of ${len} bytes runs past the page`)
            break
          }
          const s = page.subarray(p, p + len)
          try {
            seen.add(utf8Fatal.decode(s))
          } catch {
            rep.fail(R, `${where}: dictionary entry ${k} is not UTF-8: ${show(s)}`)
          }
          p += len
          k++
        }
        if (p !== page.length || k !== dh.num_values) rep.fail(R, `${where}: the dictionary page holds ${k} entries in ${p} of ${page.length} bytes, its header says ${dh.num_values}`)
        if (seen.size !== k) rep.warn(R, `${where}: the dictionary has ${k - seen.size} duplicate entries`)
      }
      first = false
      continue
    }
    if (ph.type !== PAGE_DATA) {
      rep.fail(R, `${where}: page at ${pageAt} has type ${ph.type}, expected DATA_PAGE (0)`)
      continue
    }
    if (first && pageAt !== Number(cm.data_page_offset)) rep.fail(R, `${where}: the first data page is at ${pageAt}, data_page_offset says ${cm.data_page_offset}`)
    first = false
    const dh = ph.data_page_header && typed(ph.data_page_header, 'DataPageHeader', [], '')
    if (!dh) {
      rep.fail(R, `${where}: a data page without a data_page_header`)
      continue
    }
    sum.dataPages++
    sum.encodings.add(dh.encoding)
    countPage(PAGE_DATA, dh.encoding)
    if (dh.encoding === 0) sum.plainPages++
    else if (dh.encoding === 8 || dh.encoding === 2) sum.dictDataPages++
    else rep.fail(R, `${where}: data page encoding ${ENC[dh.encoding] ?? dh.encoding}`)
    if ((dh.encoding === 8 || dh.encoding === 2) && sum.dictPages === 0) rep.fail(R, `${where}: a dictionary-encoded page with no dictionary page`)
    if (dh.definition_level_encoding !== 3 || dh.repetition_level_encoding !== 3) {
      rep.fail(R, `${where}: level encodings ${ENC[dh.definition_level_encoding]}/${ENC[dh.repetition_level_encoding]}, expected RLE`)
    }
    const nv = dh.num_values
    sum.levels += nv
    // Levels: [4-byte length + RLE] for repetition, then for definition.
    let p = 0
    let defs = null
    let reps = null
    try {
      if (maxRep > 0) {
        const len = readLE32(page, p)
        if (p + 4 + len > page.length) throw new Error(`repetition levels of ${len} bytes run past the page`)
        const d = decodeHybrid(page, p + 4, p + 4 + len, 1, nv)
        if (d.pos !== p + 4 + len) throw new Error(`${p + 4 + len - d.pos} bytes left after the repetition levels`)
        reps = d.values
        p += 4 + len
        sum.encodings.add(3)
      }
      if (maxDef > 0) {
        const len = readLE32(page, p)
        if (p + 4 + len > page.length) throw new Error(`definition levels of ${len} bytes run past the page`)
        const width = 32 - Math.clz32(maxDef)
        const d = decodeHybrid(page, p + 4, p + 4 + len, width, nv)
        if (d.pos !== p + 4 + len) throw new Error(`${p + 4 + len - d.pos} bytes left after the definition levels`)
        defs = d.values
        p += 4 + len
        sum.encodings.add(3)
      }
    } catch (e) {
      rep.fail(R, `${where}: data page at ${pageAt}: ${e.message}`)
      continue
    }
    let nvals = nv
    if (defs) {
      nvals = 0
      for (let i = 0; i < nv; i++) {
        if (defs[i] > maxDef) {
          rep.fail(R, `${where}: data page at ${pageAt}: definition level ${defs[i]} > ${maxDef}`)
          break
        }
        if (defs[i] === maxDef) nvals++
      }
    }
    if (reps) {
      if (nv > 0 && reps[0] !== 0) rep.fail(R, `${where}: data page at ${pageAt} starts inside a row (repetition level ${reps[0]})`)
      for (let i = 0; i < nv; i++) if (reps[i] === 0) sum.rows++
    } else {
      sum.rows += nv
    }
    sum.values += nvals
    // Values.
    const rest = page.length - p
    const phys = PHYS_OF[c.type]
    if (dh.encoding === 0) {
      if (phys === 6) {
        let q = p
        let k = 0
        while (q < page.length && k < nvals) {
          const len = readLE32(page, q)
          q += 4 + len
          k++
        }
        if (k !== nvals || q !== page.length) rep.fail(R, `${where}: data page at ${pageAt}: ${nvals} PLAIN strings expected, the page holds ${k} ending at ${q} of ${page.length}`)
      } else {
        const need = phys === 0 ? Math.ceil(nvals / 8) : nvals * (phys === 1 ? 4 : 8)
        if (rest !== need) rep.fail(R, `${where}: data page at ${pageAt}: ${rest} value bytes for ${nvals} PLAIN values, expected ${need}`)
      }
    } else if (nvals > 0 || rest > 0) {
      const width = page[p]
      if (rest < 1 || width > 32) {
        rep.fail(R, `${where}: data page at ${pageAt}: dictionary index bit width ${width}`)
      } else {
        try {
          const { values, pos } = decodeHybrid(page, p + 1, page.length, width, nvals)
          if (pos !== page.length) rep.fail(R, `${where}: data page at ${pageAt}: ${page.length - pos} bytes left after the dictionary indices`)
          for (let i = 0; i < nvals; i++) {
            if (values[i] >= sum.dictSize) {
              rep.fail(R, `${where}: data page at ${pageAt}: index ${values[i]} past a dictionary of ${sum.dictSize}`)
              break
            }
          }
        } catch (e) {
          rep.fail(R, `${where}: data page at ${pageAt}: dictionary indices: ${e.message}`)
        }
      }
    }
  }
  if (o !== end) rep.fail(R, `${where}: the pages end at ${o}, the chunk at ${end}`)
  if (comp !== Number(cm.total_compressed_size)) rep.fail(R, `${where}: pages take ${comp} bytes, total_compressed_size says ${cm.total_compressed_size}`)
  if (raw !== Number(cm.total_uncompressed_size)) rep.fail(R, `${where}: pages take ${raw} bytes uncompressed, total_uncompressed_size says ${cm.total_uncompressed_size}`)
  if (sum.levels !== Number(cm.num_values)) rep.fail(R, `${where}: data pages hold ${sum.levels} values, num_values says ${cm.num_values}`)
  return sum
}

// ------------------------------------------------------------- statistics

const statsCache = new WeakMap()

function statsOf(type, col, lo, hi) {
  let m = statsCache.get(col)
  if (!m) statsCache.set(col, (m = new Map()))
  const key = `${lo}:${hi}`
  if (!m.has(key)) m.set(key, statsOfRange(type, col, lo, hi))
  return m.get(key)
}

function statsOfRange(type, col, lo, hi) {
  let nulls = 0
  let has = false
  let min
  let max
  const cmp = type === 'string' || type === 'string_list' ? cmpStr : (a, b) => (a < b ? -1 : a > b ? 1 : 0)
  const add = (v) => {
    if (!has) {
      min = max = v
      has = true
    } else {
      if (cmp(v, min) < 0) min = v
      if (cmp(v, max) > 0) max = v
    }
  }
  for (let i = lo; i < hi; i++) {
    const v = col[i]
    if (type === 'string_list') {
      if (v === null || v.length === 0) nulls++
      else for (const it of v) it === null ? nulls++ : add(it)
    } else if (v === null) nulls++
    else if (type === 'double' && Number.isNaN(v)) continue
    else if (type === 'boolean') add(v ? 1 : 0)
    else add(v)
  }
  return { nulls, has, min, max }
}

// What Parquet should store for those statistics.
function parquetStats(type, st, statsBytes) {
  const out = { null_count: BigInt(st.nulls), has: st.has, min_exact: true, max_exact: true }
  if (!st.has) return out
  if (type === 'string' || type === 'string_list') {
    const mn = Buffer.from(st.min, 'utf8')
    const mx = Buffer.from(st.max, 'utf8')
    out.min = cutUtf8(mn, statsBytes)
    out.min_exact = mn.length <= statsBytes
    if (mx.length <= statsBytes) out.max = mx
    else {
      let p = cutUtf8(mx, statsBytes)
      if (p.length === 0) p = mx.subarray(0, charLen(mx[0]))
      const s = successor(p)
      out.max_exact = false
      if (s === null) return { null_count: out.null_count, has: false, min_exact: true, max_exact: true }
      out.max = s
    }
  } else if (type === 'double') {
    out.min = st.min === 0 ? -0 : st.min
    out.max = st.max === 0 ? 0 : st.max
  } else if (type === 'boolean') {
    out.min = st.min === 1
    out.max = st.max === 1
  } else {
    out.min = st.min
    out.max = st.max
  }
  return out
}

function sameStat(type, a, b) {
  if (a === undefined || b === undefined) return a === b
  if (type === 'string' || type === 'string_list') return b instanceof Uint8Array && bytesEqual(a, b)
  if (type === 'double') return Object.is(a, b)
  return a === b
}

// Raw statistics bytes -> values, checking their lengths.
function decodeStat(rep, where, type, b) {
  if (b === undefined) return undefined
  const len = { boolean: 1, integer: 4, date: 4, long: 8, timestamp: 8, double: 8 }[type]
  if (len !== undefined && b.length !== len) {
    rep.fail('footer', `${where}: a statistic of ${b.length} bytes for a ${type}`)
    return undefined
  }
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  switch (type) {
    case 'boolean':
      if (b[0] > 1) rep.fail('footer', `${where}: boolean statistic byte ${b[0]}`)
      return b[0] === 1
    case 'integer':
    case 'date':
      return buf.readInt32LE(0)
    case 'long':
    case 'timestamp':
      return buf.readBigInt64LE(0)
    case 'double':
      return buf.readDoubleLE(0)
    default:
      return b
  }
}

function combine(type, list) {
  // list: per row group { null_count, has, min, max, min_exact, max_exact, values }
  const out = { null_count: 0n, has: false, min_exact: true, max_exact: true }
  const cmp = type === 'string' || type === 'string_list' ? cmpBytes
    : type === 'boolean' ? (a, b) => Number(a) - Number(b)
      : (a, b) => (a < b ? -1 : a > b ? 1 : 0)
  let unbounded = false
  for (const s of list) {
    out.null_count += s.null_count
    if (!s.has) {
      if (s.values) unbounded = true
      continue
    }
    if (!out.has) {
      Object.assign(out, { has: true, min: s.min, max: s.max, min_exact: s.min_exact, max_exact: s.max_exact })
      continue
    }
    const a = cmp(s.min, out.min)
    if (a < 0 || (a === 0 && type === 'double' && Object.is(s.min, -0))) Object.assign(out, { min: s.min, min_exact: s.min_exact })
    else if (a === 0) out.min_exact ||= s.min_exact
    const b = cmp(s.max, out.max)
    if (b > 0 || (b === 0 && type === 'double' && Object.is(out.max, -0))) Object.assign(out, { max: s.max, max_exact: s.max_exact })
    else if (b === 0) out.max_exact ||= s.max_exact
  }
  if (unbounded) return { null_count: out.null_count, has: false, min_exact: true, max_exact: true }
  return out
}

function writerStats(type, s) {
  const out = { null_count: BigInt(s.null_count), has: s.has_min_max, min_exact: true, max_exact: true }
  if (!s.has_min_max) return out
  out.min_exact = s.min_exact
  out.max_exact = s.max_exact
  if (type === 'string' || type === 'string_list') {
    out.min = Buffer.from(s.min_hex, 'hex')
    out.max = Buffer.from(s.max_hex, 'hex')
  } else {
    out.min = decodeValue(type, s.min, 'file_stats')
    out.max = decodeValue(type, s.max, 'file_stats')
  }
  return out
}

function compareStats(rep, reader, where, type, want, got) {
  if (want.null_count !== got.null_count) rep.fail(reader, `${where}: null_count expected ${want.null_count}, got ${show(got.null_count)}`)
  if (want.has !== got.has) {
    rep.fail(reader, `${where}: min/max expected ${want.has ? `${show(want.min)} .. ${show(want.max)}` : 'absent'}, got ${got.has ? `${show(got.min)} .. ${show(got.max)}` : 'absent'}`)
    return
  }
  if (!want.has) return
  if (!sameStat(type, want.min, got.min)) rep.fail(reader, `${where}: min expected ${show(want.min)}, got ${show(got.min)}`)
  if (!sameStat(type, want.max, got.max)) rep.fail(reader, `${where}: max expected ${show(want.max)}, got ${show(got.max)}`)
  if (got.min_exact !== undefined && want.min_exact !== got.min_exact) rep.fail(reader, `${where}: min exact expected ${want.min_exact}, got ${got.min_exact}`)
  if (got.max_exact !== undefined && want.max_exact !== got.max_exact) rep.fail(reader, `${where}: max exact expected ${want.max_exact}, got ${got.max_exact}`)
}

// ---------------------------------------------------------------- one case

async function checkFooter(rep, exp, bytes) {
  const R = 'footer'
  let md
  try {
    const r = decodeFooter(bytes)
    md = r.md
    for (const e of r.errs) rep.fail(R, e)
  } catch (e) {
    rep.fail(R, `cannot decode the footer: ${e.message}`)
    return null
  }
  if (md.version !== 1 && md.version !== 2) rep.fail(R, `version ${md.version}`)
  checkSchema(rep, exp, md.schema)
  if (md.num_rows !== BigInt(exp.nrows)) rep.fail(R, `num_rows ${md.num_rows}, expected ${exp.nrows}`)
  const createdBy = md.created_by === undefined ? undefined : dec(md.created_by)
  if (exp.options.created_by !== null ? createdBy !== exp.options.created_by : !/^portada-worker version \S+/.test(createdBy ?? '')) {
    rep.fail(R, `created_by ${show(createdBy)}, expected ${show(exp.options.created_by ?? 'portada-worker version <v>')}`)
  }
  const ncols = exp.columns.length
  const hasMinMax = md.row_groups.some((rg) => rg.columns.some((c) => c.meta_data?.statistics?.min_value !== undefined))
  if (md.column_orders === undefined) {
    if (hasMinMax) rep.fail(R, 'min_value/max_value are written but column_orders is not (readers must then ignore them)')
  } else {
    if (md.column_orders.length !== ncols) rep.fail(R, `${md.column_orders.length} column_orders for ${ncols} leaf columns`)
    md.column_orders.forEach((o, i) => {
      if (!o.TYPE_ORDER) rep.fail(R, `column_orders[${i}] is not TypeDefinedOrder`)
    })
  }
  // Row groups and chunks.
  const chunks = []
  let rows = 0n
  const rgRows = []
  md.row_groups.forEach((rg, g) => {
    rows += rg.num_rows
    rgRows.push(Number(rg.num_rows))
    if (rg.num_rows === 0n) rep.warn(R, `row group ${g} is empty`)
    if (rg.columns.length !== ncols) {
      rep.fail(R, `row group ${g} has ${rg.columns.length} column chunks, expected ${ncols}`)
      return
    }
    let raw = 0n
    let comp = 0n
    let firstStart
    rg.columns.forEach((cc, j) => {
      const c = exp.columns[j]
      const cm = cc.meta_data
      const where = `row group ${g}, column ${show(c.name)}`
      if (!cm) return rep.fail(R, `${where}: no ColumnMetaData`)
      if (cc.file_path !== undefined) rep.fail(R, `${where}: file_path is set`)
      if (cm.type !== PHYS_OF[c.type]) rep.fail(R, `${where}: type ${PHYS[cm.type]}, expected ${PHYS[PHYS_OF[c.type]]}`)
      const p = (cm.path_in_schema ?? []).map(dec)
      const wantPath = leafInfo(c).path
      if (p.join('\u0000') !== wantPath.join('\u0000')) rep.fail(R, `${where}: path_in_schema ${show(p)}, expected ${show(wantPath)}`)
      if (cm.codec !== CODEC[exp.codec]) rep.fail(R, `${where}: codec ${cm.codec}, expected ${CODEC[exp.codec]} (${exp.codec})`)
      raw += cm.total_uncompressed_size
      comp += cm.total_compressed_size
      const sum = walkChunk(rep, bytes, md, g, j, c, cm)
      if (firstStart === undefined) firstStart = sum.start
      if (sum.rows !== Number(rg.num_rows)) rep.fail(R, `${where}: pages hold ${sum.rows} rows, the row group ${rg.num_rows}`)
      const listed = new Set(cm.encodings)
      for (const e of sum.encodings) if (!listed.has(e)) rep.fail(R, `${where}: encoding ${ENC[e]} is used but not listed in ${show(cm.encodings.map((x) => ENC[x]))}`)
      for (const e of listed) if (!sum.encodings.has(e)) rep.warn(R, `${where}: encoding ${ENC[e]} is listed but not used`)
      if (cm.encoding_stats) {
        // Readers trust these (e.g. "every data page is dictionary encoded").
        const errs = []
        const said = new Map()
        for (const raw of cm.encoding_stats) {
          const es = typed(raw, 'PageEncodingStats', errs, `${where}: encoding_stats`)
          const k = `${es.page_type}:${es.encoding}`
          said.set(k, (said.get(k) ?? 0) + es.count)
        }
        for (const e of errs) rep.fail(R, e)
        const fmt = (m) => [...m].sort().map(([k, n]) => `${k}=${n}`).join(' ')
        if (fmt(said) !== fmt(sum.pageEncodings)) rep.fail(R, `${where}: encoding_stats (page_type:encoding=count) ${fmt(said)}, the pages are ${fmt(sum.pageEncodings)}`)
      }
      chunks.push({ g, j, c, cm, sum })
    })
    if (rg.total_byte_size !== raw) rep.fail(R, `row group ${g}: total_byte_size ${rg.total_byte_size}, its chunks' total_uncompressed_size add up to ${raw}`)
    if (rg.total_compressed_size !== undefined && rg.total_compressed_size !== comp) rep.fail(R, `row group ${g}: total_compressed_size ${rg.total_compressed_size}, its chunks add up to ${comp}`)
    if (rg.file_offset !== undefined && Number(rg.file_offset) !== firstStart) rep.fail(R, `row group ${g}: file_offset ${rg.file_offset}, its first chunk starts at ${firstStart}`)
    if (rg.ordinal !== undefined && rg.ordinal !== g) rep.fail(R, `row group ${g}: ordinal ${rg.ordinal}`)
  })
  if (rows !== BigInt(exp.nrows)) rep.fail(R, `the row groups hold ${rows} rows, expected ${exp.nrows}`)
  // Chunks back to back without overlap.
  const sorted = chunks.map((x) => x.sum).sort((a, b) => a.start - b.start)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) rep.fail(R, `column chunks [${sorted[i - 1].start}, ${sorted[i - 1].end}) and [${sorted[i].start}, ${sorted[i].end}) overlap`)
  }
  return { md, chunks, rgRows }
}

function checkStructure(rep, exp, foot) {
  const R = 'checks'
  const ck = exp.checks ?? {}
  const { chunks, rgRows } = foot
  if (ck.row_groups !== undefined && rgRows.length !== ck.row_groups) rep.fail(R, `${rgRows.length} row groups, expected ${ck.row_groups}`)
  if (ck.min_row_groups !== undefined && rgRows.length < ck.min_row_groups) rep.fail(R, `${rgRows.length} row groups, expected at least ${ck.min_row_groups}`)
  if (ck.row_group_rows !== undefined && rgRows.join() !== ck.row_group_rows.join()) rep.fail(R, `row group sizes ${rgRows.join()}, expected ${ck.row_group_rows.join()}`)
  const rowsLimit = exp.options.row_group_rows
  if (rowsLimit > 0 && rgRows.some((n) => n > rowsLimit)) rep.fail(R, `row group sizes ${rgRows.join()} pass row_group_rows ${rowsLimit}`)
  const byCol = (name) => chunks.filter((x) => x.c.name === name)
  for (const [name, n] of Object.entries(ck.min_pages ?? {})) {
    const pages = byCol(name).reduce((a, x) => a + x.sum.dataPages, 0)
    if (pages < n) rep.fail(R, `column ${show(name)} has ${pages} data pages, expected at least ${n}`)
  }
  for (const name of ck.dictionary ?? []) {
    for (const x of byCol(name)) if (x.sum.values > 0 && x.sum.dictPages === 0) rep.fail(R, `row group ${x.g}, column ${show(name)}: no dictionary page`)
  }
  for (const name of ck.dictionary_only ?? []) {
    for (const x of byCol(name)) if (x.sum.plainPages > 0) rep.fail(R, `row group ${x.g}, column ${show(name)}: ${x.sum.plainPages} PLAIN pages, expected all dictionary encoded`)
  }
  for (const name of ck.dictionary_fallback ?? []) {
    if (!byCol(name).some((x) => x.sum.dictPages > 0 && x.sum.dictDataPages > 0 && x.sum.plainPages > 0)) {
      rep.fail(R, `column ${show(name)}: no chunk falls back from a dictionary to PLAIN`)
    }
  }
  if (ck.no_dictionary) {
    for (const x of chunks) if (x.sum.dictPages > 0 || x.sum.dictDataPages > 0) rep.fail(R, `row group ${x.g}, column ${show(x.c.name)}: dictionary encoded with dictionary_bytes 0`)
  }
}

function checkFooterStats(rep, exp, foot) {
  const perCol = exp.columns.map(() => [])
  let lo = 0
  foot.md.row_groups.forEach((rg, g) => {
    const hi = lo + Number(rg.num_rows)
    rg.columns.forEach((cc, j) => {
      const c = exp.columns[j]
      if (!c) return
      const where = `row group ${g}, column ${show(c.name)} statistics`
      const st = statsOf(c.type, exp.cols[j], lo, Math.min(hi, exp.nrows))
      const want = parquetStats(c.type, st, exp.statsBytes)
      const s = cc.meta_data?.statistics
      if (!s) {
        rep.fail('footer', `${where}: none written`)
        return
      }
      if (c.type === 'string' || c.type === 'string_list') {
        if (s.min !== undefined || s.max !== undefined) rep.fail('footer', `${where}: the deprecated min/max (signed byte order) are written for strings`)
      }
      const got = {
        null_count: s.null_count,
        has: s.min_value !== undefined && s.max_value !== undefined,
        min: decodeStat(rep, where, c.type, s.min_value),
        max: decodeStat(rep, where, c.type, s.max_value),
        min_exact: s.is_min_value_exact,
        max_exact: s.is_max_value_exact,
      }
      if ((s.min_value === undefined) !== (s.max_value === undefined)) rep.fail('footer', `${where}: only one of min_value/max_value`)
      if (got.has && (s.is_min_value_exact === undefined || s.is_max_value_exact === undefined)) rep.warn('footer', `${where}: no exactness flags`)
      if (s.min !== undefined && !sameStat(c.type, got.min, decodeStat(rep, where, c.type, s.min))) rep.fail('footer', `${where}: deprecated min differs from min_value`)
      if (s.max !== undefined && !sameStat(c.type, got.max, decodeStat(rep, where, c.type, s.max))) rep.fail('footer', `${where}: deprecated max differs from max_value`)
      compareStats(rep, 'footer', where, c.type, want, got)
      // Whatever the exact rule, a bound must bound.
      if (got.has && st.has && (c.type === 'string' || c.type === 'string_list')) {
        const mn = Buffer.from(st.min, 'utf8')
        const mx = Buffer.from(st.max, 'utf8')
        if (got.min && cmpBytes(got.min, mn) > 0) rep.fail('footer', `${where}: min ${show(got.min)} is above the smallest value ${show(st.min)}`)
        if (got.max && cmpBytes(got.max, mx) < 0) rep.fail('footer', `${where}: max ${show(got.max)} is below the largest value ${show(st.max)}`)
        if (got.min_exact && got.min && !bytesEqual(got.min, mn)) rep.fail('footer', `${where}: min is flagged exact but is not the smallest value`)
        if (got.max_exact && got.max && !bytesEqual(got.max, mx)) rep.fail('footer', `${where}: max is flagged exact but is not the largest value`)
      }
      perCol[j].push({ ...got, values: st.has })
    })
    lo = hi
  })
  // The file statistics pw_pq_close() returned.
  const fs_ = exp.file_stats
  if (BigInt(fs_.num_rows) !== BigInt(exp.nrows)) rep.fail('writer', `file_stats.num_rows ${fs_.num_rows}, expected ${exp.nrows}`)
  if (Number(fs_.file_bytes) !== exp.fileBytes) rep.fail('writer', `file_stats.file_bytes ${fs_.file_bytes}, the file has ${exp.fileBytes}`)
  exp.columns.forEach((c, j) => {
    const w = fs_.columns[j]
    if (!w) return rep.fail('writer', `file_stats has no column ${j}`)
    const got = writerStats(c.type, w)
    const want = parquetStats(c.type, statsOf(c.type, exp.cols[j], 0, exp.nrows), exp.statsBytes)
    compareStats(rep, 'writer', `file stats of column ${show(c.name)}`, c.type, want, got)
    compareStats(rep, 'writer', `file stats of column ${show(c.name)} vs its row groups'`, c.type, combine(c.type, perCol[j]), got)
  })
}

// ----------------------------------------------------------------- DuckDB

const DUCK_TYPES = {
  string: 'VARCHAR', long: 'BIGINT', integer: 'INTEGER', date: 'DATE', timestamp: 'TIMESTAMP WITH TIME ZONE',
  double: 'DOUBLE', boolean: 'BOOLEAN', string_list: 'VARCHAR[]',
}

function blobText(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'object' && v.bytes instanceof Uint8Array) {
    try {
      return utf8Fatal.decode(v.bytes)
    } catch {
      return `<not UTF-8: ${show(v.bytes)}>`
    }
  }
  return v
}

function fromDuck(type, v) {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'string':
      return blobText(v)
    case 'date':
      return typeof v === 'object' && 'days' in v ? v.days : v
    case 'timestamp':
      return typeof v === 'object' && 'micros' in v ? v.micros : v
    case 'string_list':
      return typeof v === 'object' && 'items' in v ? v.items.map(blobText) : v
    default:
      return v
  }
}

async function checkDuck(rep, exp, con, file, foot) {
  const R = 'duckdb'
  const f = sqlString(file)
  const q = async (sql) => (await con.runAndReadAll(sql))
  // Values and their types.  Strings come through encode() as their
  // bytes, decoded here (the API's own decoding drops a leading BOM).
  try {
    const r0 = await q(`SELECT * FROM read_parquet(${f}) LIMIT 0`)
    const names = r0.columnNames()
    const types = r0.columnTypes().map(String)
    exp.columns.forEach((c, j) => {
      if (names[j] !== c.name) rep.fail(R, `column ${j} is named ${show(names[j])}, expected ${show(c.name)}`)
      if (types[j] !== DUCK_TYPES[c.type]) rep.fail(R, `column ${show(c.name)} is ${types[j]}, expected ${DUCK_TYPES[c.type]}`)
    })
    if (names.length !== exp.columns.length) rep.fail(R, `${names.length} columns, expected ${exp.columns.length}`)
    // One column at a time, to keep the memory of the big cases down.
    for (const [j, c] of exp.columns.entries()) {
      if (types[j] !== DUCK_TYPES[c.type]) continue
      const n = sqlIdent(names[j])
      const expr = c.type === 'string' ? `encode(${n})` : c.type === 'string_list' ? `list_transform(${n}, x -> encode(x))` : n
      const res = await con.run(`SELECT ${expr} FROM read_parquet(${f})`)
      let at = 0
      for (let k = 0; k < res.chunkCount; k++) {
        const v = res.getChunk(k).getColumnVector(0)
        const cnt = v.itemCount
        const got = new Array(cnt)
        for (let i = 0; i < cnt; i++) got[i] = fromDuck(c.type, v.getItem(i))
        at = compareSlice(rep, R, exp, j, at, got)
      }
      if (at !== exp.nrows) rep.fail(R, `column ${show(c.name)}: ${at} values, expected ${exp.nrows}`)
    }
  } catch (e) {
    if (exp.checks?.readers_may_refuse_values) rep.warn(R, `read_parquet refused the values (allowed for this case): ${e.message}`)
    else rep.fail(R, `read_parquet: ${e.message}`)
  }
  // The file's metadata as DuckDB reads it.
  try {
    const fm = (await q(`SELECT num_rows, num_row_groups, created_by FROM parquet_file_metadata(${f})`)).getRowObjectsJS()[0]
    if (Number(fm.num_rows) !== exp.nrows) rep.fail(R, `parquet_file_metadata.num_rows ${fm.num_rows}, expected ${exp.nrows}`)
    if (Number(fm.num_row_groups) !== foot.rgRows.length) rep.fail(R, `num_row_groups ${fm.num_row_groups}, the footer has ${foot.rgRows.length}`)
    const sch = (await q(`SELECT name, type, repetition_type, converted_type, logical_type, duckdb_type, num_children FROM parquet_schema(${f})`)).getRowObjectsJS()
    let k = 1
    for (const c of exp.columns) {
      const s = sch[k++]
      const where = `parquet_schema of ${show(c.name)}`
      if (!s || s.name !== c.name) {
        rep.fail(R, `${where}: found ${show(s?.name)}`)
        break
      }
      const rept = c.required ? 'REQUIRED' : 'OPTIONAL'
      if (s.repetition_type !== rept) rep.fail(R, `${where}: repetition ${s.repetition_type}, expected ${rept}`)
      if (c.type === 'string_list') {
        const l = sch[k++]
        const e = sch[k++]
        if (s.converted_type !== 'LIST') rep.fail(R, `${where}: converted_type ${s.converted_type}, expected LIST`)
        if (l?.repetition_type !== 'REPEATED' || e?.repetition_type !== 'OPTIONAL' || e?.type !== 'BYTE_ARRAY' || e?.converted_type !== 'UTF8' || e?.duckdb_type !== 'VARCHAR') {
          rep.fail(R, `${where}: list levels ${show(l)} / ${show(e)}`)
        }
        continue
      }
      const want = {
        string: ['BYTE_ARRAY', 'UTF8', 'VARCHAR'], long: ['INT64', null, 'BIGINT'], integer: ['INT32', null, 'INTEGER'],
        date: ['INT32', 'DATE', 'DATE'], timestamp: ['INT64', 'TIMESTAMP_MICROS', 'TIMESTAMP WITH TIME ZONE'],
        double: ['DOUBLE', null, 'DOUBLE'], boolean: ['BOOLEAN', null, 'BOOLEAN'],
      }[c.type]
      if (s.type !== want[0] || (want[1] !== null && s.converted_type !== want[1]) || s.duckdb_type !== want[2]) {
        rep.fail(R, `${where}: ${s.type}/${s.converted_type}/${s.duckdb_type}, expected ${want.join('/')}`)
      }
      if (c.type === 'timestamp' && !/isAdjustedToUTC=1.*MICROS=MicroSeconds/.test(s.logical_type ?? '')) rep.fail(R, `${where}: logical_type ${show(s.logical_type)}`)
      if (c.type === 'string' && !/StringType/.test(s.logical_type ?? '')) rep.fail(R, `${where}: logical_type ${show(s.logical_type)}`)
      if (c.type === 'date' && !/DateType/.test(s.logical_type ?? '')) rep.fail(R, `${where}: logical_type ${show(s.logical_type)}`)
    }
  } catch (e) {
    rep.fail(R, `parquet_file_metadata/parquet_schema: ${e.message}`)
  }
  // Statistics per row group and column, as DuckDB reads them.
  try {
    const rows = (await q(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, num_values, compression,
        stats_null_count, stats_min_value, stats_max_value, min_is_exact, max_is_exact,
        encode(stats_min_value) AS min_b, encode(stats_max_value) AS max_b,
        epoch_us(TRY_CAST(stats_min_value AS TIMESTAMPTZ)) AS ts_min, epoch_us(TRY_CAST(stats_max_value AS TIMESTAMPTZ)) AS ts_max,
        TRY_CAST(stats_min_value AS DATE) - DATE '1970-01-01' AS d_min, TRY_CAST(stats_max_value AS DATE) - DATE '1970-01-01' AS d_max
        FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`)).getRowObjectsJS()
    const nrg = foot.rgRows.length
    if (rows.length !== nrg * exp.columns.length) rep.fail(R, `parquet_metadata has ${rows.length} chunks, expected ${nrg * exp.columns.length}`)
    let lo = 0
    let lastRg = -1
    for (const m of rows) {
      const g = Number(m.row_group_id)
      const j = Number(m.column_id)
      const c = exp.columns[j]
      if (!c) continue
      if (g !== lastRg) {
        if (lastRg >= 0) lo += foot.rgRows[lastRg]
        lastRg = g
      }
      const n = Number(m.row_group_num_rows)
      if (n !== foot.rgRows[g]) rep.fail(R, `row group ${g} has ${n} rows, the footer says ${foot.rgRows[g]}`)
      const where = `row group ${g}, column ${show(c.name)} statistics`
      if (m.compression !== CODEC_DUCK[CODEC[exp.codec]]) rep.fail(R, `${where}: compression ${m.compression}`)
      const want = parquetStats(c.type, statsOf(c.type, exp.cols[j], lo, lo + n), exp.statsBytes)
      const conv = (s, ts, d, raw) => {
        if (s === null || s === undefined) return undefined
        switch (c.type) {
          case 'string':
          case 'string_list':
            return raw  // the bytes: the API's string decoding drops a BOM
          case 'long':
            return BigInt(s)
          case 'integer':
            return Number(s)
          case 'date':
            return d === null ? `<${s}>` : Number(d)
          case 'timestamp':
            return ts === null ? `<${s}>` : BigInt(ts)
          case 'double':
            return s === 'inf' || s === 'infinity' ? Infinity : s === '-inf' || s === '-infinity' ? -Infinity : s === 'nan' ? NaN : Number(s)
          case 'boolean':
            return s === 'true'
        }
        return s
      }
      const got = {
        null_count: m.stats_null_count === null ? undefined : BigInt(m.stats_null_count),
        has: m.stats_min_value !== null && m.stats_max_value !== null,
        min: conv(m.stats_min_value, m.ts_min, m.d_min, m.min_b),
        max: conv(m.stats_max_value, m.ts_max, m.d_max, m.max_b),
        min_exact: m.min_is_exact ?? undefined,
        max_exact: m.max_is_exact ?? undefined,
      }
      // DuckDB leaves an infinite double statistic out of parquet_metadata.
      if (c.type === 'double' && want.has && (got.min === undefined || got.max === undefined) &&
        (!Number.isFinite(want.min) || !Number.isFinite(want.max))) {
        if (got.min === undefined && !Number.isFinite(want.min)) got.min = want.min
        if (got.max === undefined && !Number.isFinite(want.max)) got.max = want.max
        got.has = got.min !== undefined && got.max !== undefined
      }
      compareStats(rep, R, where, c.type, want, got)
    }
  } catch (e) {
    if (exp.checks?.readers_may_refuse_values) rep.warn(R, `parquet_metadata refused the statistics (allowed for this case): ${e.message}`)
    else rep.fail(R, `parquet_metadata: ${e.message}`)
  }
  // Point lookups at each column's extremes: DuckDB prunes row groups by
  // their statistics, so a wrong bound loses rows here.
  if (exp.checks?.readers_may_refuse_values) return
  for (const [j, c] of exp.columns.entries()) {
    if (c.type === 'string_list' || j >= 32) continue // enough for the wide case
    const st = statsOf(c.type, exp.cols[j], 0, exp.nrows)
    if (!st.has) continue
    for (const target of [st.min, st.max]) {
      let lit
      let eq
      switch (c.type) {
        case 'string':
          if (target.includes('\u0000') || target.length > 2000) continue
          lit = `${sqlString(target)}::VARCHAR`
          eq = (v) => v === target
          break
        case 'long':
          lit = `(${target})::BIGINT`
          eq = (v) => v === target
          break
        case 'integer':
          lit = `(${target})::INTEGER`
          eq = (v) => v === target
          break
        case 'date':
          if (target < -719162 || target > 2932896) continue
          lit = `DATE '${new Date(target * 86400000).toISOString().slice(0, 10)}'`
          eq = (v) => v === target
          break
        case 'timestamp':
          if (target < -62135596800000000n || target > 253402300799999999n) continue
          lit = `make_timestamp(${target}::BIGINT)::TIMESTAMPTZ`
          eq = (v) => v === target
          break
        case 'double':
          if (target === 0 || !Number.isFinite(target)) continue
          lit = `(${target})::DOUBLE`
          eq = (v) => v === target
          break
        case 'boolean':
          lit = target ? 'true' : 'false'
          eq = (v) => v === (target === 1)
          break
      }
      const want = exp.cols[j].reduce((a, v) => a + (v !== null && eq(v) ? 1 : 0), 0)
      try {
        const r = await q(`SELECT count(*)::BIGINT AS n FROM read_parquet(${f}) WHERE ${sqlIdent(c.name)} = ${lit}`)
        const got = Number(r.getRowObjectsJS()[0].n)
        if (got !== want) rep.fail(R, `WHERE ${c.name} = ${show(target)}: ${got} rows, expected ${want} (statistics pruning?)`)
      } catch (e) {
        rep.fail(R, `WHERE ${c.name} = ${show(target)}: ${e.message}`)
      }
    }
  }
}

// --------------------------------------------------------------- hyparquet

async function checkHyparquet(rep, exp, bytes) {
  const R = 'hyparquet'
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const file = { byteLength: ab.byteLength, slice: (s, e) => ab.slice(s, e) }
  const parsers = {
    stringFromBytes: (b) => (b === undefined || b === null ? b : utf8Fatal.decode(b)),
    dateFromDays: (d) => d,
    timestampFromMicroseconds: (x) => x,
    timestampFromMilliseconds: (x) => `millis:${x}`,
    timestampFromNanoseconds: (x) => `nanos:${x}`,
  }
  let md
  try {
    md = parquetMetadata(ab, { parsers: { ...parsers, stringFromBytes: (b) => b } })
  } catch (e) {
    rep.fail(R, `parquetMetadata: ${e.message}`)
    return
  }
  if (Number(md.num_rows) !== exp.nrows) rep.fail(R, `num_rows ${md.num_rows}, expected ${exp.nrows}`)
  // Statistics as hyparquet reads them (exactness flags included).
  let lo = 0
  md.row_groups.forEach((rg, g) => {
    const n = Number(rg.num_rows)
    rg.columns.forEach((cc, j) => {
      const c = exp.columns[j]
      const s = cc.meta_data?.statistics
      if (!c || !s) return
      const want = parquetStats(c.type, statsOf(c.type, exp.cols[j], lo, lo + n), exp.statsBytes)
      const got = {
        null_count: s.null_count,
        has: s.min_value !== undefined && s.max_value !== undefined,
        min: s.min_value,
        max: s.max_value,
        min_exact: s.is_min_value_exact,
        max_exact: s.is_max_value_exact,
      }
      compareStats(rep, R, `row group ${g}, column ${show(c.name)} statistics`, c.type, want, got)
    })
    lo += n
  })
  // Every value, one column at a time, as hyparquet hands over its chunks.
  const norm = (v) => {
    if (v === undefined) return null
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.length === 'number') return Array.from(v)
    return v
  }
  for (const [j, c] of exp.columns.entries()) {
    const ranges = []
    try {
      await parquetRead({
        file, metadata: md, columns: [c.name], compressors, parsers,
        onChunk: (ch) => {
          if (ch.columnName !== c.name) return rep.fail(R, `a chunk of column ${show(ch.columnName)} when reading ${show(c.name)}`)
          if (ch.rowEnd - ch.rowStart !== ch.columnData.length) rep.fail(R, `column ${show(c.name)}: a chunk for rows ${ch.rowStart}..${ch.rowEnd} holds ${ch.columnData.length} values`)
          ranges.push([ch.rowStart, ch.rowEnd])
          compareSlice(rep, R, exp, j, ch.rowStart, ch.columnData, norm)
        },
      })
    } catch (e) {
      if (exp.checks?.readers_may_refuse_values) rep.warn(R, `parquetRead refused column ${show(c.name)} (allowed for this case): ${e.message}`)
      else rep.fail(R, `parquetRead of column ${show(c.name)}: ${e.message}`)
      continue
    }
    ranges.sort((a, b) => a[0] - b[0])
    let at = 0
    for (const [a, b] of ranges) {
      if (a !== at) rep.fail(R, `column ${show(c.name)}: rows ${at}..${a} missing or read twice`)
      at = b
    }
    if (at !== exp.nrows) rep.fail(R, `column ${show(c.name)}: ${at} rows read, expected ${exp.nrows}`)
  }
}

// --------------------------------------------------------------------- main

async function main() {
  const dir = process.argv[2]
  const only = process.argv[3]
  if (!dir) {
    console.error('usage: check.mjs <dir> [case-name-substring]')
    process.exit(2)
  }
  const files = fs.readdirSync(dir)
  const cases = files.filter((f) => f.endsWith('.expect.json')).map((f) => f.slice(0, -'.expect.json'.length))
    .filter((n) => !only || n.includes(only)).sort()
  const orphans = files.filter((f) => f.endsWith('.parquet') && !files.includes(f.replace(/\.parquet$/, '.expect.json')))
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' })
  const con = await instance.connect()
  await con.run("SET TimeZone = 'UTC'")
  let passed = 0
  let failed = 0
  for (const o of orphans) {
    if (only && !o.includes(only)) continue
    console.log(`FAIL ${o}: no expectation (gen could not finish this case)`)
    failed++
  }
  if (cases.length === 0) {
    console.log(`check: no cases in ${dir}`)
    process.exit(1)
  }
  const t0 = Date.now()
  for (const name of cases) {
    const t = Date.now()
    const rep = new Report(name)
    const file = path.resolve(dir, `${name}.parquet`)
    let exp
    try {
      exp = loadExpectation(path.join(dir, `${name}.expect.json`))
    } catch (e) {
      console.log(`FAIL ${name}: ${e.message}`)
      failed++
      continue
    }
    const bytes = new Uint8Array(fs.readFileSync(file))
    exp.fileBytes = bytes.length
    const phases = []
    const timed = async (label, fn) => {
      const t1 = Date.now()
      const r = await fn()
      phases.push(`${label} ${Date.now() - t1}`)
      return r
    }
    phases.push(`load ${Date.now() - t}`)
    const guard = async (label, fn) => {
      try {
        return await timed(label, fn)
      } catch (e) {
        rep.fail(label, `check.mjs could not go on: ${e.stack}`)
        return null
      }
    }
    const foot = await guard('footer', () => checkFooter(rep, exp, bytes))
    if (foot) {
      await guard('checks', () => checkStructure(rep, exp, foot))
      await guard('stats', () => checkFooterStats(rep, exp, foot))
      await guard('duckdb', () => checkDuck(rep, exp, con, file, foot))
    }
    await guard('hyparquet', () => checkHyparquet(rep, exp, bytes))
    if (process.env.PW_INTEROP_TIMING) rep.warn('timing', phases.join(', ') + ' ms')
    const info = `${exp.nrows} rows, ${foot ? foot.rgRows.length : '?'} row groups, ${exp.codec}, ${bytes.length} bytes, ${Date.now() - t} ms`
    if (rep.failed) {
      failed++
      console.log(`FAIL ${name} (${info})`)
      for (const p of rep.problems) console.log(`     ${name}: ${p}`)
    } else {
      passed++
      console.log(`ok   ${name} (${info})`)
    }
    for (const w of new Set(rep.warnings)) console.log(`     ${name}: note: ${w}`)
  }
  console.log(`check: ${cases.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  console.log(failed ? `check: ${failed} of ${passed + failed} cases FAILED` : `check: all ${passed} cases passed`)
  process.exitCode = failed ? 1 : 0
}

await main()

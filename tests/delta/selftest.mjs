#!/usr/bin/env node
// selftest.mjs <delta-check.mjs>: the checker's own test.  Builds a small
// valid Delta table by hand (Parquet files written by DuckDB's COPY, the
// _delta_log and its stats written here from the rows we chose), checks
// that delta-check passes it (with --expect and --dump), then breaks a copy
// of it in every way the checker looks for and checks that each is reported
// with the message it should have.  Needs node and @duckdb/node-api only.
// Exit status 1 if any case fails.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const checker = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'delta-check.mjs'))
const keep = process.env.PW_DELTA_SELFTEST_KEEP === '1'
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'delta-selftest-'))
const t0 = Date.now()
const checkerModule = await import(pathToFileURL(checker).href)

// ------------------------------------------------------------ the table

const TABLE_ID = '3f0c2a52-8d0e-4c57-9b7e-2f4f6d0f1a11'
const field = (name, type, nullable) => ({ name, type, nullable, metadata: {} })
const FIELDS0 = [
  field('file_id', 'string', false),
  field('record_index', 'long', false),
  field('ingested_at', 'timestamp', false),
  field('publication_date', 'date', true),
  field('ship_name', 'string', true),
  field('tons', 'double', true),
  field('crew', 'integer', true),
  field('forced', 'boolean', true),
  field('voices', { type: 'array', elementType: 'string', containsNull: true }, true),
]
const FIELDS2 = [...FIELDS0, field('extra', 'string', true)]
const schemaString = (fields) => JSON.stringify({ type: 'struct', fields })

const COLS0 = `file_id VARCHAR, record_index BIGINT, ingested_at TIMESTAMPTZ, publication_date DATE, ship_name VARCHAR,
  tons DOUBLE, crew INTEGER, forced BOOLEAN, voices VARCHAR[]`
const LONG_NAME = 'Zürich, bergantín de la matrícula de Barcelona'
// U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8 but after
// it in UTF-16: a checker comparing JS strings gets these wrong.
const FULLWIDTH = '\uFF21na'
const EMOJI = '\u{1F600} ship'

const FILES = [
  {
    name: 'part-00000-5d1b0c6e-0000-4000-8000-000000000001-c000.zstd.parquet',
    version: 0,
    sources: ['src-a'],
    rows: `('src-a', 0, TIMESTAMPTZ '2024-05-01 10:00:00.123456+00', DATE '1850-01-02', 'Amalia', 120.5, 10, true, ['A', 'B']),
           ('src-a', 1, TIMESTAMPTZ '2024-05-01 10:00:00.999999+00', NULL, NULL, -3.25, NULL, false, NULL),
           ('src-a', 2, TIMESTAMPTZ '2024-05-01 09:59:59.000001+00', DATE '1850-01-05', '${LONG_NAME}', NULL, 7, NULL, [])`,
    cols: COLS0,
    stats: {
      numRecords: 3,
      minValues: {
        file_id: 'src-a', record_index: 0, ingested_at: '2024-05-01T09:59:59.000Z', publication_date: '1850-01-02',
        ship_name: 'Amalia', tons: -3.25, crew: 7, forced: false,
      },
      maxValues: {
        // truncated to 8 characters, last one incremented: an upper bound
        file_id: 'src-a', record_index: 2, ingested_at: '2024-05-01T10:00:00.999Z', publication_date: '1850-01-05',
        ship_name: 'Zürich,!', tons: 120.5, crew: 10, forced: true,
      },
      nullCount: {
        file_id: 0, record_index: 0, ingested_at: 0, publication_date: 1, ship_name: 1, tons: 1, crew: 1, forced: 1, voices: 1,
      },
    },
  },
  {
    name: 'part-00000-5d1b0c6e-0000-4000-8000-000000000002-c000.zstd.parquet',
    version: 1,
    sources: ['src-b'],
    rows: `('src-b', 0, TIMESTAMPTZ '2024-05-02 00:00:00+00', DATE '1851-12-31', '${FULLWIDTH}', 0.0, 0, true, ['x', NULL]),
           ('src-b', 9007199254740993, TIMESTAMPTZ '2024-05-02 00:00:00.000500+00', DATE '1851-01-01', '${EMOJI}', 1e300, -5, true, ['y'])`,
    cols: COLS0,
    // written by hand: 9007199254740993 does not survive a JS number
    statsText: '{"numRecords":2,"minValues":{"file_id":"src-b","record_index":0,"ingested_at":"2024-05-02T00:00:00.000Z",' +
      `"publication_date":"1851-01-01","ship_name":${JSON.stringify(FULLWIDTH)},"tons":0.0,"crew":-5,"forced":true},` +
      '"maxValues":{"file_id":"src-b","record_index":9007199254740993,"ingested_at":"2024-05-02T00:00:00.000Z",' +
      `"publication_date":"1851-12-31","ship_name":${JSON.stringify(EMOJI)},"tons":1e300,"crew":0,"forced":true},` +
      '"nullCount":{"file_id":0,"record_index":0,"ingested_at":0,"publication_date":0,"ship_name":0,"tons":0,"crew":0,"forced":0}}',
  },
  {
    // a non-hidden subdirectory and characters that must be %-escaped
    name: 'sub dir/part-00001-é-c000.zstd.parquet',
    version: 2,
    sources: ['src-c', 'src-d'],
    rows: `('src-c', 0, TIMESTAMPTZ '2024-05-03 12:00:00+00', NULL, 'Carmen', NULL, NULL, NULL, NULL, 'new'),
           ('src-c', 1, TIMESTAMPTZ '2024-05-03 12:00:01+00', NULL, 'Carmen', NULL, NULL, NULL, NULL, NULL),
           ('src-d', 0, TIMESTAMPTZ '2024-05-03 12:00:02+00', NULL, 'Dolores', NULL, NULL, NULL, NULL, 'x')`,
    cols: `${COLS0}, extra VARCHAR`,
    stats: {
      numRecords: 3,
      // no stats for tons, crew, forced: allowed, reported as info
      minValues: { file_id: 'src-c', record_index: 0, ingested_at: '2024-05-03T12:00:00.000Z', ship_name: 'Carmen', extra: 'new' },
      maxValues: { file_id: 'src-d', record_index: 1, ingested_at: '2024-05-03T12:00:02.000Z', ship_name: 'Dolores', extra: 'x' },
      nullCount: { file_id: 0, record_index: 0, ingested_at: 0, publication_date: 3, ship_name: 0, extra: 1 },
    },
  },
]
const EXPECT = {
  rows: 8,
  sourceIds: ['src-a', 'src-b', 'src-c', 'src-d'],
  distinct: { file_id: 4, record_index: 4 },
  rowsBySource: { 'src-a': 3, 'src-b': 2, 'src-c': 2, 'src-d': 1 },
}

const encodePath = (p) => p.split('/').map(encodeURIComponent).join('/')
const commitInfo = (sources, extra = {}) => ({
  commitInfo: {
    timestamp: 1714557600000, operation: 'WRITE', operationParameters: { mode: 'Append' }, isBlindAppend: true,
    engineInfo: 'portada-worker/0.1.0', portadaSourceIds: sources, ...extra,
  },
})

// A table: metaData with fields[v] at each version v that has one, the
// files (each in its own commit), expect.json beside the table directory.
async function buildTable(con, dir, { id, fields, files, expect }) {
  const nv = Math.max(...files.map((f) => f.version), ...Object.keys(fields).map(Number)) + 1
  const logs = Array.from({ length: nv }, () => [])
  logs[0].push({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } })
  for (const [v, fl] of Object.entries(fields)) {
    logs[v].push({
      metaData: {
        id, format: { provider: 'parquet', options: {} }, schemaString: schemaString(fl),
        partitionColumns: [], configuration: {}, createdTime: 1714557600000,
      },
    })
  }
  fs.mkdirSync(path.join(dir, '_delta_log'), { recursive: true })
  for (const f of files) {
    const abs = path.join(dir, f.name)
    fs.mkdirSync(path.dirname(abs), { recursive: true })
    // VALUES infers its types loosely: cast every column to its own.
    const cols = f.cols.split(',').map((x) => x.trim().split(/\s+/))
    await con.run(`COPY (SELECT ${cols.map(([n, t]) => `CAST(${n} AS ${t}) AS ${n}`).join(', ')}
      FROM (VALUES ${f.rows}) AS t(${cols.map(([n]) => n).join(', ')}))
      TO '${abs.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`)
    logs[f.version].push({
      add: {
        path: encodePath(f.name), partitionValues: {}, size: fs.statSync(abs).size, modificationTime: 1714557600000 + f.version,
        dataChange: true, stats: f.statsText ?? JSON.stringify(f.stats),
      },
    })
    logs[f.version].push(commitInfo(f.sources))
    logs[f.version].push({ txn: { appId: 'portada-worker-test', version: f.version + 1, lastUpdated: 1714557600000 } })
  }
  logs.forEach((acts, v) => writeCommit(dir, v, acts))
  fs.writeFileSync(`${dir}.expect.json`, JSON.stringify(expect))
}

// A second table shaped like known_entities: rows dumped by file_id, name.
const ENT_FIELDS = [
  field('file_id', 'string', false),
  field('entity_type', 'string', false),
  field('name', 'string', false),
  field('voices', { type: 'array', elementType: 'string', containsNull: true }, true),
  field('ingested_at', 'timestamp', false),
]
const ENT_COLS = 'file_id VARCHAR, entity_type VARCHAR, name VARCHAR, voices VARCHAR[], ingested_at TIMESTAMPTZ'
const entStats = (n, ids, types, names, ts) => ({
  numRecords: n,
  minValues: { file_id: ids[0], entity_type: types[0], name: names[0], ingested_at: ts },
  maxValues: { file_id: ids[1], entity_type: types[1], name: names[1], ingested_at: ts },
  nullCount: { file_id: 0, entity_type: 0, name: 0, ingested_at: 0 },
})
const ENTITIES = {
  id: '9b2e4d1c-5a6f-4e3b-8c7d-1e2f3a4b5c6d',
  fields: { 0: ENT_FIELDS },
  files: [
    {
      name: 'part-00000-aaaaaaaa-0000-4000-8000-000000000001-c000.zstd.parquet',
      version: 0,
      sources: ['ent-1'],
      cols: ENT_COLS,
      rows: `('ent-1', 'port', 'Barcelona', ['Barcelona', 'Barna', NULL], TIMESTAMPTZ '2024-06-01 08:00:00+00'),
             ('ent-1', 'port', 'Alicante', [], TIMESTAMPTZ '2024-06-01 08:00:00+00')`,
      stats: entStats(2, ['ent-1', 'ent-1'], ['port', 'port'], ['Alicante', 'Barcelona'], '2024-06-01T08:00:00.000Z'),
    },
    {
      name: 'part-00000-aaaaaaaa-0000-4000-8000-000000000002-c000.zstd.parquet',
      version: 1,
      sources: ['ent-0'],
      cols: ENT_COLS,
      rows: "('ent-0', 'flag', 'Zeta', NULL, TIMESTAMPTZ '2024-06-02 08:00:00+00')",
      stats: entStats(1, ['ent-0', 'ent-0'], ['flag', 'flag'], ['Zeta', 'Zeta'], '2024-06-02T08:00:00.000Z'),
    },
  ],
  expect: { rows: 3, sourceIds: ['ent-1', 'ent-0'], distinct: { file_id: 2, name: 3 }, rowsBySource: { 'ent-0': 1, 'ent-1': 2 } },
}

const logName = (dir, v) => path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`)
function writeCommit(dir, v, acts) {
  fs.writeFileSync(logName(dir, v), acts.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('\n') + '\n')
}
function readCommit(dir, v) {
  return fs.readFileSync(logName(dir, v), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
}
function editCommit(dir, v, fn) {
  const acts = readCommit(dir, v)
  writeCommit(dir, v, fn(acts) ?? acts)
}
const addOf = (acts, k = 0) => acts.filter((a) => a.add)[k].add
function editStats(dir, v, fn, k = 0) {
  editCommit(dir, v, (acts) => {
    const a = addOf(acts, k)
    const s = JSON.parse(a.stats)
    fn(s)
    a.stats = JSON.stringify(s)
  })
}

// The schema in both metaData actions (versions 0 and 2).
function editSchemas(dir, fn) {
  for (const v of [0, 2]) {
    editCommit(dir, v, (acts) => {
      const m = acts.find((a) => a.metaData).metaData
      m.schemaString = fn(m.schemaString)
    })
  }
}

// ------------------------------------------------------------- the cases

// Each: how to break a fresh copy of the table, and what the errors must say.
const CASES = [
  ['gap in versions', (d) => fs.renameSync(logName(d, 2), logName(d, 3)),
    [/versions not contiguous: 00000000000000000001\.json is followed by 00000000000000000003\.json \(missing version 2\)/]],
  ['missing version 0', (d) => fs.rmSync(logName(d, 0)),
    [/missing early versions: the first commit is version 1/]],
  ['checkpoint present', (d) => fs.writeFileSync(path.join(d, '_delta_log', '00000000000000000002.checkpoint.parquet'), 'x'),
    [/has checkpoints \(00000000000000000002\.checkpoint\.parquet\).*refusing the table/]],
  ['short log name', (d) => fs.renameSync(logName(d, 2), path.join(d, '_delta_log', '2.json')),
    [/_delta_log\/2\.json: not a valid log entry name/]],
  ['wrong size', (d) => editCommit(d, 1, (acts) => { addOf(acts).size += 7 }),
    [/00000000000000000001\.json line 1: add "part-.*0002-c000\.zstd\.parquet": size \d+ in the log, but the file has \d+ bytes/]],
  ['duplicated source id', (d) => editCommit(d, 1, (acts) => { acts.find((a) => a.commitInfo).commitInfo.portadaSourceIds = ['src-a'] }),
    [/duplicate ingestion: source id "src-a" is in commits 0 and 1/]],
  ['source id twice in one commit', (d) => editCommit(d, 2, (acts) => { acts.find((a) => a.commitInfo).commitInfo.portadaSourceIds.push('src-c') }),
    [/source id "src-c" listed twice in one commit/]],
  ['string min above the real min', (d) => editStats(d, 0, (s) => { s.minValues.ship_name = 'Amalib' }),
    [/stats\.minValues\.ship_name "Amalib" must be <= \(bytewise\) the real minimum "Amalia"/]],
  ['string max a bare prefix (below the real max)', (d) => editStats(d, 0, (s) => { s.maxValues.ship_name = 'Zürich' }),
    [/stats\.maxValues\.ship_name "Zürich" must be >= \(bytewise\) the real maximum "Zürich, bergant/]],
  ['string max compared in UTF-16 order', (d) => editCommit(d, 1, (acts) => {
    const a = addOf(acts)
    a.stats = a.stats.replace(`"ship_name":${JSON.stringify(EMOJI)}`, `"ship_name":${JSON.stringify(FULLWIDTH + 'z')}`)
  }), [/stats\.maxValues\.ship_name "Ａnaz" must be >= \(bytewise\) the real maximum "😀 ship"/]],
  ['long max off by one beyond 2^53', (d) => editCommit(d, 1, (acts) => {
    const a = addOf(acts)
    a.stats = a.stats.replace('"record_index":9007199254740993', '"record_index":9007199254740992')
  }), [/stats\.maxValues\.record_index 9007199254740992 must equal the real maximum 9007199254740993/]],
  ['timestamp max below the real max', (d) => editStats(d, 0, (s) => { s.maxValues.ingested_at = '2024-05-01T10:00:00.998Z' }),
    [/stats\.maxValues\.ingested_at 2024-05-01T10:00:00\.998Z must be >= \(at ms\) the real maximum 2024-05-01T10:00:00\.999999Z/]],
  ['timestamp in the wrong format', (d) => editStats(d, 0, (s) => { s.minValues.ingested_at = '2024-05-01 09:59:59' }),
    [/stats\.minValues\.ingested_at: "2024-05-01 09:59:59" is not "YYYY-MM-DDTHH:MM:SS\.mmmZ"/]],
  ['date min wrong', (d) => editStats(d, 0, (s) => { s.minValues.publication_date = '1850-01-01' }),
    [/stats\.minValues\.publication_date 1850-01-01 must equal the real minimum 1850-01-02/]],
  ['double max wrong', (d) => editStats(d, 0, (s) => { s.maxValues.tons = 121 }),
    [/stats\.maxValues\.tons 121 must equal the real maximum 120\.5/]],
  ['nullCount wrong', (d) => editStats(d, 0, (s) => { s.nullCount.crew = 0 }),
    [/stats\.nullCount\.crew 0, the file has 1 null\(s\)/]],
  ['numRecords wrong', (d) => editStats(d, 0, (s) => { s.numRecords = 4 }),
    [/stats\.numRecords 4, the file has 3 rows/]],
  ['stats for an unknown column', (d) => editStats(d, 0, (s) => { s.minValues.nope = 1 }),
    [/stats\.minValues\.nope: no such column in the table schema/]],
  ['stats as an object, not a string', (d) => editCommit(d, 0, (acts) => { const a = addOf(acts); a.stats = JSON.parse(a.stats) }),
    [/stats must be a JSON string, not a object/]],
  ['missing data file', (d) => fs.rmSync(path.join(d, FILES[1].name)),
    [/add "part-.*0002-c000\.zstd\.parquet": data file .* does not exist/]],
  ['path not URI-encoded', (d) => editCommit(d, 2, (acts) => { addOf(acts).path = FILES[2].name }),
    [/path "sub dir\/part-00001-é-c000\.zstd\.parquet" is not URI-encoded \(RFC 2396\): character " " at 3/]],
  ['absolute path', (d) => editCommit(d, 0, (acts) => { addOf(acts).path = 'file:///tmp/x.parquet' }),
    [/path "file:\/\/\/tmp\/x\.parquet" is absolute/]],
  ['path added twice', (d) => editCommit(d, 1, (acts) => { acts.unshift(readCommit(d, 0).find((a) => a.add)) }),
    [/path added twice \(versions 0 and 1\)/]],
  ['remove of a file not in the table', (d) => editCommit(d, 1, (acts) => {
    acts.unshift({ remove: { path: 'part-gone.parquet', deletionTimestamp: 1714557600000, dataChange: true } })
  }), [/remove of "part-gone\.parquet", which is not a live file of the table/]],
  ['bad schemaString (not JSON)', (d) => editCommit(d, 0, (acts) => { acts[1].metaData.schemaString = '{"type":"struct","fields":[' }),
    [/00000000000000000000\.json line 2: bad metaData\.schemaString: schemaString is not JSON/, /the log is not valid: data files not read/]],
  ['bad schemaString (an object, not a string)', (d) => editCommit(d, 0, (acts) => { acts[1].metaData.schemaString = { type: 'struct', fields: FIELDS0 } }),
    [/bad metaData\.schemaString: schemaString is not a string/]],
  ['bad schemaString (unsupported type)', (d) => editCommit(d, 0, (acts) => {
    acts[1].metaData.schemaString = acts[1].metaData.schemaString.replace('"type":"double"', '"type":"decimal(10,2)"')
  }), [/bad metaData\.schemaString: schemaString field 5 "tons": type "decimal\(10,2\)" is not one portada-worker writes/]],
  ['schema type differs from the file', (d) => editSchemas(d, (s) => s.replace('"name":"crew","type":"integer"', '"name":"crew","type":"long"')), [/column "crew" is INTEGER in the file, the Delta schema says long \(BIGINT\)/]],
  ['nulls in a NOT NULL column', (d) => editSchemas(d, (s) => s.replace('"name":"ship_name","type":"string","nullable":true', '"name":"ship_name","type":"string","nullable":false')), [/column "ship_name" is NOT NULL in the schema but has 1 null\(s\)/]],
  ['schema evolution adds a NOT NULL column', (d) => editCommit(d, 2, (acts) => {
    acts[0].metaData.schemaString = acts[0].metaData.schemaString.replace('"name":"extra","type":"string","nullable":true', '"name":"extra","type":"string","nullable":false')
  }), [/schema change adds column "extra" as NOT NULL/]],
  ['schema evolution drops a column', (d) => editCommit(d, 2, (acts) => {
    acts[0].metaData.schemaString = schemaString(FIELDS2.filter((f) => f.name !== 'crew'))
  }), [/schema change drops column "crew"/]],
  ['wrong protocol', (d) => editCommit(d, 0, (acts) => { acts[0].protocol.minWriterVersion = 7 }),
    [/protocol \{"minReaderVersion":1,"minWriterVersion":7\}, expected/]],
  ['no metaData in version 0', (d) => editCommit(d, 0, (acts) => acts.filter((a) => !a.metaData)),
    [/version 0 has no metaData action/]],
  ['metaData id not a UUID', (d) => editCommit(d, 0, (acts) => { acts[1].metaData.id = 'table-1' }),
    [/metaData\.id "table-1" is not a UUID/]],
  ['two actions on one line', (d) => editCommit(d, 1, (acts) => { acts[1] = { ...acts[1], txn: { appId: 'x', version: 1 } } }),
    [/00000000000000000001\.json line 2: an action line must have exactly one key, this one has 2 \(commitInfo, txn\)/]],
  ['duplicate key in an action', (d) => {
    const t = fs.readFileSync(logName(d, 1), 'utf8').replace('"dataChange":true', '"dataChange":true,"dataChange":false')
    fs.writeFileSync(logName(d, 1), t)
  }, [/00000000000000000001\.json line 1: not JSON: duplicate key "dataChange"/]],
  ['two txn for one appId in a commit', (d) => editCommit(d, 1, (acts) => { acts.push({ txn: { appId: 'portada-worker-test', version: 9 } }) }),
    [/00000000000000000001\.json line 4: a second txn for appId "portada-worker-test" in one commit/]],
  ['dataChange false', (d) => editCommit(d, 1, (acts) => { addOf(acts).dataChange = false }),
    [/dataChange false, expected true/]],
  ['partitionValues not empty', (d) => editCommit(d, 1, (acts) => { addOf(acts).partitionValues = { a: '1' } }),
    [/partitionValues \{"a":"1"\}, expected \{\}/]],
  ['commitInfo from another engine', (d) => editCommit(d, 1, (acts) => {
    const c = acts.find((a) => a.commitInfo).commitInfo
    c.engineInfo = 'Apache-Spark/3.5.0 Delta-Lake/3.2.0'
    c.operation = 'MERGE'
    c.isBlindAppend = false
  }), [/commitInfo\.operation "MERGE", expected "WRITE"/, /commitInfo\.isBlindAppend false, expected true/,
    /commitInfo\.engineInfo "Apache-Spark.*" does not start with "portada-worker\/"/]],
  ['no portadaSourceIds with adds', (d) => editCommit(d, 1, (acts) => { delete acts.find((a) => a.commitInfo).commitInfo.portadaSourceIds }),
    [/commitInfo has no portadaSourceIds but the commit adds 1 file/]],
  ['truncated data file (size and footer)', (d) => {
    const p = path.join(d, FILES[0].name)
    fs.truncateSync(p, fs.statSync(p).size - 10)
  }, [/size \d+ in the log, but the file has \d+ bytes/, /hyparquet cannot read the footer/]],
  ['expectations not met', (d) => fs.writeFileSync(`${d}.expect.json`, JSON.stringify({
    rows: 9, sourceIds: ['src-a', 'src-b', 'src-c', 'src-e'], distinct: { file_id: 3 }, rowsBySource: { 'src-a': 2, 'src-d': 1, 'src-e': 4 },
  })), [/expect: 8 rows, expected 9/, /expect: source id\(s\) not in any commit: "src-e"/, /expect: unexpected source id\(s\) in the log: "src-d"/,
    /expect: 4 distinct file_id, expected 3/, /expect: 3 rows from source "src-a", expected 2/,
    /expect: rowsBySource: source id "src-e" is not in any commit \(expected 4 rows\)/]],
]

// ----------------------------------------------------------------- running

function run(args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [checker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (b) => { out += b })
    p.stderr.on('data', (b) => { err += b })
    p.on('close', (code) => resolve({ code, out, err }))
  })
}

async function runJson(dir, extra = []) {
  const r = await run([dir, '--json', '--expect', `${dir}.expect.json`, ...extra])
  let res = null
  try {
    res = JSON.parse(r.out)
  } catch {
    // reported below
  }
  return { ...r, res }
}

let failures = 0
const fail = (name, msg) => {
  failures++
  console.log(`FAIL ${name}: ${msg}`)
}

async function checkValid(base) {
  const dump = path.join(work, 'rows.ndjson')
  const r = await runJson(base, ['--dump', dump])
  const name = 'valid table'
  if (!r.res) return fail(name, `no JSON output (exit ${r.code}): ${r.err}${r.out}`)
  if (r.code !== 0 || r.res.errors.length > 0) return fail(name, `exit ${r.code}, errors:\n  ${r.res.errors.join('\n  ')}`)
  const want = { version: 2, rows: 8, files: 3, commits: '0:src-a:1:3 1:src-b:1:2 2:src-c,src-d:1:3' }
  const got = {
    version: r.res.version, rows: r.res.rows, files: r.res.files.length,
    commits: r.res.commits.map((c) => `${c.version}:${c.sourceIds.join(',')}:${c.adds}:${c.rows}`).join(' '),
  }
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(name, `summary ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  if (r.res.schema.map((c) => c.name).join(',') !== FIELDS2.map((f) => f.name).join(',')) fail(name, `schema ${JSON.stringify(r.res.schema)}`)
  if (!r.res.infos.some((m) => /txn appId "portada-worker-test": in 3 commit\(s\), latest version 3/.test(m))) fail(name, `no info about the txn: ${r.res.infos.join(' | ')}`)
  if (!r.res.infos.some((m) => /no min\/max stats for publication_date, tons, crew, forced \(allowed\) in 1 file/.test(m))) fail(name, `no info about the missing stats: ${r.res.infos.join(' | ')}`)
  // The dump: every row, in order, values in their JSON forms.
  const lines = fs.readFileSync(dump, 'utf8').split('\n').filter((l) => l !== '')
  const rows = lines.map((l) => JSON.parse(l))
  const order = rows.map((x) => `${x.file_id}/${x.record_index}`).join(' ')
  if (order !== 'src-a/0 src-a/1 src-a/2 src-b/0 src-b/9007199254740993 src-c/0 src-c/1 src-d/0') fail(name, `dump order ${order}`)
  const first = JSON.stringify(rows[0])
  const wantFirst = JSON.stringify({
    file_id: 'src-a', record_index: '0', ingested_at: '2024-05-01T10:00:00.123456Z', publication_date: '1850-01-02', ship_name: 'Amalia',
    tons: 120.5, crew: 10, forced: true, voices: ['A', 'B'], extra: null,
  })
  if (first !== wantFirst) fail(name, `dump row 1 ${first}, expected ${wantFirst}`)
  if (rows[4]?.ship_name !== EMOJI || JSON.stringify(rows[3]?.voices) !== '["x",null]' || rows[5]?.extra !== 'new' ||
      rows[2]?.ingested_at !== '2024-05-01T09:59:59.000001Z') {
    fail(name, `dump rows ${JSON.stringify(rows.slice(2, 6))}`)
  }
  // The human summary and the exit status without --json.
  const h = await run([base])
  if (h.code !== 0 || !/delta-check: OK/.test(h.out) || !/version 2 \(3 commits\), 3 live file\(s\), 8 row\(s\), 4 source id\(s\)/.test(h.out)) {
    fail(name, `summary mode: exit ${h.code}\n${h.out}${h.err}`)
  }
  if (failures === 0) console.log('ok   valid table (expect, dump, summary)')
}

async function checkEntities(dir) {
  const name = 'valid entities table'
  const dump = path.join(work, 'entities.ndjson')
  const r = await runJson(dir, ['--dump', dump])
  if (!r.res) return fail(name, `no JSON output (exit ${r.code}): ${r.err}${r.out}`)
  if (r.code !== 0 || r.res.errors.length > 0) return fail(name, `exit ${r.code}, errors:\n  ${r.res.errors.join('\n  ')}`)
  const got = fs.readFileSync(dump, 'utf8')
  const want = [
    { file_id: 'ent-0', entity_type: 'flag', name: 'Zeta', voices: null, ingested_at: '2024-06-02T08:00:00.000000Z' },
    { file_id: 'ent-1', entity_type: 'port', name: 'Alicante', voices: [], ingested_at: '2024-06-01T08:00:00.000000Z' },
    { file_id: 'ent-1', entity_type: 'port', name: 'Barcelona', voices: ['Barcelona', 'Barna', null], ingested_at: '2024-06-01T08:00:00.000000Z' },
  ].map((x) => JSON.stringify(x) + '\n').join('')
  if (got !== want) return fail(name, `dump:\n${got}expected:\n${want}`)
  console.log('ok   valid entities table (dump ordered by file_id, name)')
}

// The checker's own parsing of JSON, dates and timestamps.
function checkHelpers() {
  const { parseJson, parseDate, parseTimestampStat, microsToIso, daysToDate } = checkerModule._internal
  const throws = (f) => {
    try {
      f()
      return false
    } catch {
      return true
    }
  }
  const checks = [
    ['int64 beyond 2^53 kept exact', parseJson('{"a":9007199254740993}').a === 9007199254740993n],
    ['safe integers stay numbers', parseJson('[1,-2,3.5e0]').join() === '1,-2,3.5'],
    ['duplicate key refused', throws(() => parseJson('{"a":1,"a":2}'))],
    ['trailing comma refused', throws(() => parseJson('[1,]'))],
    ['raw control character refused', throws(() => parseJson('"a\u0001"'))],
    ['leading zero refused', throws(() => parseJson('01'))],
    ['lone surrogate in a string stat refused', (() => {
      const errs = []
      checkerModule._internal.checkStatsValue('string', '\ud800x', 'w', { error: (m) => errs.push(m) })
      return errs.length === 1 && /not a string of valid Unicode/.test(errs[0])
    })()],
    ['__proto__ is an ordinary key', Object.hasOwn(parseJson('{"__proto__":1}'), '__proto__')],
    ['escapes', parseJson('"\\u00e9\\n\\ud83d\\ude00"') === 'é\n\u{1F600}'],
    ['year 50 is not 1950', parseDate('0050-03-01') === -701206],
    ['no 29 February 2023', parseDate('2023-02-29') === null],
    ['days -> date', daysToDate(-1) === '1969-12-31' && daysToDate(18262) === '2020-01-01'],
    ['timestamp stat before 1970', parseTimestampStat('1969-12-31T23:59:59.999Z') === -1n],
    ['timestamp stat with a bad hour', parseTimestampStat('2024-01-01T24:00:00.000Z') === null],
    ['micros -> ISO before 1970', microsToIso(-1n) === '1969-12-31T23:59:59.999999Z'],
    ['micros -> ISO', microsToIso(1704164645123456n) === '2024-01-02T03:04:05.123456Z'],
  ]
  const bad = checks.filter(([, ok]) => !ok).map(([n]) => n)
  if (bad.length > 0) fail('helpers', bad.join('; '))
  else console.log(`ok   helpers (${checks.length} checks of JSON, stats, date and timestamp parsing)`)
}

// In-process (checkTable(), what the CLI runs) to keep the test fast; the
// CLI itself is run on the valid tables and on the first broken one.
async function checkCase(base, [name, breakIt, patterns], k) {
  const dir = path.join(work, `case-${String(k).padStart(2, '0')}`)
  fs.cpSync(base, dir, { recursive: true })
  fs.copyFileSync(`${base}.expect.json`, `${dir}.expect.json`)
  breakIt(dir)
  let res
  try {
    const expect = checkerModule._internal.parseJson(fs.readFileSync(`${dir}.expect.json`, 'utf8'))
    res = await checkerModule.checkTable(dir, { expect })
  } catch (e) {
    return fail(name, `checkTable threw: ${e.stack ?? e}`)
  }
  if (k === 0) {
    const r = await runJson(dir)
    if (r.code !== 1 || JSON.stringify(r.res?.errors) !== JSON.stringify(res.errors)) {
      fail(name, `the CLI: exit ${r.code} (expected 1), errors ${JSON.stringify(r.res?.errors)} (in-process ${JSON.stringify(res.errors)})`)
    }
  }
  const missing = patterns.filter((re) => !res.errors.some((e) => re.test(e)))
  if (res.ok) fail(name, 'ok is true')
  if (missing.length > 0) {
    fail(name, `no error matching ${missing.map(String).join(', ')}; errors:\n  ${res.errors.join('\n  ') || '(none)'}`)
  } else if (!res.ok) {
    console.log(`ok   ${name}: ${res.errors[0]}${res.errors.length > 1 ? ` (+${res.errors.length - 1} more)` : ''}`)
  }
}

async function main() {
  const base = path.join(work, 'table')
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  const con = await instance.connect()
  await con.run("SET TimeZone = 'UTC'")
  await buildTable(con, base, { id: TABLE_ID, fields: { 0: FIELDS0, 2: FIELDS2 }, files: FILES, expect: EXPECT })
  const ents = path.join(work, 'entities')
  await buildTable(con, ents, ENTITIES)
  con.closeSync()
  instance.closeSync()

  checkHelpers()
  await checkValid(base)
  await checkEntities(ents)
  // Usage errors exit 2.
  const u = await run([])
  if (u.code !== 2) fail('usage', `no arguments: exit ${u.code}, expected 2`)

  for (const [k, c] of CASES.entries()) await checkCase(base, c, k)
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  console.log(`${CASES.length + 4} cases, ${failures} failure(s), ${secs} s${keep ? `; kept ${work}` : ''}`)
  if (!keep) fs.rmSync(work, { recursive: true, force: true })
  return failures === 0 ? 0 : 1
}

main().then((rc) => {
  process.exitCode = rc
}, (e) => {
  console.log(`selftest: internal error: ${e.stack ?? e}`)
  process.exitCode = 2
})

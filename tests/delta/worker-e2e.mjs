#!/usr/bin/env node
// worker-e2e.mjs: the fixtures and the verification of worker-e2e.sh (the
// real portada-worker, end to end, read back by independent readers).
// Needs only Node >= 20 (no npm package): Redis is spoken over its unix
// socket in a few lines of RESP, the Delta log is read as JSON lines and the
// rows come from delta-check.mjs --dump.
//
//   node worker-e2e.mjs gen --dir DIR [--seed N]
//       writes DIR/ingest/... (the uploads), DIR/manifest.json (every
//       upload: its hash, its records' byte ranges, its entities, the error
//       it must end with), DIR/queue.resp (the producer's commands, for
//       redis-cli --pipe) and DIR/expect-<table>.json (delta-check --expect).
//   node worker-e2e.mjs verify --dir DIR --run NAME --lake LAKE --socket SOCK
//       --worker-id ID[,ID...] --t0 MS --t1 MS --tables TABLES-DIR
//       compares Redis, the Delta logs and DIR/NAME/<table>.ndjson (the
//       dump) / <table>.check.json (delta-check --json) with the fixtures.
//       (--paths FILE: file_path as rewritten by "remote"; --raw 1: the
//       worker ran with --archive-raw).
//       Exit 0 if everything matches, 1 otherwise (every mismatch names the
//       file id, the record index or entity name, and the column).
//
//   node worker-e2e.mjs remote --dir DIR --socket SOCK --http URL/ --s3 URL/
//       points the queued uploads' file_path at URLs under the two bases,
//       in turn, and writes DIR/paths.json.
//
// The expected rows are computed here from the rules of
// include/portada/rows.h, written from the rules (not from src/rows.c):
//   field:X  missing or null -> null; an object holding calculated_value /
//            original_value / default_value -> the first of them present and
//            not empty (null, "", [] and {} are empty), else null; any other
//            value is itself.  Then as text: strings as they are, true/false,
//            numbers as their shortest decimal, arrays and objects as compact
//            JSON in the file's key order.
//   date:X   the same value as a date: epoch ms (an integer, or a string of
//            digits with an optional '-': the real 1850 files hold negative
//            ms) floored to a day in UTC, or "YYYY-MM-DD" that is a real
//            date, optionally followed by 'T' or ' ' and a time; else null.
//   record   the record's text, byte for byte.
// JSON.stringify and String(number) stand in for "compact JSON" and
// "shortest decimal", which they are for the fixtures' values: numbers are
// integers and decimals with a non-zero last digit once read (38, 12.5,
// 2.50 -> 2.5, 1.5E-3 -> 0.0015, -0 -> 0; nothing JS would print with an
// exponent, no integer beyond 2^53), object keys are never integer-like (JS
// would reorder them), and the only control characters in nested strings
// are \t, \n, \u0000 and \u0001 (no hex letters, so no case to agree on).
// Reals with an integral value (20.0, 2e1) sit in one upload of their own,
// reales.json: a JSON real is written as Python's repr() writes it ("20.0",
// "1500.0"), which String() does not do, so their texts are spelled out.

import fs from 'node:fs'
import path from 'node:path'
import net from 'node:net'
import { isDeepStrictEqual } from 'node:util'

// ------------------------------------------------------------------ args

function parseArgs(argv) {
  const out = { _: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('--')) {
      const k = a.slice(2)
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
      out[k] = argv[++i]
    } else out._.push(a)
  }
  return out
}

// ------------------------------------------------------------------ PRNG

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let rnd = mulberry32(1)
const ri = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1))
const pick = (a) => a[Math.floor(rnd() * a.length)]
const chance = (p) => rnd() < p
function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}
function uuid() {
  let h = ''
  for (let i = 0; i < 32; i++) h += Math.floor(rnd() * 16).toString(16)
  h = h.slice(0, 12) + '4' + h.slice(13, 16) + '89ab'[Math.floor(rnd() * 4)] + h.slice(17)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// ------------------------------------------------------------------ JSON text

// A number written with a text of its own ("2.50").
class RawNum {
  constructor(text) {
    this.text = text
  }
}

function hex4(n, upper) {
  const h = n.toString(16).padStart(4, '0')
  return upper ? h.toUpperCase() : h
}

// A JSON string literal in the record's escape style: st.ascii escapes every
// non-ASCII character (surrogate pairs beyond the BMP), st.slash writes \/.
function quote(s, st) {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0)
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '/' && st.slash) out += '\\/'
    else if (cp < 0x20) {
      const short = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[cp]
      out += short ?? `\\u${hex4(cp, st.upper)}`
    } else if (cp > 0x7e && st.ascii) {
      if (cp > 0xffff) {
        const v = cp - 0x10000
        out += `\\u${hex4(0xd800 + (v >> 10), st.upper)}\\u${hex4(0xdc00 + (v & 0x3ff), st.upper)}`
      } else out += `\\u${hex4(cp, st.upper)}`
    } else out += ch
  }
  return out + '"'
}

// JSON text of v.  st.ind: null for one line, else the indent unit (the
// record's lines also start with st.base); st.nl the line break; st.colon
// and st.comma the separators; st.pad the padding inside one-line brackets.
function ser(v, st, depth = 0) {
  if (v instanceof RawNum) return v.text
  if (v === null) return 'null'
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number') {
    const s = String(v)
    if (!/^-?\d+(\.\d+)?$/.test(s) || Object.is(v, -0)) throw new Error(`fixture number ${s} is not simple`)
    return s
  }
  if (typeof v === 'string') return quote(v, st)
  const isArr = Array.isArray(v)
  if (!isArr) {
    for (const k of Object.keys(v)) if (/^(0|[1-9]\d*)$/.test(k)) throw new Error(`fixture key ${k} is integer-like`)
  }
  const items = isArr
    ? v.map((x) => ser(x, st, depth + 1))
    : Object.entries(v).map(([k, x]) => quote(k, st) + st.colon + ser(x, st, depth + 1))
  const [o, c] = isArr ? ['[', ']'] : ['{', '}']
  if (items.length === 0) return o + c
  if (st.ind === null) return o + st.pad + items.join(',' + st.comma) + st.pad + c
  const inner = st.base + st.ind.repeat(depth + 1)
  const outer = st.base + st.ind.repeat(depth)
  return o + st.nl + items.map((x) => inner + x).join(',' + st.nl) + st.nl + outer + c
}

// ------------------------------------------------------------------ vocabulary

const PORTS = ['Barcelona', 'Cádiz', 'Gênes', 'Marsella', 'La Habana', 'Málaga', 'Alicante', 'Palma', 'Tarragona',
  'Sète', 'Liorna', 'Nueva York', 'Ciutadella', 'Sant Feliu de Guíxols', 'Coruña', 'Mahón', 'Vinaròs', 'Alfaques',
  'Castellón', 'Río de Janeiro', 'Montevideo', 'Trieste', 'Génova', 'Ámsterdam', 'Øresund', '長崎']
const SHIPS = ['Conchita', 'María', 'Elba', 'S. Joaquin,', 'Buenviage', 'Dos Amigos', 'Virgen del Carmen', 'Ñaña',
  'Éole', 'ＡＬＢＡ', '\u{1F6A2} Estrella', 'Paquete de Cádiz', 'Ästrid', 'Zoë', 'Neptuno', 'Amistad']
const MASTERS = ['Joaquin Farinos', 'Vicente Duran', 'Perrer', 'José Puig', 'Françesc Oliver', 'Jean-Baptiste Gênes',
  'Mª Antònia Roig', 'Juan Bta. Cañellas', "O'Brien"]
const TYPES = ['laud', 'bergantín', 'polacra', 'fragata', 'vapor', 'gol.', 'pailebot', 'místico', 'queche']
const FLAGS = ['españolas', 'inglesa', 'francesa', 'sarda', 'napolitana', 'austríaca', 'americana', 'danesa']
const GOODS = ['garbanzos', 'atún', 'vino', 'aguardiente', 'miel', 'algarrobas', 'higos', 'habichuelas',
  'carbón de piedra', 'trigo', 'bacalao']
const UNITS = ['fanegas', 'pipas', 'cuartos', 'sacos', 'quintales', 'toneladas', 'barriles']
const USERS = ['portada-ana', 'portada-jordi', 'api-key-7f3c09', 'montserrat.b']
// String columns of ship_entries an edge case may land in.
const EDGE_COLUMNS = ['publication_edition', 'news_section', 'time_of_arrival', 'travel_departure_port',
  'travel_arrival_port', 'travel_duration_value', 'travel_port_of_call_list', 'ship_type', 'ship_name', 'ship_flag',
  'ship_tons_capacity', 'master_name', 'cargo_list', 'purposeType', 'forced_arrival', 'quarantine', 'obs',
  'ship_agent', 'ship_crew', 'fact_type', 'ai_observations']

// Field values meant to hit each rule (fresh objects every time).
const EDGE_FIELDS = [
  () => ({ calculated_value: '', original_value: 'Cádiz' }), // "" falls back
  () => ({ calculated_value: null, original_value: '', default_value: 'Gênes' }),
  () => ({ calculated_value: [], original_value: {}, default_value: null }), // all empty -> null
  () => ({ original_value: '', default_value: '' }),
  () => ({}), // not a value object: "{}"
  () => ({ foo: 'bar', n: 1, ok: true }), // not a value object: compact JSON
  () => ({ calculated_value: 38 }),
  () => ({ calculated_value: 12.5, original_value: '12½' }),
  () => ({ calculated_value: false, original_value: 'no' }), // false is not empty
  () => ({ calculated_value: 0 }),
  () => ({ original_value: ['Alfaques', 'Cádiz', 'Gênes'] }),
  () => ({ calculated_value: { calculated_value: 'z', original_value: 'y' } }), // resolved once only
  () => ({ calculated_value: ' ' }),
  () => ({ default_value: '????', source: 'model' }),
  () => ({ original_value: 'x', calculated_value: null }),
  () => ({ calculated_value: [{ cargo_quantity: 200, cargo_commodity: 'atún', cargo_unit: 'pipas', price: 3.75, ok: true, note: null }] }),
  () => ({ original_value: 'Gênes "la Superba" a/b \\ c\td' }),
  () => ({ calculated_value: new RawNum('2.50') }), // -> "2.5"
  () => ({ calculated_value: new RawNum('-0.10') }), // -> "-0.1"
  () => ({ original_value: '\u{1F6A2} Vapor Ｎº 3' }),
  () => 'Mercantes', // a plain value in a structured file
  () => null,
  () => true,
  () => -7,
  () => ({ calculated_value: [[1, [2, { a: [3.5, 'ü', null, false] }]], []] }),
  () => ({ calculated_value: { puerto_ñ: 'Mahón', vacío: {}, lista: [] } }),
  () => ({ original_value: ['línea1\nlínea2\t\u0001 fin', 'sep\u2028arador', 'a/b', 'nul\u0000x'] }),
  () => 'a\u0007b\u007f c',
  () => 'Cádiz\u0000Gênes', // a NUL inside a plain string
  () => ['x', 1, 2.25, true, null, { k: 'v' }],
  () => '', // a plain "" is a value, not null
  () => [],
  () => ({ calculated_value: 'ＡＢＣ', original_value: '\u{1F6A2}' }), // UTF-8 and UTF-16 orders differ
  () => ({ calculated_value: new RawNum('0.0001') }),
  () => ({ original_value: 123456.789 }),
  () => new RawNum('0.30000000000000004'),
  () => 9007199254740991,
  () => new RawNum('1.5E-3'), // -> "0.0015"
  () => new RawNum('-0'), // -> "0"
  () => [new RawNum('1.10'), new RawNum('25E-1'), -2147483649],
]

// Reals with an integral value (20.0, 2e1) are kept out of the records
// above: the worker writes 20.0 as "2e+01" (see README.md, worker-e2e).
// One upload holds them, with the texts either convention would give
// (rows.h "shortest decimal": 20; Python/Spark, src/text.h: 20.0).
const REAL_PROBE = {
  obs: [new RawNum('20.0'), ['20.0']],
  ship_crew: [new RawNum('100.0'), ['100.0']],
  fact_type: [new RawNum('1.5E+3'), ['1500.0']],
  ship_agent: [new RawNum('2e1'), ['20.0']],
  news_section: [new RawNum('38.0'), ['38.0']],
  cargo_list: [[new RawNum('20.0'), new RawNum('100.0'), new RawNum('7.0e0')], ['[20.0,100.0,7.0]']],
}

// publication_date values meant to hit each date rule.
const DAY = 86400000
const D1850 = -3786825600000 // 1850-01-01T00:00:00Z
const EDGE_DATES = [
  () => ({ original_value: String(D1850 + 23 * 3600000) }), // 23:00Z: the next day east of UTC
  () => ({ original_value: String(D1850) }),
  () => ({ original_value: String(D1850 + 1) }), // floor, not truncation, for negative ms
  () => ({ original_value: String(D1850 + DAY - 1) }),
  () => String(D1850 + 30 * 60000), // 00:30Z: the day before west of UTC
  () => '-1',
  () => '0',
  () => String(DAY - 1),
  () => String(DAY),
  () => '1608681600000',
  () => D1850 + 23 * 3600000, // a number
  () => ({ calculated_value: D1850 + DAY + 1 }),
  () => '1861-01-05',
  () => '1861-01-05T23:59:59',
  () => '1861-01-05 10:00',
  () => '1861-01-05T10:00:00Z',
  () => '1860-02-29',
  () => '1861-02-29', // not a date
  () => '1900-02-29',
  () => '2000-02-29',
  () => '1861-13-01',
  () => '1861-00-10',
  () => '1861-04-31',
  () => '05/01/1861',
  () => '',
  () => '1861-1-5',
  () => '12a',
  () => 'abc',
  () => '1861-01-05X',
  () => true,
  () => ['1861-01-05'],
  () => ({ calculated_value: '', original_value: '1861-01-05' }),
  () => ({ calculated_value: 'abc', original_value: '1861-01-05' }),
  () => ({ calculated_value: -1 }),
  () => null,
  () => '000086400000', // digits: epoch ms
  () => '1861', // digits: epoch ms 1861 -> 1970-01-01
]

const pad2 = (n) => String(n).padStart(2, '0')
function dayString(days) {
  return new Date(days * DAY).toISOString().slice(0, 10)
}

// ------------------------------------------------------------------ records

function vo(val, alt) {
  const r = rnd()
  if (r < 0.45) return { original_value: val }
  if (r < 0.7) return { original_value: alt ?? val, calculated_value: val }
  if (r < 0.8) return { calculated_value: val }
  if (r < 0.88) return { original_value: val, default_value: '????' }
  if (r < 0.95) return { calculated_value: pick([null, '', [], {}]), original_value: val }
  return { default_value: val }
}

function cargo(numbers) {
  const out = []
  for (let i = ri(0, 3); i > 0; i--) {
    const q = ri(1, 500)
    out.push(numbers
      ? { cargo_name: pick(GOODS), cargo_units: pick(UNITS), cargo_count: chance(0.5) ? String(q) : q }
      : { cargo_merchant_name: `SS. ${pick(MASTERS)} y compañía`, cargo: [{ cargo_quantity: String(q), cargo_commodity: pick(GOODS), cargo_unit: pick(UNITS) }] })
  }
  return out
}

function rawText(port, type, ship, master) {
  return `De ${port} en ${ri(1, 40)} d. ${type} ${ship}, de ${ri(10, 400)} t., p. ${master}, con ${ri(1, 900)} ${pick(UNITS)} de ${pick(GOODS)}.`
}

function structuredRecord() {
  const rec = {}
  const put = (k, v, p = 0.9) => {
    if (chance(p)) rec[k] = v
  }
  const port = pick(PORTS)
  const ship = pick(SHIPS)
  const type = pick(TYPES)
  const master = pick(MASTERS)
  const day = ri(-43829, -36524)
  put('model_version', { original_value: 'boat_fact-00.00.01' }, 0.97)
  put('publication_name', vo(pick(['DB', 'DM', 'SM'])))
  put('publication_date', { original_value: String(day * DAY + ri(0, DAY - 1)) }, 0.95)
  put('publication_edition', vo(pick(['U', 'M', 'T'])))
  put('publication_page_number', vo(String(ri(1, 16))))
  put('news_section', { calculated_value: 'E' })
  put('time_of_arrival', { original_value: 'Embarcaciones llegadas puerto en el dia de ayer..', calculated_value: 'y' }, 0.6)
  put('elapsed_days_from_arrival', { calculated_value: String(ri(0, 3)) })
  put('travel_departure_port', vo(port, port.toLowerCase()))
  put('travel_arrival_port', vo('Barcelona'))
  put('travel_departure_date', { calculated_value: dayString(day - ri(1, 30)) }, 0.5)
  put('travel_arrival_date', { calculated_value: dayString(day - 1) }, 0.5)
  put('travel_duration_value', vo(String(ri(1, 40))), 0.7)
  put('travel_duration_unit', vo('d.'), 0.7)
  put('travel_port_of_call_list', vo([pick(PORTS), pick(PORTS)].slice(0, ri(0, 2))), 0.5)
  put('ship_type', vo(type))
  put('ship_name', vo(ship))
  put('ship_flag', vo(pick(FLAGS)), 0.7)
  put('ship_tons_capacity', vo(String(ri(10, 400))), 0.7)
  put('ship_tons_unit', vo('t.'), 0.7)
  put('master_role', vo(pick(['c.', 'p.', 'pat.'])))
  put('master_name', vo(master))
  put('cargo_list', vo(cargo(false)), 0.8)
  put('purposeType', chance(0.5) ? 'Mercantes' : { original_value: 'Idem' }, 0.6)
  put('forced_arrival', { calculated_value: chance(0.1) }, 0.5)
  put('quarantine', { calculated_value: chance(0.1) }, 0.5)
  put('ai_observations', { calculated_value: '' }, 0.3)
  put('info_text', { original_value: `con ${ri(1, 900)} ${pick(UNITS)} ${pick(GOODS)} á ${pick(MASTERS)}` }, 0.6)
  put('parsed_text', { original_value: rawText(port, type, ship, master) }, 0.8)
  put('unparsed_text', { original_value: 'Ademas 7 buques de la costa de este principado con 69 pipas vino.' }, 0.2)
  if (chance(0.05)) rec.fact_source_method = { model: 'gpt', score: 0.75 } // not a column
  return rec
}

function flatRecord() {
  const rec = {}
  const put = (k, v, p = 0.9) => {
    if (chance(p)) rec[k] = v
  }
  const port = pick(PORTS)
  const ship = pick(SHIPS)
  const type = pick(TYPES)
  const master = pick(MASTERS)
  const day = ri(-39447, -38717) // 1862-1863
  const ds = dayString(day)
  put('source_file', `${ds.slice(0, 4)}_${ds.slice(5, 7)}_${ds.slice(8, 10)}`)
  put('publication_day', '')
  put('arrival_date', pick(['', dayString(day - 1)]))
  put('arrival_date_calc', pick(['', null]))
  put('travel_departure_port', port)
  put('ship_type', type)
  put('ship_flag', pick(['', ...FLAGS]))
  put('ship_name', ship)
  put('master_role', pick(['pat.', 'cap.', 'c.']))
  put('master_name', master)
  put('cargo_list', cargo(true))
  const text = rawText(port, type, ship, master)
  put('raw_text', text)
  put('parsed_text', text, 0.8)
  put('publication_date', chance(0.85) ? ds : `${ds}T${pad2(ri(0, 23))}:${pad2(ri(0, 59))}:00`, 0.97)
  put('model_version', 'boat_fact-00.00.01')
  put('publication_name', 'DM')
  put('publication_edition', pick(['U', 'M']))
  put('news_section', 'E')
  put('quarantine', chance(0.1))
  put('forced_arrival', chance(0.05))
  put('ship_amount', pick([null, null, 1, 2, '3']))
  put('ship_origin_area', null)
  put('obs', pick([null, null, '', 'con averías']))
  put('ship_tons_capacity', pick([38, 120, 12.5, '80', new RawNum('2.50'), null]), 0.6)
  put('travel_duration_value', pick([3, '5', 0.5, 21]), 0.5)
  put('travel_port_of_call_list', [pick(PORTS), pick(PORTS)].slice(0, ri(0, 2)), 0.4)
  put('fact_type', pick(['arrival', 'departure']), 0.2)
  put('ship_agent', pick(['Vda. de Ferrer', 'Hijos de Ramón', null]), 0.1)
  put('ship_crew', pick([12, '8 hombres', null]), 0.1)
  if (chance(0.05)) rec.comentario = 'no es columna'
  return rec
}

// The record styles of a file: how records are indented and escaped.
function fileStyle(shape) {
  const r = rnd()
  const nl = chance(0.15) ? '\r\n' : '\n'
  if (r < 0.15) return { ind: null, nl, colon: ':', comma: '', pad: '', base: '', sep: ',', open: '[', close: ']' }
  if (r < 0.25) return { ind: null, nl, colon: ' : ', comma: ' \t', pad: ' ', base: '', sep: `,${nl}`, open: `[${nl}`, close: `${nl}]${nl}` }
  const ind = r < 0.35 ? '\t' : shape === 'structured' ? '    ' : '  '
  return { ind, nl, colon: ': ', comma: '', pad: '', base: ind, sep: `,${nl}${ind}`, open: `[${nl}${ind}`, close: `${nl}]${nl}` }
}

// A top-level JSON array from record texts, with each record's byte range.
function buildArray(texts, st) {
  let out = st.open
  let off = Buffer.byteLength(out)
  const ranges = []
  texts.forEach((t, i) => {
    if (i > 0) {
      out += st.sep
      off += Buffer.byteLength(st.sep)
    }
    const len = Buffer.byteLength(t)
    ranges.push([off, off + len])
    out += t
    off += len
  })
  out += st.close
  return { text: out, ranges }
}

function recordText(v, st) {
  const rs = { ...st, ascii: chance(0.15), upper: chance(0.5), slash: chance(0.1) }
  const t = ser(v, rs)
  JSON.parse(t) // the generator's own sanity
  return t
}

// ------------------------------------------------------------------ gen

function gen(args) {
  const dir = path.resolve(args.dir)
  const seed = Number(args.seed ?? 20240611)
  rnd = mulberry32(seed)
  const ingest = path.join(dir, 'ingest')
  fs.mkdirSync(ingest, { recursive: true })
  const files = []
  let tsBase = 1738843718

  // Store an upload the way the ingest API does; shape older or newer.
  function upload(name, content, fileType, shape, user) {
    const id = uuid()
    const sub = fileType === 'entry' ? 'ship_entries' : fileType.startsWith('entity_') ? `entity/${fileType.slice(7)}` : 'other'
    const ext = path.extname(name)
    const stored = shape === 'older' ? name : `${id}${ext}`
    const p = path.join(ingest, sub, user, stored)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    if (fs.existsSync(p)) throw new Error(`fixture path used twice: ${p}`)
    fs.writeFileSync(p, content)
    const ts = `${tsBase++}.${String(ri(0, 999999)).padStart(6, '0')}`
    const hash = shape === 'older'
      ? { id, filename: name, file_path: p, file_type: fileType, status: '0', user, timestamp: ts }
      : { original_filename: name, stored_filename: stored, file_path: p, file_type: fileType, status: '0', user, timestamp: ts }
    const f = { id, key: `file:${id}`, shape, user, fileType, path: p, sourceFilename: name, hash }
    files.push(f)
    return f
  }

  // Entry files: half structured, half flat; the first of each shape
  // carries every edge case at least once.
  const NENTRY = 40
  const counts = [300, 300, 1, 2, 299, 250]
  for (let i = 0; i < NENTRY; i++) {
    const shape = i % 2 === 0 ? 'structured' : 'flat'
    const n = counts[i] ?? ri(0, 300)
    const st = fileStyle(shape)
    const recs = []
    for (let r = 0; r < n; r++) {
      const v = shape === 'structured' ? structuredRecord() : flatRecord()
      if (i < 2 && r < EDGE_FIELDS.length) v[pick(EDGE_COLUMNS)] = EDGE_FIELDS[r]()
      else if (chance(0.25)) for (let k = ri(1, 3); k > 0; k--) v[pick(EDGE_COLUMNS)] = pick(EDGE_FIELDS)()
      if (i < 2 && r >= 40 && r < 40 + EDGE_DATES.length) v.publication_date = EDGE_DATES[r - 40]()
      else if (chance(0.05)) v.publication_date = pick(EDGE_DATES)()
      if (i === 3 && r === 1) {
        for (const k of Object.keys(v)) delete v[k] // an empty record: {}
      }
      if (i === 4 && r === 7) v.raw_text = 'Gênes y Cádiz, 1850. '.repeat(1000) // a 21 KB value
      recs.push(recordText(v, st))
    }
    const { text, ranges } = buildArray(recs, st)
    const month = pad2(1 + (i % 12))
    const name = shape === 'structured'
      ? `DB 1850-${month} Cádiz (${i}).json`
      : `dm-1861-${month}-cabotage-Gênes_${i}.json`
    const f = upload(name, text, 'entry', chance(0.5) ? 'older' : 'newer', pick(USERS))
    f.kind = 'entry'
    f.records = ranges
  }
  {
    const v = { ship_name: 'reales', publication_date: '1861-01-05' }
    for (const [k, [x]] of Object.entries(REAL_PROBE)) v[k] = x
    const st = { ind: '  ', nl: '\n', base: '  ', colon: ': ', comma: '', pad: '' }
    const { text, ranges } = buildArray([recordText(v, st)], { open: '[\n  ', sep: ',\n  ', close: '\n]\n' })
    const f = upload('reales.json', text, 'entry', 'older', USERS[1])
    f.kind = 'entry'
    f.records = ranges
    f.accept = { 0: Object.fromEntries(Object.entries(REAL_PROBE).map(([k, [, ok]]) => [k, ok])) }
  }
  {
    const f = upload('empty.json', '[]', 'entry', 'newer', USERS[0])
    f.kind = 'entry'
    f.records = []
  }

  // Entity files: JSON (bare and "names"), YAML (.yaml and .yml).
  function entity(name, content, fileType, shape, entities) {
    const f = upload(name, content, fileType, shape, pick(USERS))
    f.kind = 'entity'
    f.entities = entities
    return f
  }
  const flags = [['españolas', ['española', 'españoles', 'esp.']], ['inglesa', ['ingl.', 'ingles', 'británica']],
    ['francesa', ['franc.', 'francés']], ['sarda', []], ['Ñ "quoted"', ['x\\y', 'a/b']], ['Zoë', ['']],
    ['\u{1F6A2}', ['vapor \u{1F6A2}', 'ＡＢＣ']]]
  const obj = (list) => Object.fromEntries(list)
  entity('flags.json', JSON.stringify(obj(flags), null, 2) + '\n', 'entity_flag', 'older', flags)
  const ports = []
  for (let i = 0; i < 150; i++) {
    const p = pick(PORTS)
    ports.push([`${p} ${i}`, [p, p.toUpperCase(), `${p.slice(0, 3)}.`].slice(0, ri(1, 3))])
  }
  entity('puertos.json', JSON.stringify({ names: obj(ports) }), 'entity_port', 'newer', ports)
  const goods = GOODS.map((g) => [g, [g, `${g.slice(0, 4)}.`, g.normalize('NFD')]])
  goods.push(['cacao/café', []])
  entity('mercancías.json', '{\r\n' + goods.map(([n, v]) => `\t${quote(n, { ascii: true, slash: true })} : [ ${v.map((x) => quote(x, { ascii: true, upper: true })).join(' , ')} ]`).join(',\r\n') + '\r\n}',
    'entity_comodity', 'newer', goods)
  entity('tipos de buque.yaml', [
    '# tipos de buque, as the PortAda team writes them',
    '---',
    'bergantín:',
    '  - bergantin',
    '  - bergant.',
    '  - brick',
    'fragata: [frag., fragata]',
    '"polacra: goleta":',
    "  - 'pol.'",
    '  - "pol\\u00e1cra"',
    'vapor:',
    '  - vapor',
    '  - vap.',
    '  - yes',
    '  - NO',
    '  - 1.0',
    '  - 2001-01-01',
    'místico: []',
    "'it''s':",
    "  - 'it''s'",
    '  - "tab\\there"',
    '',
  ].join('\n'), 'entity_ship_type', 'newer', [
    ['bergantín', ['bergantin', 'bergant.', 'brick']],
    ['fragata', ['frag.', 'fragata']],
    ['polacra: goleta', ['pol.', 'polácra']],
    ['vapor', ['vapor', 'vap.', 'yes', 'NO', '1.0', '2001-01-01']],
    ['místico', []],
    ["it's", ["it's", 'tab\there']],
  ])
  entity('cargos.yml', [
    'names:',
    '  capitán:',
    '    - cap.',
    '    - c.',
    '  patrón: [pat., p., patron]',
    "  \"Mª\": ['M.', \"Mª\"]",
    '  Gênes: [Génova, Genova]',
    '',
  ].join('\n'), 'entity_master_role', 'older', [
    ['capitán', ['cap.', 'c.']],
    ['patrón', ['pat.', 'p.', 'patron']],
    ['Mª', ['M.', 'Mª']],
    ['Gênes', ['Génova', 'Genova']],
  ])
  entity('unidades.yml', [
    'fanegas: [fan., fanega, fs.]',
    'pipas:',
    '- pipa',
    '- pip.',
    'quintales: [qq., quintal, "qq"]',
    'toneladas: [t., ton., "toneladas métricas"]',
    '',
  ].join('\n'), 'entity_unit', 'newer', [
    ['fanegas', ['fan.', 'fanega', 'fs.']],
    ['pipas', ['pipa', 'pip.']],
    ['quintales', ['qq.', 'quintal', 'qq']],
    ['toneladas', ['t.', 'ton.', 'toneladas métricas']],
  ])
  entity('duraciones.json', '{"names": {}}', 'entity_travel_duration', 'older', [])

  // Uploads that must fail; none of their rows may reach a table.
  {
    const st = fileStyle('structured')
    const recs = []
    for (let r = 0; r < 20; r++) recs.push(recordText(structuredRecord(), { ...st, ind: '    ', nl: '\n', base: '    ', colon: ': ' }))
    const { text } = buildArray(recs, { open: '[\n    ', sep: ',\n    ', close: '\n]\n' })
    const cut = text.lastIndexOf('"original_value": "', Math.floor(text.length * 0.75)) + 22
    const t = text.slice(0, cut)
    const f = upload('truncated.json', t, 'entry', 'newer', USERS[1])
    f.kind = 'bad'
    f.error = { line: t.split('\n').length, has: [] }
  }
  {
    const texts = []
    for (let r = 0; r < 10; r++) texts.push(r === 6 ? '42' : recordText(flatRecord(), { ind: '  ', nl: '\n', base: '  ', colon: ': ', comma: '', pad: '' }))
    const { text, ranges } = buildArray(texts, { open: '[\n  ', sep: ',\n  ', close: '\n]\n' })
    const before = Buffer.from(text).subarray(0, ranges[6][0]).toString()
    const f = upload('not-an-object.json', text, 'entry', 'older', USERS[2])
    f.kind = 'bad'
    f.error = { line: before.split('\n').length, has: ['record 7', 'object'] }
  }
  {
    const recs = []
    for (let r = 0; r < 5; r++) recs.push(recordText(flatRecord(), { ind: null, colon: ':', comma: '', pad: '' }))
    const f = upload('other.json', buildArray(recs, { open: '[', sep: ',', close: ']' }).text, 'other', 'newer', USERS[3])
    f.kind = 'bad'
    f.error = { line: null, has: ['"other"'] }
  }

  // The producer's commands, in a shuffled order: HSET, SADD users, RPUSH.
  const order = shuffle([...files])
  const cmds = []
  for (const f of order) {
    cmds.push(['HSET', f.key, ...Object.entries(f.hash).flat()])
    cmds.push(['SADD', 'users', f.user])
    cmds.push(['RPUSH', 'files:all', f.id])
    cmds.push([`RPUSH`, `files:user:${f.user}`, f.id])
  }
  fs.writeFileSync(path.join(dir, 'queue.resp'), Buffer.concat(cmds.map(resp)))

  // delta-check --expect for each table.
  const good = (kind) => files.filter((f) => f.kind === kind)
  const nrows = (f) => (f.kind === 'entry' ? f.records.length : f.entities.length)
  for (const [table, kind] of [['ship_entries', 'entry'], ['known_entities', 'entity']]) {
    const fs_ = good(kind)
    const expect = {
      rows: fs_.reduce((s, f) => s + nrows(f), 0),
      sourceIds: fs_.map((f) => f.id).sort(),
      rowsBySource: Object.fromEntries(fs_.map((f) => [f.id, nrows(f)])),
      distinct: { file_id: fs_.filter((f) => nrows(f) > 0).length },
    }
    fs.writeFileSync(path.join(dir, `expect-${table}.json`), JSON.stringify(expect, null, 1))
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ seed, ingest, files, queued: cmds.length }, null, 1))
  const entries = good('entry')
  console.log(`worker-e2e: seed ${seed}: ${entries.length} entry files (${entries.reduce((s, f) => s + f.records.length, 0)} records), ` +
    `${good('entity').length} entity files (${good('entity').reduce((s, f) => s + f.entities.length, 0)} entities), ` +
    `${files.filter((f) => f.kind === 'bad').length} bad files`)
}

function resp(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = Buffer.from(String(a))
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

// ------------------------------------------------------------------ Redis

// Parse one RESP reply at buf[i..]; null if incomplete, else {value, end}.
function parseResp(buf, i) {
  const eol = buf.indexOf('\r\n', i)
  if (eol < 0) return null
  const t = String.fromCharCode(buf[i])
  const line = buf.toString('utf8', i + 1, eol)
  if (t === '+') return { value: line, end: eol + 2 }
  if (t === '-') return { value: new Error(line), end: eol + 2 }
  if (t === ':') return { value: Number(line), end: eol + 2 }
  if (t === '$') {
    const n = Number(line)
    if (n < 0) return { value: null, end: eol + 2 }
    if (buf.length < eol + 2 + n + 2) return null
    return { value: buf.subarray(eol + 2, eol + 2 + n).toString('utf8'), end: eol + 2 + n + 2 }
  }
  if (t === '*') {
    const n = Number(line)
    if (n < 0) return { value: null, end: eol + 2 }
    const out = []
    let at = eol + 2
    for (let k = 0; k < n; k++) {
      const r = parseResp(buf, at)
      if (!r) return null
      out.push(r.value)
      at = r.end
    }
    return { value: out, end: at }
  }
  throw new Error(`unexpected RESP type ${JSON.stringify(t)}`)
}

async function redisConnect(sock) {
  const s = net.createConnection({ path: sock })
  await new Promise((resolve, reject) => {
    s.once('connect', resolve)
    s.once('error', reject)
  })
  let buf = Buffer.alloc(0)
  const waiting = []
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d])
    for (;;) {
      const r = parseResp(buf, 0)
      if (!r) break
      buf = buf.subarray(r.end)
      const w = waiting.shift()
      if (r.value instanceof Error) w.reject(r.value)
      else w.resolve(r.value)
    }
  })
  s.on('error', (e) => {
    for (const w of waiting.splice(0)) w.reject(e)
  })
  return {
    cmd: (...args) => new Promise((resolve, reject) => {
      waiting.push({ resolve, reject })
      s.write(resp(args))
    }),
    close: () => s.end(),
  }
}

// ------------------------------------------------------------------ the rules

const VALUE_KEYS = ['calculated_value', 'original_value', 'default_value']
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

function isEmptyValue(v) {
  if (v === null) return true
  if (typeof v === 'string') return v.length === 0
  if (Array.isArray(v)) return v.length === 0
  if (isObj(v)) return Object.keys(v).length === 0
  return false
}

// The value that counts (undefined and null both -> null).
function resolveValue(v) {
  if (v === undefined || v === null) return null
  if (!isObj(v)) return v
  const present = VALUE_KEYS.filter((k) => Object.hasOwn(v, k))
  if (present.length === 0) return v // an ordinary object
  for (const k of present) if (!isEmptyValue(v[k])) return v[k]
  return null
}

function asText(v) {
  if (v === null) return null
  switch (typeof v) {
    case 'string':
      return v
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      return String(v)
    default:
      return JSON.stringify(v)
  }
}

function msToDay(ms) {
  const days = ms / 86400000n - (ms % 86400000n < 0n ? 1n : 0n)
  const d = new Date(Number(days) * DAY)
  if (Number.isNaN(d.getTime())) return null
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) return null
  return d.toISOString().slice(0, 10)
}

function asDate(raw) {
  const v = resolveValue(raw)
  if (typeof v === 'number') return Number.isInteger(v) ? msToDay(BigInt(v)) : null
  if (typeof v !== 'string') return null
  if (/^-?\d+$/.test(v)) return msToDay(BigInt(v))
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].+)?$/s.exec(v)
  if (!m) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (mo < 1 || mo > 12 || d < 1) return null
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
  return d <= dim ? `${m[1]}-${m[2]}-${m[3]}` : null
}

// ------------------------------------------------------------------ verify

const MAX_SHOWN = 40

function show(v) {
  if (v === undefined) return 'nothing'
  const s = JSON.stringify(v)
  return s.length <= 160 ? s : `${s.slice(0, 120)}... (${s.length} chars)`
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" -> µs (BigInt), or null
function tsMicros(s) {
  const m = typeof s === 'string' && /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})Z$/.exec(s)
  if (!m) return null
  const ms = Date.parse(`${m[1]}Z`)
  return Number.isNaN(ms) ? null : BigInt(ms) * 1000n + BigInt(m[2])
}

async function verify(args) {
  const dir = path.resolve(args.dir)
  const run = args.run
  const lake = path.resolve(args.lake)
  const t0 = BigInt(args.t0) * 1000n
  const t1 = BigInt(args.t1) * 1000n + 999n
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
  const files = manifest.files
  const byId = new Map(files.map((f) => [f.id, f]))
  const errors = []
  const err = (msg) => errors.push(msg)
  const paths = args.paths ? JSON.parse(fs.readFileSync(args.paths, 'utf8')) : null

  // The fixtures are what the manifest says (a generator bug shows here).
  const expectedRows = new Map() // id -> array of {record, parsed}
  for (const f of files) {
    if (f.kind !== 'entry') continue
    const buf = fs.readFileSync(f.path)
    const whole = JSON.parse(buf.toString('utf8'))
    if (whole.length !== f.records.length) throw new Error(`fixture ${f.id}: ${whole.length} records, manifest says ${f.records.length}`)
    expectedRows.set(f.id, f.records.map(([a, b], i) => {
      const text = buf.subarray(a, b).toString('utf8')
      const parsed = JSON.parse(text)
      if (!isDeepStrictEqual(parsed, whole[i])) throw new Error(`fixture ${f.id}: record ${i}'s byte range is wrong`)
      return { text, parsed }
    }))
  }
  for (const f of files) {
    if (f.kind === 'entity' && f.path.endsWith('.json')) {
      let j = JSON.parse(fs.readFileSync(f.path, 'utf8'))
      if (isObj(j.names) && Object.keys(j)[0] === 'names') j = j.names
      if (!isDeepStrictEqual(Object.entries(j), f.entities)) throw new Error(`fixture ${f.id}: entities differ from the manifest`)
    }
  }

  // ---- the worker's log (--log-format json): one JSON object per line.
  const logPath = path.join(dir, run, 'worker.log')
  if (fs.existsSync(logPath)) {
    fs.readFileSync(logPath, 'utf8').split('\n').forEach((line, k) => {
      if (!line) return
      let o
      try {
        o = JSON.parse(line)
      } catch {
        o = null
      }
      if (!isObj(o) || typeof o.level !== 'string' || typeof o.msg !== 'string') err(`worker.log line ${k + 1} is not a JSON log line: ${show(line)}`)
      else if (o.level === 'error') err(`worker.log line ${k + 1}: ${o.msg}`)
    })
  }

  // ---- the Delta logs: commits, their ids and records, every add's stats.
  const tables = {}
  for (const table of ['ship_entries', 'known_entities']) {
    const spec = JSON.parse(fs.readFileSync(path.join(args.tables, `${table}.json`), 'utf8'))
    const logDir = path.join(lake, table, '_delta_log')
    const commits = new Map() // version -> {ids, records, adds: [stats]}
    const idVersion = new Map()
    for (const name of fs.readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n)).sort()) {
      const version = Number(name.slice(0, 20))
      const c = { ids: [], records: [], adds: [] }
      for (const line of fs.readFileSync(path.join(logDir, name), 'utf8').split('\n')) {
        if (!line.trim()) continue
        const a = JSON.parse(line)
        if (a.commitInfo) {
          c.ids = a.commitInfo.portadaSourceIds ?? []
          c.records = a.commitInfo.portadaSourceRecords ?? null
        }
        if (a.add) c.adds.push({ path: a.add.path, stats: typeof a.add.stats === 'string' ? JSON.parse(a.add.stats) : null })
      }
      commits.set(version, c)
      c.ids.forEach((id) => {
        if (idVersion.has(id)) err(`${table}: upload ${id} is in version ${idVersion.get(id)} and again in version ${version}`)
        idVersion.set(id, version)
      })
      const w = `${table} version ${version}`
      if (c.adds.length > 0 || c.ids.length > 0) {
        if (!Array.isArray(c.records) || c.records.length !== c.ids.length) {
          err(`${w}: commitInfo.portadaSourceRecords ${show(c.records)} does not match portadaSourceIds ${show(c.ids)}`)
        } else {
          c.ids.forEach((id, k) => {
            const f = byId.get(id)
            const want = f?.kind === 'entry' ? f.records.length : f?.kind === 'entity' ? f.entities.length : undefined
            if (want !== undefined && c.records[k] !== want) err(`${w}: portadaSourceRecords says file ${id} has ${c.records[k]} records, it has ${want}`)
          })
          const added = c.adds.reduce((s, a) => s + (a.stats?.numRecords ?? 0), 0)
          const listed = c.records.reduce((s, n) => s + n, 0)
          if (added !== listed) err(`${w}: the adds' numRecords sum to ${added}, portadaSourceRecords to ${listed}`)
        }
      }
      // Stats must be there for every scalar column (delta-check checks the
      // values against the data, but accepts missing ones).
      for (const a of c.adds) {
        const s = a.stats
        if (!s || typeof s.numRecords !== 'number') {
          err(`${w}: add ${a.path} has no stats.numRecords`)
          continue
        }
        for (const col of spec.columns) {
          if (col.type === 'string_list') continue
          const nulls = s.nullCount?.[col.name]
          if (typeof nulls !== 'number') err(`${w}: add ${a.path}: no stats.nullCount.${col.name}`)
          else if (nulls < s.numRecords && (s.minValues?.[col.name] === undefined || s.maxValues?.[col.name] === undefined)) {
            err(`${w}: add ${a.path}: no minValues/maxValues for ${col.name} (${s.numRecords - nulls} non-null values)`)
          }
        }
      }
    }
    tables[table] = { spec, commits, idVersion }
  }

  // ---- delta-check's verdicts and dumps.
  for (const table of Object.keys(tables)) {
    const t = tables[table]
    const cj = path.join(dir, run, `${table}.check.json`)
    let check
    try {
      check = JSON.parse(fs.readFileSync(cj, 'utf8'))
    } catch (e) {
      err(`${table}: no delta-check result (${e.message})`)
      continue
    }
    if (!check.ok) {
      err(`${table}: delta-check found ${check.errors.length} error(s):`)
      for (const e of check.errors.slice(0, 20)) err(`  ${e}`)
    }
    const names = t.spec.columns.map((c) => c.name)
    if (!isDeepStrictEqual(check.schema?.map((c) => c.name), names)) err(`${table}: schema ${show(check.schema?.map((c) => c.name))}, the spec says ${show(names)}`)
    t.check = check
  }

  // ---- Redis: every hash, the queue, the processing list.
  const r = await redisConnect(args.socket)
  try {
    for (const f of files) {
      const flat = await r.cmd('HGETALL', f.key)
      const h = {}
      for (let k = 0; k < flat.length; k += 2) h[flat[k]] = flat[k + 1]
      const w = `file ${f.id} (${f.sourceFilename}, ${f.fileType})`
      for (const [k, v] of Object.entries(f.hash)) {
        const want = k === 'file_path' && paths ? paths[f.id] : v
        if (k !== 'status' && h[k] !== want) err(`${w}: hash field ${k} is ${show(h[k])}, the producer wrote ${show(want)}`)
      }
      if (f.kind === 'bad') {
        if (h.status !== '-1') err(`${w}: status ${show(h.status)}, expected "-1" (the file must fail)`)
        const m = h.error_message ?? ''
        if (!m) err(`${w}: no error_message`)
        for (const s of f.error.has) if (!m.includes(s)) err(`${w}: error_message ${show(m)} does not mention ${show(s)}`)
        if (f.error.line !== null) {
          const got = /\bline (\d+)\b/.exec(m)
          if (!got || Number(got[1]) !== f.error.line) err(`${w}: error_message ${show(m)} should name line ${f.error.line}`)
        }
        for (const k of ['delta_table', 'delta_version', 'records']) if (k in h) err(`${w}: a failed file has ${k} ${show(h[k])}`)
        for (const [table, t] of Object.entries(tables)) {
          if (t.idVersion.has(f.id)) err(`${w}: a failed file is listed in ${table} version ${t.idVersion.get(f.id)}`)
        }
        continue
      }
      const table = f.kind === 'entry' ? 'ship_entries' : 'known_entities'
      const n = f.kind === 'entry' ? f.records.length : f.entities.length
      if (h.status !== '2') err(`${w}: status ${show(h.status)}, expected "2"${h.error_message ? ` (error_message ${show(h.error_message)})` : ''}`)
      if (h.records !== String(n)) err(`${w}: records ${show(h.records)}, the file has ${n}`)
      if (h.delta_table !== table) err(`${w}: delta_table ${show(h.delta_table)}, expected ${table}`)
      if ('error_message' in h) err(`${w}: a finished file has error_message ${show(h.error_message)}`)
      const v = tables[table].idVersion.get(f.id)
      if (v === undefined) err(`${w}: no commit of ${table} lists it`)
      else if (h.delta_version !== String(v)) err(`${w}: delta_version ${show(h.delta_version)}, but version ${v} of ${table} lists it`)
      const other = f.kind === 'entry' ? 'known_entities' : 'ship_entries'
      if (tables[other].idVersion.has(f.id)) err(`${w}: also listed in ${other} version ${tables[other].idVersion.get(f.id)}`)
    }
    // --raw: every upload done is kept, byte for byte, under
    // raw/<file_type>/<user>/<id>.<ext> (components %-encoded but for
    // A-Z a-z 0-9 - _ and dots); a failed one is not.
    if (args.raw) {
      const part = (v) => {
        if (!v) v = '_'
        const dots = /^\.*$/.test(v)
        let out = ''
        for (const b of Buffer.from(v, 'utf8')) {
          const c = String.fromCharCode(b)
          out += /[A-Za-z0-9_-]/.test(c) || (c === '.' && !dots) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0')
        }
        return out
      }
      const ext = (f) => {
        for (const n of [f.path, f.sourceFilename]) {
          const m = /\.(json|yaml|yml)$/i.exec(n ?? '')
          if (m) return m[0].slice(1).toLowerCase()
        }
        return 'json'
      }
      let kept = 0
      for (const f of files) {
        const p = path.join(lake, 'raw', part(f.fileType), part(f.user), `${part(f.id)}.${ext(f)}`)
        const there = fs.existsSync(p)
        if (f.kind === 'bad') {
          if (there) err(`file ${f.id}: failed, but a raw copy is at ${p}`)
        } else if (!there) err(`file ${f.id}: no raw copy at ${p}`)
        else if (!fs.readFileSync(p).equals(fs.readFileSync(f.path))) err(`file ${f.id}: the raw copy at ${p} differs from the upload`)
        else kept++
      }
      console.log(`worker-e2e ${run}: ${kept} raw copies identical to the uploads`)
    }
    const left = await r.cmd('LLEN', 'files:all')
    if (left !== 0) err(`files:all still holds ${left} id(s)`)
    for (const id of args['worker-id'].split(',')) {
      const proc = await r.cmd('LLEN', `files:processing:${id}`)
      if (proc !== 0) err(`files:processing:${id} still holds ${proc} id(s)`)
    }
    for (const u of new Set(files.map((f) => f.user))) {
      const want = files.filter((f) => f.user === u).map((f) => f.id).sort()
      const got = (await r.cmd('LRANGE', `files:user:${u}`, '0', '-1')).sort()
      if (!isDeepStrictEqual(got, want)) err(`files:user:${u} changed: ${show(got)}`)
    }
  } finally {
    r.close()
  }

  // ---- every row of ship_entries against its record.
  const stamps = new Map() // id -> ingested_at (every row of an upload shares it)
  let compared = 0
  let mismatches = 0
  const mismatch = (msg) => {
    mismatches++
    err(msg)
  }
  function checkStamp(id, w, got) {
    const us = tsMicros(got)
    if (us === null) return mismatch(`${w} column ingested_at: ${show(got)} is not a timestamp`)
    if (us < t0 || us > t1) mismatch(`${w} column ingested_at: ${got} is outside the run (${new Date(Number(t0 / 1000n)).toISOString()} .. ${new Date(Number(t1 / 1000n)).toISOString()})`)
    if (!stamps.has(id)) stamps.set(id, got)
    else if (stamps.get(id) !== got) mismatch(`${w} column ingested_at: ${got}, other rows of the upload have ${stamps.get(id)}`)
  }

  function compareTable(table, keyOf, expectedFor) {
    const t = tables[table]
    const dump = path.join(dir, run, `${table}.ndjson`)
    if (!fs.existsSync(dump)) return err(`${table}: no dump ${dump}`)
    const names = t.spec.columns.map((c) => c.name)
    const seen = new Set()
    for (const line of fs.readFileSync(dump, 'utf8').split('\n')) {
      if (!line) continue
      const row = JSON.parse(line)
      const key = keyOf(row)
      const f = byId.get(row.file_id)
      const w = `${table}: file ${row.file_id}${f ? ` (${f.sourceFilename})` : ''} ${key.label}`
      if (!isDeepStrictEqual(Object.keys(row), names)) mismatch(`${w}: columns ${show(Object.keys(row))}, expected ${show(names)}`)
      if (!f) {
        mismatch(`${w}: a row of an id that was never queued`)
        continue
      }
      if (f.kind === 'bad') {
        mismatch(`${w}: a row of a file that must fail`)
        continue
      }
      if (seen.has(key.id)) {
        mismatch(`${w}: a second row for it`)
        continue
      }
      seen.add(key.id)
      const exp = expectedFor(f, row)
      if (!exp) {
        mismatch(`${w}: no such ${table === 'ship_entries' ? 'record' : 'entity'} in the file`)
        continue
      }
      compared++
      for (const c of t.spec.columns) {
        if (c.from === 'ingested_at') {
          checkStamp(f.id, w, row[c.name])
          continue
        }
        if (!(c.name in exp)) {
          mismatch(`${w} column ${c.name}: verify does not know how to compute from ${show(c.from)}`)
          continue
        }
        const accept = f.accept?.[row.record_index]?.[c.name]
        if (accept) {
          if (!accept.includes(row[c.name])) {
            mismatch(`${w} column ${c.name}: expected ${accept.map(show).join(' or ')}, got ${show(row[c.name])}`)
          }
        } else if (!isDeepStrictEqual(row[c.name], exp[c.name])) mismatch(`${w} column ${c.name}: expected ${show(exp[c.name])}, got ${show(row[c.name])}`)
      }
    }
    return seen
  }

  function entryExpected(f, row) {
    const idx = Number(row.record_index)
    const rec = expectedRows.get(f.id)?.[idx]
    if (!rec || String(idx) !== row.record_index) return null
    const out = {}
    for (const c of tables.ship_entries.spec.columns) {
      const [kind, field] = c.from.split(/:(.*)/s)
      if (c.from === 'file_id') out[c.name] = f.id
      else if (c.from === 'record_index') out[c.name] = String(idx)
      else if (c.from === 'uploaded_by') out[c.name] = f.user
      else if (c.from === 'source_filename') out[c.name] = f.sourceFilename
      else if (c.from === 'record') out[c.name] = rec.text
      else if (kind === 'field') out[c.name] = asText(resolveValue(rec.parsed[field]))
      else if (kind === 'date') out[c.name] = asDate(rec.parsed[field])
    }
    return out
  }
  const entrySeen = compareTable('ship_entries',
    (row) => ({ id: `${row.file_id}\u0000${row.record_index}`, label: `record ${row.record_index}` }), entryExpected)

  function entityExpected(f, row) {
    const e = f.entities.find(([n]) => n === row.name)
    if (!e) return null
    const out = {}
    for (const c of tables.known_entities.spec.columns) {
      if (c.from === 'file_id') out[c.name] = f.id
      else if (c.from === 'entity_type') out[c.name] = f.fileType.slice('entity_'.length)
      else if (c.from === 'entity_name') out[c.name] = e[0]
      else if (c.from === 'entity_voices') out[c.name] = e[1]
    }
    return out
  }
  const entitySeen = compareTable('known_entities',
    (row) => ({ id: `${row.file_id}\u0000${row.name}`, label: `entity ${show(row.name)}` }), entityExpected)

  // Rows that should be there and are not.
  for (const f of files) {
    if (f.kind === 'entry' && entrySeen) {
      f.records.forEach((_, i) => {
        if (!entrySeen.has(`${f.id}\u0000${i}`)) mismatch(`ship_entries: file ${f.id} (${f.sourceFilename}) record ${i}: missing from the table`)
      })
    }
    if (f.kind === 'entity' && entitySeen) {
      for (const [n] of f.entities) if (!entitySeen.has(`${f.id}\u0000${n}`)) mismatch(`known_entities: file ${f.id} (${f.sourceFilename}) entity ${show(n)}: missing from the table`)
    }
  }

  // ---- summary
  const count = (k) => files.filter((f) => f.kind === k)
  const desc = (table) => {
    const t = tables[table]
    const withAdds = [...t.commits.values()].filter((c) => c.ids.length > 0)
    const adds = withAdds.reduce((s, c) => s + c.adds.length, 0)
    const single = withAdds.reduce((s, c) => s + c.adds.filter((a) => a.stats?.minValues?.file_id !== undefined && a.stats.minValues.file_id === a.stats.maxValues?.file_id).length, 0)
    return `${table} ${t.check?.rows ?? '?'} rows in ${withAdds.length} commits, ${adds} data files (${single} holding one upload)`
  }
  console.log(`worker-e2e ${run}: ${count('entry').length} entry + ${count('entity').length} entity uploads done, ` +
    `${count('bad').length} failed as expected; ${desc('ship_entries')}; ${desc('known_entities')}; ${compared} rows compared`)
  if (errors.length > 0) {
    for (const e of errors.slice(0, MAX_SHOWN)) console.log(`MISMATCH ${e}`)
    if (errors.length > MAX_SHOWN) console.log(`... and ${errors.length - MAX_SHOWN} more`)
    console.log(`worker-e2e ${run}: FAILED (${errors.length} problem(s), ${mismatches} in rows)`)
    return 1
  }
  console.log(`worker-e2e ${run}: OK`)
  return 0
}

// ------------------------------------------------------------------ remote

// Point every queued upload's file_path at a URL instead, alternating
// between the two bases (the file's path under DIR/ingest appended), and
// keep the map in DIR/paths.json for verify --paths.
async function remote(args) {
  const dir = path.resolve(args.dir)
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
  const bases = [args.http, args.s3]
  const map = {}
  const r = await redisConnect(args.socket)
  try {
    // An s3:// URL holds the key as it is (as the AWS tools take it); an
    // http:// URL is percent-encoded.
    manifest.files.forEach((f, k) => {
      const parts = path.relative(manifest.ingest, f.path).split(path.sep)
      const base = bases[k % 2]
      map[f.id] = base + (base.startsWith('s3://') ? parts : parts.map(encodeURIComponent)).join('/')
    })
    for (const f of manifest.files) await r.cmd('HSET', f.key, 'file_path', map[f.id])
  } finally {
    r.close()
  }
  fs.writeFileSync(path.join(dir, 'paths.json'), JSON.stringify(map))
}

// ------------------------------------------------------------------ main

const args = parseArgs(process.argv.slice(2))
try {
  if (args._[0] === 'gen') {
    gen(args)
    process.exit(0)
  } else if (args._[0] === 'verify') {
    process.exit(await verify(args))
  } else if (args._[0] === 'remote') {
    await remote(args)
    process.exit(0)
  }
  console.error('usage: worker-e2e.mjs gen --dir DIR [--seed N] | verify --dir DIR --run NAME --lake LAKE --socket SOCK --worker-id ID --t0 MS --t1 MS --tables DIR')
  process.exit(2)
} catch (e) {
  console.error(`worker-e2e: ${e.stack ?? e}`)
  process.exit(2)
}

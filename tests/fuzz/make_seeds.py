#!/usr/bin/env python3
"""Write the hand-made seeds of the fuzz corpora (seed-* files).

    python3 tests/fuzz/make_seeds.py [TARGET...]     (default: all of them)

TARGET is one of parquet, jsonscan, records, deltalog; each writes
tests/fuzz/corpus/<TARGET>/ (corpus/jtree is kept by hand).

- parquet: inputs in the format described at the top of fuzz_parquet.c.
- jsonscan: two control bytes (fuzz_jsonscan.c), then a document: small
  synthetic uploads of both PortAda shapes (entry files structured and
  flat, entity files plain and {"names": ...}) and JSON edge cases, some
  read again with other limits and chunkings.
- records: one control byte (fuzz_records.c: entry or entity file), then a
  document of the same kinds.
- deltalog: version files of _delta_log/ as the worker writes them (built
  here from tables/*.json the way src/deltalog.c writes them), as Spark and
  delta-rs write them, refused ones, and _delta_log/ entry names.

Crash inputs found by the fuzzers live next to the seeds (crash-*, named
after the bug) and are not touched here.
"""
import json
import os
import struct
import sys

# Column types (enum pw_pq_type) and codecs (index into the fuzzer's table).
STRING, LONG, INTEGER, DATE, TIMESTAMP, DOUBLE, BOOLEAN, LIST = range(8)
NONE, SNAPPY, GZIP, ZSTD = range(4)


def header(cols, codec, level=0, options=None, k=0xFFFF):
    """cols: [(type, required, name_style)]; options: 6 (selector, param)
    pairs for page_bytes, row_group_bytes, row_group_rows, dictionary_bytes,
    stats_bytes, memory_limit, or None for the defaults."""
    out = [(len(cols) - 1) | (0 if options else 16), codec | level << 2]
    for t, req, style in cols:
        out.append(t | (8 if req else 0) | style << 4)
    if options:
        assert len(options) == 6
        for sel, param in options:
            out += [sel] + list(struct.pack('<H', param))
    out += list(struct.pack('<H', k))
    return out


# Option selectors: DEFAULT, CHOICE(i) from the fuzzer's table, SMALL(n) = n
# (1..256), BIG(n) = n (1..65536).
def DEFAULT():
    return (0, 0)


def CHOICE(i):
    return (1, i)


def SMALL(n):
    return (2, n - 1)


def BIG(n):
    return (3, n - 1)


# Strings (gen_string).
def s_empty():
    return [0]


def s_nullptr():
    return [1]            # NULL, 0: an empty string, or a null list item


def s_raw(b):
    assert len(b) < 32
    return [2 | len(b) << 3] + list(b)


def s_cps(idx):
    """Characters from the fuzzer's code point table (indices < 28)."""
    assert len(idx) < 32
    return [3 | len(idx) << 3] + list(idx)


def s_long(p, cp, last):
    return [4 | p << 3, cp, last]      # 32 << (p & 7) characters (p < 8)


def s_pool(i):
    return [5 | i << 3]


def s_bad(i, pool_idx, at):
    return [6 | i << 3, pool_idx] + ([at] if pool_idx != 0 else [])


def s_nullptr_n(k):
    return [7 | k << 3]   # NULL with n = 1 + k: invalid string, null list item


# Values (gen_value).
NULL = [0]


def wrong(k):
    return [16 + k]


def string(s):
    return [24] + s


def lst(*items):
    assert len(items) < 14
    out = [24, len(items)]
    for it in items:
        out += it
    return out


EMPTY_LIST_NULL_ITEMS = [24, 0x10]
BAD_LIST = [24, 0xE3]      # items == NULL with n == 3


def dbl(k, extra=()):
    return [24, k] + list(extra)


def raw_double(x):
    return [24, 19] + list(struct.pack('<d', x))


def boolean(b):
    return [25 if b else 24]


def int_table(i):
    return [25, i]


def int8(v):
    return [27, v & 0xFF]


def int32(v):
    return [28] + list(struct.pack('<i', v))


def int64(v):
    return [29] + list(struct.pack('<q', v))


def row(*values):
    out = [0]
    for v in values:
        out += v
    return out


def repeat(n):
    """Repeat the last row n times (1..256)."""
    return [0xEF + n] if n <= 15 else [0xFF, n - 1]


def bump(k):
    """Repeat the last row 2^(k & 7) (x 3 if k & 8) times, each string with
    "#<n>" appended: distinct strings in bulk."""
    return [0xE0 + k]


ALL8 = [(t, False, t % 4) for t in range(8)]


def all8_rows():
    rows = []
    rows += row(string(s_pool(1)), int_table(2), int_table(12), int_table(9),
                int_table(20), dbl(2), boolean(True), lst(s_pool(3), s_nullptr()))
    rows += row(string(s_cps([0, 11, 22, 24])), int_table(16), int_table(13),
                int_table(10), int_table(21), dbl(1), boolean(False), lst())
    rows += row(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
    rows += row(string(s_empty()), int_table(17), int8(-5), int32(-719162),
                int64(-1), dbl(6), boolean(True), EMPTY_LIST_NULL_ITEMS)
    # invalid: integer out of range, then a wrong kind, then bad UTF-8
    rows += row(string(s_pool(2)), int8(1), int_table(14), int8(1), int8(1),
                dbl(0), boolean(False), lst())
    rows += row(string(s_pool(2)), wrong(0), int8(1), int8(1), int8(1), dbl(0),
                boolean(False), lst())
    rows += row(string(s_bad(2, 1, 1)), int8(1), int8(1), int8(1), int8(1),
                dbl(0), boolean(False), lst())
    rows += row(string(s_pool(4)), int64(2**62), int32(7), int32(-7), int64(-2**62),
                dbl(4), boolean(False), lst(s_pool(6), s_pool(6), s_pool(7)))
    rows += repeat(20)
    rows += row(string(s_pool(10)), int8(3), int8(3), int8(3), int8(3), dbl(5),
                boolean(True), lst(s_pool(10), s_empty(), s_nullptr_n(3)))
    return rows


def seeds():
    yield 'seed-all-types-zstd', header(ALL8, ZSTD) + all8_rows()
    yield 'seed-all-types-snappy-small', header(
        ALL8, SNAPPY,
        options=[SMALL(1), CHOICE(1), SMALL(2), SMALL(16), SMALL(3), CHOICE(8)]) + all8_rows()
    yield 'seed-all-types-gzip9-required', header(
        [(t, True, 0) for t in range(8)], GZIP, level=3,
        options=[CHOICE(5), SMALL(200), DEFAULT(), CHOICE(0), CHOICE(3), CHOICE(8)]) + all8_rows()
    yield 'seed-all-types-none-defaults', header(ALL8, NONE, k=0x8000) + all8_rows()
    yield 'seed-all-types-zstd9-pages', header(
        ALL8, ZSTD, level=3,
        options=[CHOICE(3), BIG(3000), CHOICE(4), CHOICE(6), SMALL(64), CHOICE(7)],
        k=0x4000) + all8_rows()

    # Strings: dictionary overflow within a chunk, stats cut at every width.
    strs = []
    for i in range(14):
        strs += row(string(s_pool(i)), lst(s_pool(i), s_pool(13 - i), s_nullptr()))
    strs += row(string(s_cps([24, 24, 23])), lst(s_cps([24, 24])))
    strs += row(string(s_cps([16, 16, 16])), lst(s_cps([2, 24, 24])))
    strs += repeat(3)
    for stats in (1, 2, 3, 4, 5):
        codec = NONE if stats % 2 else SNAPPY
        yield f'seed-strings-stats{stats}-{"none" if codec == NONE else "snappy"}', header(
            [(STRING, False, 1), (LIST, stats % 2 == 0, 2)], codec,
            options=[SMALL(16), BIG(40000), DEFAULT(), SMALL(24), SMALL(stats), CHOICE(8)],
            k=stats * 9000) + strs

    # Dictionaries that grow (tables rehashed) and overflow to PLAIN.
    grow = row(string(s_pool(15)), lst(s_pool(1), s_nullptr(), s_pool(6)))
    grow += bump(15) + bump(7) + row(string(s_pool(1)), NULL) + repeat(3)
    yield 'seed-dictionary-growth', header(
        [(STRING, False, 0), (LIST, False, 1)], ZSTD, k=0x5555) + grow
    yield 'seed-dictionary-overflow', header(
        [(STRING, True, 0), (LIST, False, 1)], SNAPPY,
        options=[CHOICE(8), DEFAULT(), DEFAULT(), CHOICE(7), DEFAULT(), DEFAULT()],
        k=0xAAAA) + grow

    # Max strings made of U+10FFFF: no upper bound within the cut.
    top = row(string(s_cps([24, 24, 24])), lst(s_cps([24, 24, 24, 24])))
    yield 'seed-strings-10ffff', header(
        [(STRING, True, 0), (LIST, False, 0)], ZSTD,
        options=[DEFAULT(), DEFAULT(), DEFAULT(), DEFAULT(), SMALL(5), DEFAULT()]) + \
        row(string(s_pool(1)), lst(s_pool(1))) + top + repeat(2)

    # Long strings against a small memory limit and row groups.
    longs = row(string(s_long(5, 0, 11)), lst(s_long(3, 12, 0), s_pool(1)))
    longs += repeat(4)
    longs += row(string(s_long(7, 1, 1)), lst())
    longs += row(string(s_pool(1)), lst(s_pool(2)))
    longs += repeat(10)
    yield 'seed-long-strings-memory-limit', header(
        [(STRING, False, 0), (LIST, False, 3)], GZIP,
        options=[CHOICE(7), CHOICE(5), DEFAULT(), DEFAULT(), DEFAULT(), CHOICE(4)],
        k=0xC000) + longs
    yield 'seed-long-strings-no-dictionary', header(
        [(STRING, False, 0), (LIST, True, 3)], ZSTD,
        options=[DEFAULT(), CHOICE(6), DEFAULT(), CHOICE(0), SMALL(7), CHOICE(6)]) + longs

    # Doubles: NaN only, signed zeros, infinities, a NaN payload.
    nan = row(dbl(6), dbl(7)) + repeat(2)
    zeros = row(dbl(1), dbl(0)) + row(dbl(0), dbl(1)) + row(dbl(6), dbl(11))
    infs = row(dbl(4), dbl(5)) + row(dbl(15, b'\x01\x02\x03\x04\x05\x06\x07\x08'), dbl(12))
    cols = [(DOUBLE, False, 0), (DOUBLE, True, 1)]
    yield 'seed-doubles-nan', header(cols, SNAPPY) + nan
    yield 'seed-doubles-zeros', header(cols, NONE, k=0x7000) + nan + zeros
    yield 'seed-doubles-inf', header(cols, ZSTD) + zeros + infs + \
        row(raw_double(1e300), raw_double(-2.5))

    # Integers at their edges; booleans all one way.
    ints = []
    for i in range(24):
        ints += row(int_table(i), int_table(i), int_table(i), int_table(i), boolean(i % 3 == 0))
    yield 'seed-ints-edges', header(
        [(LONG, True, 0), (INTEGER, False, 0), (DATE, True, 0), (TIMESTAMP, False, 0),
         (BOOLEAN, True, 0)], GZIP,
        options=[SMALL(8), DEFAULT(), CHOICE(2), DEFAULT(), DEFAULT(), DEFAULT()],
        k=0x2000) + ints

    # Twelve columns, many repeated rows: several pages and row groups.
    twelve = [(t % 8, t >= 8, t % 4) for t in range(12)]
    many = row(string(s_pool(5)), int8(1), int8(2), int8(3), int8(4), dbl(13, [9]),
               boolean(True), lst(s_pool(5)), string(s_pool(6)), int8(5), int8(6), int8(7))
    many += repeat(256) + repeat(256)
    many += row(string(s_pool(7)), NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                string(s_pool(8)), int8(8), int8(9), int8(10))
    many += repeat(200)
    yield 'seed-twelve-columns-many-rows', header(
        twelve, ZSTD,
        options=[CHOICE(7), CHOICE(6), DEFAULT(), CHOICE(5), DEFAULT(), CHOICE(8)],
        k=0x9999) + many

    # Invalid lists and strings: refused, output unchanged.
    bad = row(lst(s_pool(1)), string(s_pool(1)))
    bad += row(BAD_LIST, string(s_pool(1)))
    bad += row(lst(s_raw(b'\xff\xfe')), string(s_pool(1)))
    bad += row(lst(s_pool(1)), string(s_nullptr_n(4)))
    bad += row(lst(s_pool(1)), string(s_nullptr()))
    bad += row(lst(s_pool(1)), NULL)
    bad += row(wrong(5), string(s_pool(1)))
    bad += row(lst(s_bad(7, 15, 10)), string(s_raw(b'ok')))
    yield 'seed-invalid-rows', header([(LIST, True, 2), (STRING, True, 1)], SNAPPY,
                                      k=0x6000) + bad

    # pw_pq_open refuses invalid schemas and options (run O).
    for case in (0, 3, 5, 8, 12, 16):
        yield f'seed-open-invalid-{case}', [0xF1, 3, 0, 1, 0, 0, case]


HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def jdump(v):
    """Compact JSON as the worker and the PortAda files write it (UTF-8 kept)."""
    return json.dumps(v, ensure_ascii=False, separators=(',', ':'))


def pretty(v):
    """Indented JSON as PortAda's extractor writes its files."""
    return json.dumps(v, ensure_ascii=False, indent=2)


# Synthetic PortAda uploads (see docs: the contract), a few records each.
ENTRY_STRUCTURED = [
    {
        "model_version": {"original_value": "boat_fact-00.00.01"},
        "publication_date": {"original_value": "1850-01-03", "calculated_value": "-3786825600000"},
        "publication_name": {"original_value": "DB"},
        "publication_edition": {"calculated_value": "U"},
        "publication_page_number": {"original_value": "2"},
        "news_section": {"calculated_value": "E"},
        "time_of_arrival": {"original_value": "Embarcaciones llegadas ayer", "calculated_value": "y"},
        "elapsed_days_from_arrival": {"calculated_value": "1"},
        "travel_departure_port": {"original_value": "Málaga", "calculated_value": ""},
        "travel_duration": {"original_value": "3 días"},
        "ship_type": {"original_value": "polacra"},
        "ship_flag": {"original_value": "esp.", "default_value": "española"},
        "ship_name": {"original_value": "Virgen del Carmen"},
        "ship_tons": {"original_value": 45, "calculated_value": None},
        "master_role": {"original_value": "pat."},
        "master_name": {"original_value": "Joaquín Fariñós", "default_value": "????"},
        "cargo_list": {"original_value": [
            {"cargo_merchant_name": "Serra y Parladé",
             "cargo": [{"cargo_quantity": "200", "cargo_commodity": "garbanzos",
                        "cargo_unit": "fanegas"}]}]},
        "obs": {"original_value": [], "default_value": {}},
    },
    {
        "model_version": {"original_value": "boat_fact-00.00.01"},
        "publication_date": {"calculated_value": -3786825600000},
        "ship_name": {"original_value": "San José", "calculated_value": "S. José"},
        "ship_tons": {"calculated_value": 12.5},
        "master_name": {"default_value": "????"},
        "cargo_list": {"calculated_value": [{"cargo_merchant_name": "Romeu",
                                             "cargo": [{"cargo_quantity": 19.0,
                                                        "cargo_unit": "pipas"}]}]},
    },
    {
        "model_version": {"original_value": "boat_fact-00.00.01"},
        "publication_date": {"original_value": "1850-02-29"},
        "ship_name": "Nueva \"Paloma\"\\n",
        "ship_amount": None,
        "travel_arrival_port": True,
    },
]

ENTRY_FLAT = [
    {
        "source_file": "1861_01_01",
        "publication_date": "1861-01-01T00:00:00",
        "publication_day": "",
        "arrival_date": "",
        "travel_departure_port": "Bahía Honda",
        "ship_type": "gol.",
        "ship_flag": "",
        "ship_name": "Conchita",
        "master_role": "pat.",
        "master_name": "Perrer",
        "cargo_list": [{"cargo_name": "miel", "cargo_units": "cuartos", "cargo_count": "38"},
                       {"cargo_name": "aguardiente", "cargo_units": "pipas", "cargo_count": "5"}],
        "raw_text": "De Bahía Honda gol. Conchita, pat. Perrer, con miel y aguardiente.",
    },
    {
        "source_file": "1861_01_01",
        "publication_date": "-3471292800000",
        "ship_type": "berg.",
        "ship_name": "Dos Hermanos",
        "ship_tons": 120,
        "cargo_list": [],
        "raw_text": "De Nueva York berg. Dos Hermanos, cap. Smith.",
    },
]

ENTITY_FLAT = {
    "españolas": ["española", "españoles", "esp."],
    "inglesa": ["ingl.", "ingles", "británica"],
    "francesa": [],
}

ENTITY_NAMES = {"names": {
    "Barcelona": ["Barna", "Barcelona"],
    "Castellón": ["Castellon", "Castellón de la Plana"],
    "La Habana": ["Habana", "la Habana", ""],
}}

BOM = b'\xef\xbb\xbf'


def documents():
    """(name, kind, bytes): kind 'entry', 'entity' or 'any' (edge cases)."""
    yield 'entry-structured', 'entry', pretty(ENTRY_STRUCTURED).encode()
    yield 'entry-flat', 'entry', pretty(ENTRY_FLAT).encode()
    yield 'entry-compact', 'entry', jdump(ENTRY_FLAT[:1] + ENTRY_STRUCTURED[1:2]).encode()
    yield 'entry-crlf-bom', 'entry', BOM + pretty(ENTRY_FLAT[1:]).replace('\n', '\r\n').encode()
    yield 'entity-flat', 'entity', pretty(ENTITY_FLAT).encode()
    yield 'entity-names', 'entity', pretty(ENTITY_NAMES).encode()
    yield 'entity-names-then-more', 'entity', b'{"names": {"Vigo": ["Vigo"]}, "extra": 1}'
    yield 'entity-names-not-first', 'entity', '{"Cadiz": ["Cádiz"], "names": {"Vigo": []}}'.encode()
    yield 'entity-bad-voices', 'entity', b'{"Vigo": "Vigo", "Bilbao": ["Bilbao", 3]}'
    yield 'entity-bad-names', 'entity', b'{"": ["x"], "a\\u0000b": ["y"], "\\ud800": []}'
    yield 'entity-escaped-name', 'entity', '{"Coru\\u00f1a": ["A Coruña"], "\\"q\\"": ["\\\\"]}'.encode()
    yield 'entry-not-objects', 'entry', b'[{"a": 1}, 2, "three", [4], null, {"b": {}}]'
    yield 'entry-duplicates', 'entry', b'[{"ship_name": "A", "ship_name": {"original_value": "B"}, "x": 1}]'
    yield 'entry-numbers', 'entry', (b'[{"ship_tons": -0, "ship_amount": 1e400, "a": 12.5e-3, '
                                     b'"b": 9223372036854775807, "c": 9223372036854775808, '
                                     b'"travel_duration": 20.0, "publication_date": 1e3}]')
    yield 'entry-dates', 'entry', (b'[{"publication_date": "0001-01-01"}, {"publication_date": "9999-12-31 23:59"},'
                                   b' {"publication_date": "1900-02-29"}, {"publication_date": "-1"},'
                                   b' {"publication_date": "99999999999999999999"},'
                                   b' {"publication_date": {"calculated_value": -62135596800000}},'
                                   b' {"publication_date": 1.5}, {"publication_date": true}]')
    yield 'entry-escapes', 'entry', ('[{"raw_text": "tab\\there \\"q\\" \\\\ \\/ \\b\\f\\r\\n '
                                     '\\u00e9 \\ud83d\\ude00 \\u0000 end", "obs": "\u00e9\U0001F600"}]').encode()
    yield 'entry-deep', 'entry', b'[{"obs": ' + b'[' * 70 + b']' * 70 + b'}]'
    yield 'entry-empty', 'entry', b'[]'
    yield 'entity-empty', 'entity', b'{ }'
    yield 'bad-truncated', 'entry', pretty(ENTRY_FLAT).encode()[:300]
    yield 'bad-trailing-comma', 'entry', b'[{"a": 1},]'
    yield 'bad-utf8', 'entry', b'[{"a": "\xc3\x28"}, {"b": "\xc0\xaf"}, {"c": "\xed\xa0\x80"}]'
    yield 'bad-control', 'entry', b'[{"a": "line\nbreak"}]'
    yield 'bad-lone-surrogate', 'entry', b'[{"a": "\\udc00"}, {"b": "\\ud800x"}]'
    yield 'bad-top-scalar', 'any', b' "just a string" '
    yield 'bad-after-end', 'entry', b'[{"a": 1}] [2]'
    yield 'bad-nul-after-number', 'entry', b'[1\x00]'
    yield 'bad-literals', 'entry', b'[{"a": tru, "b": nul}]'
    yield 'bad-number', 'entry', b'[{"a": -}, {"b": 01}, {"c": 1.}, {"d": 1e}]'


def jsonscan_seeds():
    # (flags, chunk byte): see fuzz_jsonscan.c.  Array or object by kind.
    for name, kind, doc in documents():
        top = 1 if kind == 'entity' else 0
        unwrap = 2 if kind == 'entity' else 0
        yield f'seed-{name}', bytes([top | unwrap, 0x2B]) + doc
    # the same documents under limits, early stops and other chunkings
    docs = {name: (kind, doc) for name, kind, doc in documents()}
    variants = [
        ('entry-structured', 0x04, 0x00, 'max8-bytewise'),
        ('entry-structured', 0x08, 0x35, 'max64'),
        ('entry-flat', 0x0C, 0x47, 'max1024-big-chunks'),
        ('entry-flat', 0x40 | 0x80, 0x21, 'stop-at-2-empty-chunks'),
        ('entry-deep', 0x30, 0x13, 'depth5'),
        ('entry-deep', 0x10, 0x02, 'depth1'),
        ('entity-names', 0x01, 0x1A, 'no-unwrap'),
        ('entity-names', 0x03 | 0x20, 0x63, 'unwrap-depth2'),
        ('entity-flat', 0x03 | 0x04, 0x05, 'max8'),
        ('entry-crlf-bom', 0x00, 0x00, 'bytewise'),
        ('bad-utf8', 0x00, 0x01, 'split-2'),
        ('entity-flat', 0x00, 0x44, 'as-array'),
        ('entry-flat', 0x01, 0x44, 'as-object'),
    ]
    for name, flags, chunk, what in variants:
        yield f'seed-{name}-{what}', bytes([flags, chunk]) + docs[name][1]


def records_seeds():
    for name, kind, doc in documents():
        if kind == 'any':
            yield f'seed-{name}-entry', b'\x00' + doc
            yield f'seed-{name}-entity', b'\x01' + doc
        else:
            yield f'seed-{name}', bytes([1 if kind == 'entity' else 0]) + doc
    yield 'seed-entry-structured-row-groups', b'\x02' + pretty(ENTRY_STRUCTURED * 3).encode()
    yield 'seed-entity-names-row-groups', b'\x03' + jdump(ENTITY_NAMES).encode()


# ---- Delta log --------------------------------------------------------------

def spec_columns(name):
    with open(os.path.join(TOP, 'tables', name + '.json'), encoding='utf-8') as f:
        return json.load(f)['columns']


def delta_type(t):
    if t == 'string_list':
        return {"type": "array", "elementType": "string", "containsNull": True}
    return t


def schema_string(columns, extra_meta=None):
    fields = []
    for c in columns:
        meta = (extra_meta or {}).get(c['name'], {})
        fields.append({"name": c['name'], "type": delta_type(c['type']),
                       "nullable": c['nullable'], "metadata": meta})
    return jdump({"type": "struct", "fields": fields})


def commit_info(ts, ids=(), records=None, txn=None):
    ci = {"timestamp": ts, "operation": "WRITE", "operationParameters": {"mode": "Append"},
          "isBlindAppend": True, "engineInfo": "portada-worker/0.1.0"}
    if txn is not None:
        ci["txnId"] = txn
    ci["portadaSourceIds"] = list(ids)
    if records is not None:
        ci["portadaSourceRecords"] = list(records)
    return jdump({"commitInfo": ci})


def lines(*ls):
    return ''.join(line + '\n' for line in ls).encode()


PROTOCOL = jdump({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}})


def metadata(table_id, schema, config=None, created=1795961770096, partitions=()):
    return jdump({"metaData": {"id": table_id, "format": {"provider": "parquet", "options": {}},
                               "schemaString": schema, "partitionColumns": list(partitions),
                               "configuration": config or {}, "createdTime": created}})


def add(path, size, stats, mtime=1795961770101):
    return jdump({"add": {"path": path, "partitionValues": {}, "size": size,
                          "modificationTime": mtime, "dataChange": True,
                          "stats": jdump(stats)}})


def deltalog_seeds():
    ship = spec_columns('ship_entries')
    ents = spec_columns('known_entities')
    ship_id, ent_id = 'e07c7d08-63af-4a45-9f36-67af2501a68c', '05649542-1abb-4c8b-9c23-a4e3a674fcaa'
    up1, up2 = '5bbff764-c240-4e74-bf7c-fe8e515d45da', '74e238ac-9d5b-4224-af93-1a563b93b30c'

    # What the worker writes: version 0, appends, a schema change.
    yield 'seed-worker-ship-v0', lines(PROTOCOL, metadata(ship_id, schema_string(ship)),
                                       commit_info(1795961770095))
    yield 'seed-worker-entities-v0', lines(PROTOCOL, metadata(ent_id, schema_string(ents)),
                                           commit_info(1795961770096))
    ship_stats = {"numRecords": 8,
                  "minValues": {"file_id": up1, "record_index": 0, "uploaded_by": "quickstart",
                                "ingested_at": "2026-11-29T14:16:10.098Z",
                                "publication_date": "1850-01-01", "ship_name": "Conchita"},
                  "maxValues": {"file_id": up2, "record_index": 4, "uploaded_by": "quickstart",
                                "ingested_at": "2026-11-29T14:16:10.099Z",
                                "publication_date": "1861-01-01", "ship_name": "Virgen del Carmen"},
                  "nullCount": {"file_id": 0, "record_index": 0, "uploaded_by": 0,
                                "ingested_at": 0, "publication_date": 2, "ship_name": 0}}
    yield 'seed-worker-ship-append', lines(
        add('part-00000-0a8d5c50-49a2-42ed-9eeb-35e14c0c12c8-c000.zstd.parquet', 13648, ship_stats),
        commit_info(1795961770101, [up1, up2], [3, 5]))
    ent_stats = {"numRecords": 10,
                 "minValues": {"file_id": up1, "entity_type": "flag", "name": "Barcelona",
                               "ingested_at": "2026-11-29T14:16:10.098Z"},
                 "maxValues": {"file_id": up2, "entity_type": "ship_type", "name": "vapor\u0000",
                               "ingested_at": "2026-11-29T14:16:10.099Z"},
                 "nullCount": {"file_id": 0, "entity_type": 0, "name": 0, "ingested_at": 0}}
    yield 'seed-worker-entities-append-two-files', lines(
        add('part-00000-ecd331be-dd35-4b3f-a81d-00f11cc968fa-c000.zstd.parquet', 1379, ent_stats),
        add('part-00001-own%20file%C3%A9-c000.snappy.parquet', 99, {"numRecords": 1}),
        commit_info(1795961770102, [up1, up2, 'b0a58da2'], [3, 3, 4], txn='txn-1'))
    yield 'seed-worker-schema-added-column', lines(
        metadata(ship_id, schema_string(ship + [{"name": "ship_agent_name", "type": "string",
                                                  "nullable": True}])),
        commit_info(1795961771000))
    yield 'seed-worker-old-schema', lines(PROTOCOL, metadata(ship_id, schema_string(ship[:10])),
                                          commit_info(1795961770095))

    # Other engines: features, configuration, txn, remove, cdc, domainMetadata.
    spark_schema = jdump({"type": "struct", "fields": [
        {"name": "file_id", "type": "string", "nullable": False, "metadata": {}},
        {"name": "n", "type": "long", "nullable": True,
         "metadata": {"delta.identity.start": 1, "comment": "x"}}]})
    yield 'seed-spark-features', lines(
        jdump({"commitInfo": {"timestamp": 1700000000000, "operation": "CREATE TABLE",
                              "engineInfo": "Apache-Spark/3.5.0 Delta-Lake/3.1.0"}}),
        jdump({"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                            "readerFeatures": ["columnMapping", "deletionVectors"],
                            "writerFeatures": ["columnMapping", "appendOnly", "rowTracking"]}}),
        metadata('9f3b1c2e-1111-2222-3333-444455556666', spark_schema,
                 config={"delta.columnMapping.mode": "name", "delta.appendOnly": "true",
                         "delta.constraints.positive": "n > 0"}))
    yield 'seed-delta-rs', lines(
        jdump({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}),
        metadata('aa', schema_string(ents), config={"delta.enableInCommitTimestamps": None,
                                                    "delta.checkpointInterval": "10"}),
        jdump({"txn": {"appId": "portada", "version": 7, "lastUpdated": 1}}),
        jdump({"txn": {"appId": "other", "version": -1}}),
        jdump({"commitInfo": {"timestamp": 1, "operation": "CREATE TABLE",
                              "clientVersion": "delta-rs.0.17.0"}}))
    yield 'seed-remove-cdc-domain-unknown', (
        lines(jdump({"remove": {"path": "part-0001.parquet", "deletionTimestamp": 5,
                                "dataChange": True}}),
              jdump({"cdc": {"path": "_change_data/x.parquet", "partitionValues": {}, "size": 1,
                             "dataChange": False}}),
              jdump({"domainMetadata": {"domain": "delta.rowTracking", "configuration": "{}",
                                        "removed": False}}),
              jdump({"checkpointMetadata": {"version": 3}}),
              jdump({"sidecar": {"path": "a.parquet", "sizeInBytes": 1}}))
        + b'\r\n   \r\n' + add('p%3Aq', 1, {"numRecords": 2}).encode())
    yield 'seed-partitioned-not-parquet', lines(
        PROTOCOL,
        jdump({"metaData": {"id": "x", "format": {"provider": "orc"},
                            "schemaString": schema_string(ents), "partitionColumns": ["name"],
                            "configuration": None}}))
    yield 'seed-writer-features', lines(
        jdump({"protocol": {"minReaderVersion": 2, "minWriterVersion": 5}}),
        metadata('y', schema_string(ship, {"ship_name": {"delta.invariants": "{}"},
                                           "record_index": {"CURRENT_DEFAULT": "0"}})))

    # Refused files.
    bad_types = ['"decimal(10,2)"', '"short"', '"timestamp_ntz"', '"frobnicate"',
                 '{"type":"struct","fields":[]}', '{"type":"map","keyType":"string"}',
                 '{"type":"array","elementType":"long","containsNull":true}',
                 '{"type":"array","elementType":"string","containsNull":false}',
                 '{"type":"array","elementType":"string"}', '7']
    for i, t in enumerate(bad_types):
        schema = '{"type":"struct","fields":[{"name":"a","type":%s,"nullable":true}]}' % t
        yield f'seed-schema-refused-{i}', lines(PROTOCOL, metadata('z', schema))
    yield 'seed-schema-case-clash', lines(metadata('z', jdump({"type": "struct", "fields": [
        {"name": "Name", "type": "string", "nullable": True},
        {"name": "name", "type": "string", "nullable": True}]})))
    yield 'seed-schema-odd-names', lines(metadata('z', jdump({"type": "struct", "fields": [
        {"name": "a b", "type": "string", "nullable": True, "metadata": None},
        {"name": "file_id", "type": "long", "nullable": True}]})))
    yield 'seed-two-protocols', lines(PROTOCOL, PROTOCOL)
    yield 'seed-two-txns', lines(jdump({"txn": {"appId": "a", "version": 1}}),
                                 jdump({"txn": {"appId": "a", "version": 2}}))
    yield 'seed-bad-json', lines(PROTOCOL) + b'{"add": {"path": "x", \n'
    yield 'seed-bad-shapes', lines('[1]', '{"add": 1, "remove": 2}')
    yield 'seed-bad-add', lines(jdump({"add": {"size": 3}}))
    yield 'seed-bad-protocol', lines(jdump({"protocol": {"minReaderVersion": "1"}}))
    yield 'seed-commitinfo-odd', lines(
        jdump({"commitInfo": {"portadaSourceIds": ["a", "b"], "portadaSourceRecords": [1],
                              "timestamp": "x", "txnId": 5}}),
        jdump({"commitInfo": {"portadaSourceIds": "not a list"}}))

    # _delta_log/ entry names, one per line (every line is also classified).
    yield 'seed-log-names', lines(
        '00000000000000000000.json', '00000000000000000010.checkpoint.parquet',
        '00000000000000000010.checkpoint.0000000001.0000000002.parquet',
        '00000000000000000010.checkpoint.0000000003.0000000002.parquet',
        '00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json',
        '00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.parquet',
        '_last_checkpoint', '00000000000000000010.crc', '.00000000000000000011.json.tmp',
        '09223372036854775807.json', '09223372036854775808.json', '0000000000000000001.json')


TARGETS = {
    'jsonscan': (jsonscan_seeds, 8192),
    'records': (records_seeds, 8192),
    'deltalog': (deltalog_seeds, 16384),
}


def main():
    targets = sys.argv[1:] or ['parquet'] + list(TARGETS)
    for target in targets:
        out = os.path.join(HERE, 'corpus', target)
        os.makedirs(out, exist_ok=True)
        if target == 'parquet':
            gen, limit = seeds, 4096
        elif target in TARGETS:
            gen, limit = TARGETS[target]
        else:
            sys.exit(f'make_seeds.py: unknown target {target}')
        count = 0
        for name, data in gen():
            b = bytes(data)
            assert len(b) < limit, name
            with open(os.path.join(out, name), 'wb') as f:
                f.write(b)
            count += 1
        assert count <= 50, target


if __name__ == '__main__':
    main()

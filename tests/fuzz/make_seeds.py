#!/usr/bin/env python3
"""Write the hand-made seeds of tests/fuzz/corpus/parquet/ (seed-*).

Each seed is an input in the format described at the top of
fuzz_parquet.c.  Crash inputs found by the fuzzer live next to them
(crash-*, named after the bug) and are not touched here.

    python3 tests/fuzz/make_seeds.py [DIR]
"""
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


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'parquet')
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        b = bytes(data)
        assert len(b) < 4096, name
        with open(os.path.join(out, name), 'wb') as f:
            f.write(b)


if __name__ == '__main__':
    main()

// DuckDB's side of bench/parquet-encode.sh: load the rows pq_bench wrote as
// NDJSON into in-memory tables with explicit column types (not timed): t
// with every row, and u0, u1, ... with the rows of one upload each.  Then,
// under threads=1, best of RUNS: COPY t TO DUCK.parquet, and COPY uK TO
// DIR/duck-K.parquet for every K in one go; both (FORMAT parquet,
// COMPRESSION zstd).  Then check that DuckDB's files and ours (OURS.parquet,
// DIR/ours-K.parquet) hold the same rows, and print per-column sizes of the
// single files.  Output: key=value lines on stdout (for the script), the
// per-column table on stderr.
//
//   node duckdb-parquet.mjs ROWS.ndjson SCHEMA.json DUCK.parquet OURS.parquet DIR [RUNS]
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [ndjson, schemaPath, duckOut, oursPath, dir, runsArg] = process.argv.slice(2);
if (!dir) {
	console.error('usage: node duckdb-parquet.mjs ROWS.ndjson SCHEMA.json DUCK.parquet OURS.parquet DIR [RUNS]');
	process.exit(2);
}
const runs = Number(runsArg ?? 5);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const id = (s) => `"${s.replaceAll('"', '""')}"`;

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await instance.connect();
await con.run('SET threads = 1');
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
const one = async (sql) => (await all(sql))[0];

const out = (k, v) => console.log(`${k}=${v}`);
out('duckdb_version', (await one('SELECT version() AS v')).v);
out('duckdb_threads', (await one("SELECT current_setting('threads') AS t")).t);

// Load: not timed.  Explicit types, NOT NULL where our schema is REQUIRED.
const names = schema.map((c) => id(c.name)).join(', ');
const cols = schema.map((c) => `${id(c.name)}: ${q(c.type)}`).join(', ');
const defs = schema.map((c) => `${id(c.name)} ${c.type}${c.required ? ' NOT NULL' : ''}`).join(', ');
await con.run(`CREATE TEMP TABLE s AS SELECT * FROM read_json(${q(ndjson)}, format = 'newline_delimited',
	columns = {upload: 'INTEGER', ${cols}}, maximum_object_size = 268435456)`);
await con.run(`CREATE TABLE t (${defs})`);
await con.run(`INSERT INTO t SELECT ${names} FROM s`);
const nrows = Number((await one('SELECT count(*) AS n FROM t')).n);
const nup = Number((await one('SELECT max(upload) + 1 AS n FROM s')).n);
for (let k = 0; k < nup; k++) {
	await con.run(`CREATE TABLE u${k} (${defs})`);
	await con.run(`INSERT INTO u${k} SELECT ${names} FROM s WHERE upload = ${k}`);
}
await con.run('DROP TABLE s');
out('duckdb_rows', nrows);
out('duckdb_uploads', nup);

// Timed: the COPY statements alone, best of RUNS.
const upPath = (who, k) => `${dir}/${who}-${k}.parquet`;
let best = Infinity, bestUp = Infinity;
for (let i = 0; i < runs; i++) {
	let t0 = performance.now();
	await con.run(`COPY t TO ${q(duckOut)} (FORMAT parquet, COMPRESSION zstd)`);
	best = Math.min(best, (performance.now() - t0) / 1000);
	t0 = performance.now();
	for (let k = 0; k < nup; k++)
		await con.run(`COPY u${k} TO ${q(upPath('duck', k))} (FORMAT parquet, COMPRESSION zstd)`);
	bestUp = Math.min(bestUp, (performance.now() - t0) / 1000);
}
let upBytes = 0;
for (let k = 0; k < nup; k++)
	upBytes += statSync(upPath('duck', k)).size;
out('duckdb_s', best.toFixed(6));
out('duckdb_bytes', statSync(duckOut).size);
out('duckdb_upload_s', bestUp.toFixed(6));
out('duckdb_upload_bytes', upBytes);

// Row groups of the single files.
for (const [tag, f] of [['duckdb', duckOut], ['ours', oursPath]]) {
	const r = await one(`SELECT count(*) AS g, min(num_rows) AS mn, max(num_rows) AS mx
		FROM (SELECT DISTINCT row_group_id, row_group_num_rows AS num_rows FROM parquet_metadata(${q(f)}))`);
	out(`${tag}_row_groups`, `${r.g} (rows per group ${r.mn}..${r.mx})`);
}

// Same rows?  Counts, an order-independent checksum over every column,
// EXCEPT ALL both ways (which also catches duplicates), names and types.
const list = (who) => `[${Array.from({ length: nup }, (_, k) => q(upPath(who, k))).join(', ')}]`;
const sumsql = (src) => `SELECT count(*) AS n, sum(hash(${names}))::VARCHAR AS h FROM ${src}`;
const types = async (src) => (await all(`SELECT column_name AS n, column_type AS t FROM (DESCRIBE SELECT * FROM ${src})`))
	.map((r) => `${r.n} ${r.t}`).join(', ');
const ref = await one(sumsql('t'));
out('check_table', `${ref.n} rows, hash ${ref.h}`);
let ok = Number(ref.n) === nrows;
for (const [tag, a, b] of [
	['single', `read_parquet(${q(oursPath)})`, `read_parquet(${q(duckOut)})`],
	['upload', `read_parquet(${list('ours')})`, `read_parquet(${list('duck')})`],
]) {
	const x = await one(sumsql(a)), y = await one(sumsql(b));
	const e1 = await one(`SELECT count(*) AS n FROM (SELECT ${names} FROM ${a} EXCEPT ALL SELECT ${names} FROM ${b})`);
	const e2 = await one(`SELECT count(*) AS n FROM (SELECT ${names} FROM ${b} EXCEPT ALL SELECT ${names} FROM ${a})`);
	const ta = await types(a), tb = await types(b), tt = await types('t');
	const same = x.n === ref.n && y.n === ref.n && x.h === ref.h && y.h === ref.h &&
		Number(e1.n) === 0 && Number(e2.n) === 0 && ta === tb && ta === tt;
	ok &&= same;
	out(`check_${tag}`, `ours ${x.n} rows hash ${x.h}; duckdb ${y.n} rows hash ${y.h}; ` +
		`EXCEPT ALL ${e1.n} ours-only, ${e2.n} duckdb-only; types ${ta === tb && ta === tt ? 'same' : 'DIFFER'}`);
}
out('check_ok', ok ? 1 : 0);

// Per column: compressed bytes, uncompressed bytes, encodings.
const colsql = (f) => `SELECT path_in_schema AS c, sum(total_compressed_size) AS z,
	sum(total_uncompressed_size) AS u, string_agg(DISTINCT encodings, ' ') AS e
	FROM parquet_metadata(${q(f)}) GROUP BY ALL`;
const ours = new Map((await all(colsql(oursPath))).map((r) => [r.c, r]));
const duck = new Map((await all(colsql(duckOut))).map((r) => [r.c, r]));
const lines = [];
let zo = 0, zd = 0;
for (const s of schema) {
	const o = ours.get(s.name), d = duck.get(s.name);
	if (!o || !d) continue;
	zo += Number(o.z); zd += Number(d.z);
	lines.push({ name: s.name, oz: Number(o.z), ou: Number(o.u), oe: o.e, dz: Number(d.z), du: Number(d.u), de: d.e });
}
lines.sort((p, r) => Math.abs(r.oz - r.dz) - Math.abs(p.oz - p.dz));
const pad = (s, n) => String(s).padStart(n);
console.error('per column (compressed bytes in column chunks, largest difference first):');
console.error(`${'column'.padEnd(26)} ${pad('ours', 10)} ${pad('duckdb', 10)} ${pad('ratio', 6)}  ${pad('ours raw', 10)} ${pad('duck raw', 10)}  encodings ours | duckdb`);
for (const l of lines)
	console.error(`${l.name.padEnd(26)} ${pad(l.oz, 10)} ${pad(l.dz, 10)} ${pad((l.oz / l.dz).toFixed(2), 6)}  ${pad(l.ou, 10)} ${pad(l.du, 10)}  ${l.oe} | ${l.de}`);
console.error(`${'all columns'.padEnd(26)} ${pad(zo, 10)} ${pad(zd, 10)} ${pad((zo / zd).toFixed(2), 6)}`);
out('ours_chunk_bytes', zo);
out('duckdb_chunk_bytes', zd);

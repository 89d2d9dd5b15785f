// DuckDB (threads=1) converting JSON uploads to Parquet, for
// bench/end-to-end.sh.  Two ways, each timed (best of RUNS):
//   per-file: one COPY (SELECT * FROM read_json(f)) TO ... per upload
//   one-query: all uploads in one COPY, read_json([...], union_by_name)
// Prints key=value lines; peak RSS of this process at the end.
//   node duckdb-convert.mjs OUTDIR RUNS FILE...
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync, rmSync, mkdirSync, readdirSync } from 'node:fs';

const [outdir, runsArg, ...files] = process.argv.slice(2);
const runs = Number(runsArg);
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
const ver = (await (await con.run('SELECT version()')).getRows())[0][0];

function bytesIn(dir) {
	return readdirSync(dir).reduce((s, f) => s + statSync(`${dir}/${f}`).size, 0);
}

async function perFile() {
	const dir = `${outdir}/per-file`;
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const t = process.hrtime.bigint();
	let rows = 0;
	for (let i = 0; i < files.length; i++) {
		const r = await con.run(`COPY (SELECT * FROM read_json(${q(files[i])}, format='array')) ` +
		    `TO ${q(`${dir}/${i}.parquet`)} (FORMAT parquet, COMPRESSION zstd)`);
		rows += Number((await r.getRows())[0][0]);
	}
	return { s: Number(process.hrtime.bigint() - t) / 1e9, rows, bytes: bytesIn(dir) };
}

async function oneQuery() {
	const dir = `${outdir}/one-query`;
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const t = process.hrtime.bigint();
	const r = await con.run(`COPY (SELECT * FROM read_json([${files.map(q).join(',')}], ` +
	    `format='array', union_by_name=true)) TO ${q(`${dir}/all.parquet`)} ` +
	    `(FORMAT parquet, COMPRESSION zstd)`);
	const rows = Number((await r.getRows())[0][0]);
	return { s: Number(process.hrtime.bigint() - t) / 1e9, rows, bytes: bytesIn(dir) };
}

function best(a, b) { return !a || b.s < a.s ? b : a; }
let pf, oq;
for (let i = 0; i < runs; i++) {
	pf = best(pf, await perFile());
	oq = best(oq, await oneQuery());
}
console.log(`duckdb_version=${ver}`);
console.log(`per_file_s=${pf.s}\nper_file_rows=${pf.rows}\nper_file_bytes=${pf.bytes}`);
console.log(`one_query_s=${oq.s}\none_query_rows=${oq.rows}\none_query_bytes=${oq.bytes}`);
console.log(`peak_rss_kb=${process.resourceUsage().maxRSS}`);

// The worker's HTTP endpoints, end to end: a private redis-server on a unix
// socket, six uploads (five good, one bad) queued as the ingest API does,
// the real worker with --metrics-addr on a free loopback port.  /metrics is
// read by parse-prometheus-text-format (npm), not by our code, and its
// values are checked against the known run; /readyz must turn unready when
// Redis is killed and ready again when it is back; /healthz answers.
//   node metrics-check.mjs <portada-worker>
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const parse = require('parse-prometheus-text-format')
const worker = process.argv[2]
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-ops-'))
const sock = path.join(tmp, 'r.sock')
const errors = []
const check = (ok, msg) => { if (!ok) errors.push(msg) }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
let redis = null
let w = null

function startRedis () {
  redis = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' })
}
const cli = (...args) => execFileSync('redis-cli', ['-s', sock, ...args], { encoding: 'utf8' }).trim()
async function until (what, fn, ms = 20000) {
  const end = Date.now() + ms
  for (;;) {
    try { if (await fn()) return } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}
const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
})

try {
  startRedis()
  await until('redis-server', () => cli('PING') === 'PONG')
  const ingest = path.join(tmp, 'ingest')
  fs.mkdirSync(ingest)
  const cmds = []
  let records = 0
  for (let i = 0; i < 6; i++) {
    const p = path.join(ingest, `f${i}.json`)
    const n = i + 1
    if (i === 5) fs.writeFileSync(p, '[{"ship_name": "A"}, 3]')
    else {
      fs.writeFileSync(p, JSON.stringify(Array.from({ length: n }, (_, k) => ({ ship_name: `S${k}`, publication_date: '1850-01-02' }))))
      records += n
    }
    cli('HSET', `file:m${i}`, 'file_path', p, 'file_type', 'entry', 'status', '0', 'user', 'ops',
      'timestamp', String(Date.now() / 1000 - 2))
    cmds.push(`m${i}`)
  }
  cli('RPUSH', 'files:all', ...cmds)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  w = spawn(worker, ['--redis', `unix://${sock}`, '--ingest-root', ingest, '--lake', path.join(tmp, 'lake'),
    '--worker-id', 'ops', '--metrics-addr', String(port), '--commit-interval-ms', '100',
    '--connect-timeout', '1s', '--log-format', 'json'], { stdio: ['ignore', 'ignore', fs.openSync(path.join(tmp, 'worker.log'), 'w')] })
  await until('every upload final', () => cmds.every((id) => ['2', '-1'].includes(cli('HGET', `file:${id}`, 'status'))))

  const get = async (p) => { const r = await fetch(base + p); return { status: r.status, type: r.headers.get('content-type'), text: await r.text() } }
  // The worker's heartbeat: a recent time, with a TTL.
  const beat = Number(cli('GET', 'portada:heartbeat:ops'))
  check(Math.abs(beat - Date.now() / 1000) < 10, `heartbeat ${beat}`)
  const ttl = Number(cli('TTL', 'portada:heartbeat:ops'))
  check(ttl > 0 && ttl <= 30, `heartbeat TTL ${ttl}`)
  const h = await get('/healthz')
  check(h.status === 200 && h.text === 'ok\n', `/healthz: ${h.status} ${JSON.stringify(h.text)}`)
  check((await get('/nope')).status === 404, '/nope is not 404')
  let r = await get('/readyz')
  check(r.status === 200, `/readyz before: ${r.status} ${r.text}`)

  // The queue's depth is asked every 5 s: wait for the empty queue.
  let m, text
  const metric = (name) => m.find((x) => x.name === name)
  const value = (name, labels = {}) => {
    const f = metric(name)
    const s = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
    return s === undefined ? undefined : Number(s.value)
  }
  await until('portada_queue_depth 0', async () => {
    const res = await get('/metrics')
    check(res.type.startsWith('text/plain; version=0.0.4'), `/metrics content type ${res.type}`)
    text = res.text
    m = parse(res.text)
    return value('portada_queue_depth') === 0
  }, 15000)
  check(value('portada_files_total', { outcome: 'done' }) === 5, `done ${value('portada_files_total', { outcome: 'done' })}`)
  check(value('portada_files_total', { outcome: 'failed' }) === 1, `failed ${value('portada_files_total', { outcome: 'failed' })}`)
  check(value('portada_records_total') === records, `records ${value('portada_records_total')}, expected ${records}`)
  const bytes = cmds.slice(0, 6).reduce((s, _, i) => s + fs.statSync(path.join(ingest, `f${i}.json`)).size, 0)
  check(value('portada_read_bytes_total') > 0 && value('portada_read_bytes_total') <= bytes, `read bytes ${value('portada_read_bytes_total')} of ${bytes}`)
  const commits = value('portada_commits_total', { table: 'ship_entries' })
  check(commits >= 1, `commits ${commits}`)
  // parse-prometheus-text-format 1.1.1 merges the series of a histogram that
  // has labels (it keeps only le), so the per-table one is read from the
  // text: cumulative buckets, +Inf = _count = commits.
  const hist = metric('portada_commit_duration_seconds')
  check(hist?.type === 'HISTOGRAM', 'portada_commit_duration_seconds is not a histogram')
  const series = (suffix, le) => {
    const re = new RegExp(`^portada_commit_duration_seconds_${suffix}\\{table="ship_entries"${le ? ',le="([^"]+)"' : ''}\\} (\\S+)$`, 'gm')
    return [...text.matchAll(re)].map((x) => le ? [x[1], Number(x[2])] : Number(x[1]))
  }
  const buckets = series('bucket', true)
  check(buckets.length === 15 && buckets.at(-1)[0] === '+Inf', `commit histogram buckets ${JSON.stringify(buckets)}`)
  check(buckets.every((b, i) => i === 0 || b[1] >= buckets[i - 1][1]), 'commit histogram buckets are not cumulative')
  check(buckets.at(-1)?.[1] === commits && series('count')[0] === commits, `commit histogram count ${series('count')[0]}, commits ${commits}`)
  const e2e = metric('portada_end_to_end_seconds')?.metrics[0]
  check(e2e && Number(e2e.count) === 6, `end-to-end count ${e2e?.count}, expected 6`)
  check(e2e && Number(e2e.sum) >= 6 * 2, `end-to-end sum ${e2e?.sum}: every upload is at least 2 s old`)
  for (const st of ['load', 'lookup', 'mark', 'read', 'commit', 'finish', 'ack']) {
    check(value('portada_files_in_flight', { stage: st }) === 0, `in flight at ${st}: ${value('portada_files_in_flight', { stage: st })}`)
  }
  check(value('portada_redis_reconnects_total') === 0, 'reconnects before the kill')
  check(value('process_resident_memory_bytes') > 1e6, 'RSS')
  check(value('process_resident_memory_peak_bytes') >= value('process_resident_memory_bytes'), 'peak RSS')
  // Idle: the read buffer (--read-chunk, 64 KiB) and the parse tree and
  // row builder all files share (kept up to 256 KiB each) are charged;
  // the peak was charged while the six uploads went through.
  check(value('portada_memory_budget_bytes') === 64 * 1048576, `budget ${value('portada_memory_budget_bytes')}`)
  const kinds = ['jobs', 'read', 'records', 'rows', 'encode', 'upload', 'commit']
  for (const k of kinds) {
    const got = value('portada_memory_used_bytes', { kind: k })
    if (k === 'records') {
      check(got > 0 && got <= 2 * 262144, `memory records: ${got}, expected the shared scratch`)
      continue
    }
    const want = k === 'read' ? 65536 : 0
    check(got === want, `memory ${k}: ${got}, expected ${want}`)
  }
  check(value('portada_memory_used_peak_bytes') > 65536, `budget peak ${value('portada_memory_used_peak_bytes')}`)
  for (const f of m) {
    if (f.type === 'COUNTER') check(f.name.endsWith('_total'), `counter ${f.name} does not end in _total`)
    check(/^[a-z_]+$/.test(f.name) && (f.name.startsWith('portada_') || f.name.startsWith('process_')), `odd name ${f.name}`)
  }

  // Redis killed: unready, naming why; back: ready, and a reconnect counted.
  redis.kill('SIGKILL')
  await until('/readyz 503', async () => { r = await get('/readyz'); return r.status === 503 })
  check(r.text.includes('redis: not connected'), `/readyz says ${JSON.stringify(r.text)}`)
  check((await get('/healthz')).status === 200, '/healthz while Redis is down')
  startRedis()
  await until('/readyz 200 again', async () => (await get('/readyz')).status === 200, 30000)
  m = parse((await get('/metrics')).text)
  check(value('portada_redis_reconnects_total') >= 1, `reconnects ${value('portada_redis_reconnects_total')}`)

  w.kill('SIGTERM')
  const code = await new Promise((resolve) => w.on('exit', resolve))
  w = null
  check(code === 0, `worker exit ${code}`)
} catch (e) {
  errors.push(e.message)
} finally {
  if (w) w.kill('SIGKILL')
  if (redis) redis.kill('SIGKILL')
}
if (errors.length > 0) {
  console.error(fs.readFileSync(path.join(tmp, 'worker.log'), 'utf8').split('\n').slice(-20).join('\n'))
  for (const e of errors) console.error(`metrics-check: ${e}`)
  process.exit(1)
}
fs.rmSync(tmp, { recursive: true, force: true })
console.log('metrics-check: OK (/metrics parsed, counters match the run; /readyz follows Redis)')

// The S3 suite's server: s3rver (npm, a local S3) behind a proxy that
// does what s3rver does not.
//  - Every request's SigV4 signature is recomputed with AWS's own signer
//    (@smithy/signature-v4) from the request as received; a mismatch gets
//    403 SignatureDoesNotMatch.  (s3rver only checks that the headers exist.)
//  - PUT with If-None-Match: * is checked here (HEAD, then 412 if the key
//    exists), serialised with every other write, because s3rver ignores
//    the header.
// A second listener adds faults, ten requests in 24, by a fixed schedule:
// the connection dropped before forwarding (twice), 503 SlowDown (twice),
// the connection dropped after s3rver did the work (twice; the client
// cannot know it happened), a PUT's connection cut while its body is still
// coming (bodies over 64 KiB), 500 InternalError, a 0.3 s delay (twice);
// never more than twice in a row for one request.  A third listener is s3rver as it is, signatures checked
// but If-None-Match ignored, for the worker's check that refuses such a
// store.  All listen on 127.0.0.1 only.  Prints
// "port <clean port> <faulty port> <plain port>" when ready; stops on
// SIGTERM or when stdin closes.
//   node s3-server.mjs <data-dir> <bucket>
import http from 'node:http'
import { createRequire } from 'node:module'
import { SignatureV4 } from '@smithy/signature-v4'
import { HttpRequest } from '@smithy/protocol-http'
import { Sha256 } from '@aws-crypto/sha256-js'

const require = createRequire(import.meta.url)
const S3rver = require('s3rver')

const [dir, bucket] = process.argv.slice(2)
const KEY = 'S3RVER'
const SECRET = 'S3RVER'
const stats = { requests: 0, rejected: 0, conditional412: 0, faults: 0 }

const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir,
  configureBuckets: [{ name: bucket }] })
const up = await s3rver.run()
const upPort = up.port

function parseAuth (h) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(h || '')
  return m && { key: m[1], date: m[2], region: m[3], signed: m[4].split(';'), signature: m[5] }
}

async function verify (req) {
  const a = parseAuth(req.headers.authorization)
  if (!a) return 'no or malformed Authorization header'
  if (a.key !== KEY) return `unknown access key ${a.key}`
  const amz = req.headers['x-amz-date']
  if (!amz || !/^\d{8}T\d{6}Z$/.test(amz)) return 'no x-amz-date'
  const [rawPath, rawQuery = ''] = req.url.split(/\?(.*)/s)
  const query = {}
  for (const part of rawQuery.split('&').filter(Boolean)) {
    const [k, v = ''] = part.split(/=(.*)/s)
    const dk = decodeURIComponent(k); const dv = decodeURIComponent(v)
    if (dk in query) query[dk] = [].concat(query[dk], dv); else query[dk] = dv
  }
  const headers = {}
  for (const n of a.signed) {
    if (req.headers[n] === undefined) return `signed header ${n} is missing`
    headers[n] = req.headers[n]
  }
  const signer = new SignatureV4({ service: 's3', region: a.region, sha256: Sha256,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET }, uriEscapePath: false, applyChecksum: false })
  const date = new Date(Date.UTC(+amz.slice(0, 4), +amz.slice(4, 6) - 1, +amz.slice(6, 8),
    +amz.slice(9, 11), +amz.slice(11, 13), +amz.slice(13, 15)))
  const hr = new HttpRequest({ method: req.method, protocol: 'http:', hostname: req.headers.host,
    path: rawPath, query, headers })
  const s = await signer.sign(hr, { signingDate: date })
  const m = /Signature=([0-9a-f]{64})/.exec(s.headers.authorization)
  if (!m || m[1] !== a.signature) return 'signature does not match what @smithy/signature-v4 computes'
  return null
}

function forward (req, res, body, dropAfter) {
  const r = http.request({ host: '127.0.0.1', port: upPort, method: req.method, path: req.url,
    headers: { ...req.headers, host: `127.0.0.1:${upPort}` } }, (ur) => {
    if (dropAfter) {
      ur.resume()
      ur.on('end', () => res.destroy())
      return
    }
    res.writeHead(ur.statusCode, ur.headers)
    ur.pipe(res)
  })
  r.on('error', () => { res.destroy() })
  r.end(body)
}

function exists (req) {
  return new Promise((resolve) => {
    const r = http.request({ host: '127.0.0.1', port: upPort, method: 'HEAD', path: req.url.split('?')[0],
      headers: { authorization: req.headers.authorization, 'x-amz-date': req.headers['x-amz-date'],
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', host: `127.0.0.1:${upPort}` } }, (ur) => {
      ur.resume()
      resolve(ur.statusCode === 200)
    })
    r.on('error', () => resolve(false))
    r.end()
  })
}

const locks = new Map()
function locked (key, fn) {
  const prev = locks.get(key) || Promise.resolve()
  const next = prev.then(fn, fn)
  locks.set(key, next.catch(() => {}))
  return next
}

let faultN = 0
// A request is faulted at most twice in a row (by method and URL): the
// schedule is periodic, and a client whose retries fell into its period
// would otherwise meet the same fault on every attempt.
const streak = new Map()
const handler = (faulty, plain = false) => (req, res) => {
  const chunks = []
  let n = faulty ? faultN++ % 24 : -1
  const id = `${req.method} ${req.url}`
  if (n >= 0) {
    const faultHere = [1, 4, 7, 9, 13, 16, 19, 21].includes(n)
    const k = streak.get(id) || 0
    if (faultHere && k >= 2) n = -1
    if (n >= 0 && faultHere) streak.set(id, k + 1)
    else streak.delete(id)
  }
  // Cut mid-upload: the connection goes while the client is still sending.
  if (n === 9 && req.method === 'PUT' && Number(req.headers['content-length'] || 0) > 65536) {
    stats.faults++
    req.once('data', () => req.socket.destroy())
    return
  }
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    stats.requests++
    const body = Buffer.concat(chunks)
    let dropAfter = false
    if (faulty) {
      if (n === 1 || n === 13) { stats.faults++; res.destroy(); return }
      if (n === 21) {
        stats.faults++
        res.writeHead(500, { 'content-type': 'application/xml' })
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>')
        return
      }
      if (n === 4 || n === 16) {
        stats.faults++
        res.writeHead(503, { 'content-type': 'application/xml' })
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>')
        return
      }
      if (n === 7 || n === 19) { stats.faults++; dropAfter = true }
      if (n === 10 || n === 22) { stats.faults++; await new Promise((resolve) => setTimeout(resolve, 300)) }
    }
    const why = await verify(req)
    if (why) {
      stats.rejected++
      res.writeHead(403, { 'content-type': 'application/xml' })
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`)
      return
    }
    // s3rver keeps objects as files and removes a directory left empty by
    // a DELETE, which breaks a PUT writing into it at that moment (it then
    // crashes on ENOENT).  Real S3 has no directories: writes are one at a
    // time here so that the test measures the worker, not that race.
    const mutating = req.method !== 'GET' && req.method !== 'HEAD'
    if (req.method === 'PUT' && req.headers['if-none-match'] === '*' && !plain) {
      await locked('writes', async () => {
        if (await exists(req)) {
          stats.conditional412++
          res.writeHead(412, { 'content-type': 'application/xml' })
          res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>')
          return
        }
        await new Promise((resolve) => { res.on('finish', resolve); res.on('close', resolve); forward(req, res, body, dropAfter) })
      })
      return
    }
    if (mutating) {
      await locked('writes', () => new Promise((resolve) => {
        res.on('finish', resolve)
        res.on('close', resolve)
        forward(req, res, body, dropAfter)
      }))
      return
    }
    forward(req, res, body, dropAfter)
  })
}
const server = http.createServer(handler(false))
const faultyServer = http.createServer(handler(true))
const plainServer = http.createServer(handler(false, true))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
await new Promise((resolve) => faultyServer.listen(0, '127.0.0.1', resolve))
await new Promise((resolve) => plainServer.listen(0, '127.0.0.1', resolve))
console.log(`port ${server.address().port} ${faultyServer.address().port} ${plainServer.address().port}`)
async function stop () {
  console.error(`s3-server: ${stats.requests} requests, ${stats.rejected} rejected, ${stats.conditional412} conditional 412s, ${stats.faults} faults injected`)
  for (const s of [server, faultyServer, plainServer]) {
    s.close()
    s.closeAllConnections()
  }
  // s3rver's close waits for every connection, and one streaming a GET to
  // a client that went away (a faulted request) can stay open for good:
  // seen as an ASan CI run stuck here after its test passed.  Everything
  // was acknowledged before stdin closed, so a second is plenty.
  await Promise.race([s3rver.close(), new Promise((resolve) => setTimeout(resolve, 1000))])
  process.exit(0)
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()

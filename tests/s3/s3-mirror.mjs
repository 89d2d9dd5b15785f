// Copy every object under a prefix of an S3 bucket into a local directory,
// with AWS's own signer (@smithy/signature-v4) and Node's fetch: an S3
// client independent of src/s3.c, so the S3 suite reads back what the
// worker wrote the way another engine would (ListObjectsV2 with
// continuation, then GET), before delta-check validates the copy.  With
// "put" first, the other way: every file under <src-dir> becomes an
// object under the prefix (the uploads a worker then reads from S3).
//   node s3-mirror.mjs <endpoint> <bucket> <prefix/> <dest-dir>
//   node s3-mirror.mjs put <endpoint> <bucket> <prefix/> <src-dir>
// Credentials: S3RVER/S3RVER (s3-server.mjs), region us-east-1.
import fs from 'node:fs'
import path from 'node:path'
import { SignatureV4 } from '@smithy/signature-v4'
import { HttpRequest } from '@smithy/protocol-http'
import { Sha256 } from '@aws-crypto/sha256-js'

const putMode = process.argv[2] === 'put'
const [endpoint, bucket, prefix, dest] = process.argv.slice(putMode ? 3 : 2)
if (!dest) {
  console.error('usage: s3-mirror.mjs <endpoint> <bucket> <prefix/> <dest-dir>')
  process.exit(2)
}
const url = new URL(endpoint)
const signer = new SignatureV4({ service: 's3', region: 'us-east-1', sha256: Sha256,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, uriEscapePath: false })

async function get (p, query) {
  const req = new HttpRequest({ method: 'GET', protocol: url.protocol, hostname: url.hostname,
    port: Number(url.port), path: p, query,
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })
  const s = await signer.sign(req)
  const qs = new URLSearchParams(query).toString()
  const res = await fetch(`${url.origin}${p}${qs ? `?${qs}` : ''}`, { headers: s.headers })
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`GET ${p}: HTTP ${res.status}: ${body.toString('utf8').slice(0, 300)}`)
  return body
}

async function put (p, body) {
  const req = new HttpRequest({ method: 'PUT', protocol: url.protocol, hostname: url.hostname,
    port: Number(url.port), path: p, query: {},
    headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(body.length) } })
  const s = await signer.sign(req)
  const res = await fetch(`${url.origin}${p}`, { method: 'PUT', headers: s.headers, body })
  if (res.status !== 200) throw new Error(`PUT ${p}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`)
}

if (putMode) {
  let count = 0
  const walk = async (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name)
      if (e.isDirectory()) await walk(full)
      else if (e.isFile()) {
        const key = prefix + path.relative(dest, full).split(path.sep).join('/')
        await put(`/${bucket}/${key.split('/').map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/')}`, fs.readFileSync(full))
        count++
      }
    }
  }
  await walk(dest)
  console.log(`s3-mirror: ${count} file(s) put under s3://${bucket}/${prefix}`)
  process.exit(0)
}

const unxml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&apos;/g, "'").replace(/&amp;/g, '&')

const keys = []
let token = null
for (;;) {
  const query = { 'list-type': '2', prefix }
  if (token) query['continuation-token'] = token
  const xml = (await get(`/${bucket}`, query)).toString('utf8')
  for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unxml(m[1]))
  const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)
  if (/<IsTruncated>true<\/IsTruncated>/.test(xml)) {
    if (!next) throw new Error('a truncated listing without a continuation token')
    token = unxml(next[1])
  } else break
}
let bytes = 0
for (const key of keys) {
  const rel = key.slice(prefix.length)
  if (!rel || rel.split('/').some((p) => p === '..' || p === '')) throw new Error(`odd key ${key}`)
  const body = await get(`/${bucket}/${key.split('/').map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/')}`, {})
  fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true })
  fs.writeFileSync(path.join(dest, rel), body)
  bytes += body.length
}
console.log(`s3-mirror: ${keys.length} object(s), ${bytes} bytes from s3://${bucket}/${prefix}`)

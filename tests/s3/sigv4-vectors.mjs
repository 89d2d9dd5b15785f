// SigV4 test vectors for src/sigv4.c, computed by AWS's own signer
// (@smithy/signature-v4, versions pinned in package-lock.json).  Prints a
// JSON array; tests/unit/sigv4-vectors.json is its output, and
// tests/s3/sigv4-check.sh runs it again to see that nothing drifted.
//
// Each case gives the raw request (method, host, raw path, raw query
// params, extra headers, payload hash, time, credentials) and what AWS's
// signer makes of it: the canonical request, the string to sign, the
// signature and the SignedHeaders list.  The path is handed to the signer
// already encoded (uriEscapePath: false, as S3 wants), encoded here by this
// file's own RFC 3986 code, not by the C code under test.
//
//   node sigv4-vectors.mjs > ../unit/sigv4-vectors.json
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4'
import { HttpRequest } from '@smithy/protocol-http'
import { Sha256 } from '@aws-crypto/sha256-js'

const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
const encPath = (p) => p.split('/').map(enc).join('/')

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const creds = [
  { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret with spaces+and/slashes%', sessionToken: 'FwoGZXIvYXdzEJr//////////token+/=' },
]

const cases = [
  { name: 'get object', method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', query: [], headers: { range: 'bytes=0-9' }, payload: EMPTY, t: 1369353600, c: 0, region: 'us-east-1' },
  { name: 'put with spaces, plus, percent and unicode in the key', method: 'PUT', host: '127.0.0.1:4568', path: '/lake/ship_entries/part 0+1%2 Cádiz ñ €.parquet', query: [], headers: {}, payload: 'UNSIGNED-PAYLOAD', t: 1764410100, c: 1, region: 'us-east-1' },
  { name: 'conditional commit', method: 'PUT', host: 'minio.local:9000', path: '/lake/ship_entries/_delta_log/00000000000000000007.json', query: [], headers: { 'If-None-Match': '*', 'Content-Type': 'application/json' }, payload: '0f1a6b7d2a6b2f5c1c5e0e1f7b3c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1', t: 1764410101, c: 0, region: 'eu-west-3' },
  { name: 'list with continuation', method: 'GET', host: 'bucket.s3.eu-west-1.amazonaws.com', path: '/', query: [['list-type', '2'], ['prefix', 'lake/ship_entries/_delta_log/'], ['continuation-token', '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+'], ['max-keys', '1000']], headers: {}, payload: EMPTY, t: 1764410102, c: 0, region: 'eu-west-1' },
  { name: 'create multipart upload (bare query name)', method: 'POST', host: '127.0.0.1:4568', path: '/lake/ship_entries/big file.parquet', query: [['uploads', '']], headers: {}, payload: EMPTY, t: 1764410103, c: 1, region: 'us-east-1' },
  { name: 'upload part', method: 'PUT', host: '127.0.0.1:4568', path: '/lake/ship_entries/big file.parquet', query: [['uploadId', 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA=='], ['partNumber', '10']], headers: {}, payload: 'UNSIGNED-PAYLOAD', t: 1764410104, c: 1, region: 'us-east-1' },
  { name: 'session token and odd header values', method: 'DELETE', host: 'b.example', path: '/k/ a~b_c-d.e', query: [['x', 'a b'], ['a', 'z'], ['a', 'y'], ['ü', '€']], headers: { 'X-Amz-Meta-Note': '  two   spaces  inside ', 'x-amz-meta-tabs': 'a\tb' }, payload: EMPTY, t: 1764410105, c: 2, region: 'us-west-2' },
  { name: 'root path and reserved characters', method: 'HEAD', host: 'b.example', path: "/a!b'c(d)e*f:g@h=i&j;k,l$m", query: [['q', "!'()*"]], headers: {}, payload: EMPTY, t: 1764410106, c: 0, region: 'us-east-1' },
]

const out = []
for (const k of cases) {
  const cr = creds[k.c]
  const signer = new SignatureV4({ service: 's3', region: k.region, credentials: cr, sha256: Sha256, uriEscapePath: false, applyChecksum: false })
  const query = {}
  for (const [n, v] of k.query) {
    if (n in query) query[n] = [].concat(query[n], v)
    else query[n] = v
  }
  const headers = { host: k.host, 'x-amz-content-sha256': k.payload }
  for (const [n, v] of Object.entries(k.headers)) headers[n] = v
  const req = new HttpRequest({ method: k.method, protocol: 'http:', hostname: k.host, path: encPath(k.path), query, headers })
  const date = new Date(k.t * 1000)
  const signed = await signer.sign(req, { signingDate: date })
  const auth = signed.headers.authorization
  const m = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(auth)
  // The canonical request and string to sign as this signer builds them
  // (its own header canonicalisation: lower case, values trimmed and folded).
  const amzDate = signed.headers['x-amz-date']
  const unsigned = { ...signed, headers: Object.fromEntries(Object.entries(signed.headers).filter(([n]) => n !== 'authorization')) }
  const canon = signer.createCanonicalRequest(signed, getCanonicalHeaders(unsigned), k.payload)
  const sts = await signer.createStringToSign(amzDate, `${amzDate.slice(0, 8)}/${k.region}/s3/aws4_request`, canon, 'AWS4-HMAC-SHA256')
  out.push({
    name: k.name, method: k.method, host: k.host, path: k.path, query: k.query,
    headers: Object.entries(k.headers), payload_hash: k.payload, time: k.t, region: k.region,
    access_key: cr.accessKeyId, secret_key: cr.secretAccessKey, session_token: cr.sessionToken ?? null,
    amz_date: amzDate, canonical_request: canon, string_to_sign: sts,
    signed_headers: m[1], signature: m[2],
  })
}
console.log(JSON.stringify(out, null, 1))

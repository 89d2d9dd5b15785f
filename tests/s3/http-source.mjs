// A file server for the remote-source tests: serves <dir> over HTTP on
// 127.0.0.1 (a port chosen by the kernel, printed as "port N"), with
// Range support and faults by a fixed schedule, one request in three:
// the connection cut after half the body, 503, a 0.5 s stall before the
// body, a slow body (16 KiB every 20 ms).  Stops when stdin closes.
//   node http-source.mjs <dir>
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

const root = path.resolve(process.argv[2])
const stats = { requests: 0, faults: 0, ranges: 0 }
let n = 0

const server = http.createServer(async (req, res) => {
  stats.requests++
  const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname))
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
    return
  }
  const data = fs.readFileSync(file)
  let start = 0
  const m = /^bytes=(\d+)-$/.exec(req.headers.range || '')
  if (m) {
    start = Number(m[1])
    stats.ranges++
  }
  const fault = n++ % 12
  if (fault === 1) {
    stats.faults++
    res.writeHead(503, { 'content-type': 'text/plain' })
    res.end('busy\n')
    return
  }
  const body = data.subarray(start)
  const headers = { 'content-type': 'application/octet-stream', 'content-length': body.length }
  if (m) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`
  res.writeHead(m ? 206 : 200, headers)
  if (fault === 4 && body.length > 1) {
    stats.faults++
    res.write(body.subarray(0, body.length >> 1), () => res.destroy())
    return
  }
  if (fault === 7) {
    stats.faults++
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  if (fault === 10) {
    stats.faults++
    for (let i = 0; i < body.length; i += 16384) {
      if (!res.write(body.subarray(i, i + 16384))) await new Promise((resolve) => res.once('drain', resolve))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    res.end()
    return
  }
  res.end(body)
})
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`))
process.stdin.on('end', () => {
  console.error(`http-source: ${stats.requests} requests, ${stats.ranges} with Range, ${stats.faults} faults`)
  server.close()
  process.exit(0)
})
process.stdin.resume()

// Ours: per file, passed/failed, and how many passes sent at least one request to the server.
const fs = require('fs')
const path = require('path')
const [results, requests] = process.argv.slice(2)
const r = JSON.parse(fs.readFileSync(results, 'utf8'))
const hits = new Map()
const notFound = new Map()
const only404 = []
for (const line of fs.readFileSync(requests, 'utf8').split('\n').filter(Boolean)) {
  const { file, test, requests: n, statuses } = JSON.parse(line)
  hits.set(path.basename(file) + ' :: ' + test, n)
  notFound.set(path.basename(file) + ' :: ' + test, statuses.length > 0 && statuses.every((s) => s === 'missing'))
}
const rows = []
let failures = []
for (const f of r.testResults) {
  const name = path.basename(f.name)
  let passed = 0, failed = 0, skipped = 0, passedHit = 0, failedHit = 0
  for (const t of f.assertionResults) {
    const n = hits.get(name + ' :: ' + t.fullName) ?? 0
    if (t.status === 'passed') { passed++; if (n > 0) passedHit++; if (notFound.get(name + ' :: ' + t.fullName)) only404.push(name + ' :: ' + t.fullName) }
    else if (t.status === 'failed') { failed++; if (n > 0) failedHit++; failures.push(`${name} :: ${t.fullName} [${n} req]\n    ${(t.failureMessages[0] || '').split('\n').slice(0, 3).join('\n    ')}`) }
    else skipped++
  }
  if (f.assertionResults.length === 0 && f.message) failures.push(`${name}: ${f.message.split('\n').slice(0, 5).join('\n  ')}`)
  rows.push({ name, passed, passedHit, failed, failedHit, skipped })
}
console.log('file | passed (of which sent requests) | failed (of which sent requests) | skipped')
for (const x of rows) console.log(`${x.name} | ${x.passed} (${x.passedHit}) | ${x.failed} (${x.failedHit}) | ${x.skipped}`)
const t = rows.reduce((a, x) => ({ p: a.p + x.passed, ph: a.ph + x.passedHit, f: a.f + x.failed, fh: a.fh + x.failedHit }), { p: 0, ph: 0, f: 0, fh: 0 })
console.log(`total | ${t.p} (${t.ph}) | ${t.f} (${t.fh})`)
if (only404.length) { console.log(`\npassed although every request hit a missing route (404 not_found) (${only404.length}):`); for (const x of only404) console.log('- ' + x) }
if (process.env.SUITE_FAILURES !== '0') { console.log('\nfailures:'); for (const x of failures) console.log('- ' + x) }

// upload.cjs uploads a file to a motcua portal with tus-js-client, as a
// third-party tus client would: it sends the first chunk, aborts, then
// resumes from the portal's offset in a new Upload. It prints, as JSON, the
// upload URL, the offset it was cut at and the Motcua-Receipt of the
// completing answer.
//
//   node upload.cjs ENDPOINT TOKEN FILE IDEMPOTENCY_KEY MANIFEST_JSON SIGNATURE
//
// Run it with the directory holding node_modules (npm ci of this
// directory's package-lock.json) as the working directory.
'use strict'
const fs = require('fs')
const path = require('path')
const tus = require(path.join(process.cwd(), 'node_modules', 'tus-js-client'))

const [endpoint, token, file, key, manifest, signature] = process.argv.slice(2)
const data = fs.readFileSync(file)
const chunkSize = 64 * 1024
const common = {
  headers: { Authorization: 'Bearer ' + token },
  chunkSize,
  retryDelays: null,
  storeFingerprintForResuming: false,
}

function cut () {
  return new Promise((resolve, reject) => {
    let aborted = false
    const upload = new tus.Upload(data, {
      ...common,
      endpoint,
      metadata: { idempotency_key: key, upload_name: key + '-1', manifest, signature },
      onError: reject,
      onSuccess: () => reject(new Error('the first upload was not cut')),
      onChunkComplete: (size, accepted) => {
        if (!aborted) {
          aborted = true
          upload.abort().then(() => resolve({ url: upload.url, offset: accepted }), reject)
        }
      },
    })
    upload.start()
  })
}

function resume (url) {
  return new Promise((resolve, reject) => {
    let receipt = ''
    const upload = new tus.Upload(data, {
      ...common,
      uploadUrl: url,
      onError: reject,
      onAfterResponse: (req, res) => {
        receipt = res.getHeader('Motcua-Receipt') || receipt
      },
      onSuccess: () => resolve(receipt),
    })
    upload.start()
  })
}

cut()
  .then(({ url, offset }) => resume(url).then(receipt => {
    process.stdout.write(JSON.stringify({ url, offset, receipt }) + '\n')
  }))
  .catch(err => {
    process.stderr.write('tus-js-client: ' + err + '\n')
    process.exit(1)
  })

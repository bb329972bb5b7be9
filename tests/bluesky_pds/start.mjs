// Start a local Bluesky PDS (Bluesky's own dev-env, no AppView) with its real rate limits on,
// make two accounts with app passwords, print one JSON line describing them, and run until stdin
// closes or SIGTERM/SIGINT.
//
//   node start.mjs [PORT]   ->   {"url": ..., "handle": ..., "did": ..., "password": ...,
//                                 "app_password": ..., "expired_access_jwt": ...,
//                                 "spare_handle": ..., "spare_app_password": ...}
//
// expired_access_jwt is signed by this PDS with an expiry in the past, so a client's refresh on
// "ExpiredToken" can be tested against the server's own answer. The spare account is there for a
// test to use up its login rate limit (30 per 5 minutes) without locking out the main one.
import { TestNetworkNoAppView } from '@atproto/dev-env'
import * as jose from 'jose'

const port = process.argv[2] ? Number(process.argv[2]) : undefined
const network = await TestNetworkNoAppView.create({
  pds: { rateLimitsEnabled: true, ...(port ? { port } : {}) },
})

// Returns the account's DID and a fresh app password.
async function makeAccount(handle, password) {
  const agent = network.pds.getClient()
  const account = await agent.createAccount({ email: `${handle}@alumni.test`, handle, password })
  const app = await agent.com.atproto.server.createAppPassword({ name: 'alumni-outreach' })
  return { did: account.data.did, appPassword: app.data.password }
}

const handle = 'officer.test'
const password = 'officer-main-password'
const { did, appPassword } = await makeAccount(handle, password)
const spareHandle = 'spare.test'
const spare = await makeAccount(spareHandle, 'spare-main-password')

const expiredAccessJwt = await new jose.SignJWT({ scope: 'com.atproto.appPass' })
  .setProtectedHeader({ typ: 'at+jwt', alg: 'HS256' })
  .setAudience(network.pds.ctx.cfg.service.did)
  .setSubject(did)
  .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
  .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
  .sign(network.pds.jwtSecretKey())

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()

process.stdout.write(
  JSON.stringify({
    url: network.pds.url.replace('localhost', '127.0.0.1'),
    handle,
    did,
    password,
    app_password: appPassword,
    expired_access_jwt: expiredAccessJwt,
    spare_handle: spareHandle,
    spare_app_password: spare.appPassword,
  }) + '\n',
)

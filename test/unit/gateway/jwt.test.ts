import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { createJwtVerifier } from '../../../src/gateway/auth/jwt.js';

const secret = 'a-shared-secret-of-at-least-32-bytes!!';
const clock = new ManualClock(Date.UTC(2026, 5, 1));
const nowSec = (): number => Math.floor(clock.now() / 1000);

function hs256(claims: Record<string, unknown>, edit: (j: SignJWT) => SignJWT = (j) => j): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(nowSec()).setExpirationTime(nowSec() + 600);
  return edit(jwt).sign(new TextEncoder().encode(secret));
}

describe('JWT with an HS256 shared secret', () => {
  const verifier = createJwtVerifier({
    secret, clock, issuer: 'https://id.example', audience: 'shop',
    propertyClaims: ['email', 'tier', 'address.city'], clockSkew: 30,
  });
  const valid = (claims: Record<string, unknown> = {}) => hs256({ sub: 'u-1', groups: ['admin', 'users'], permissions: 'read:orders write:orders', email: 'a@b.c', tier: 'gold', address: { city: 'Milano' }, ...claims }, (j) => j.setIssuer('https://id.example').setAudience('shop'));

  test('a valid token gives user id, groups, permissions and declared properties', async () => {
    const outcome = await verifier.verify(`Bearer ${await valid()}`);
    assert.deepEqual(outcome, {
      status: 'valid', userId: 'u-1', groups: ['admin', 'users'], permissions: ['read:orders', 'write:orders'],
      properties: { email: 'a@b.c', tier: 'gold', city: 'Milano' },
    });
  });

  test('no header is absent; a header that is not a bearer token is invalid', async () => {
    assert.deepEqual(await verifier.verify(undefined), { status: 'absent' });
    assert.equal((await verifier.verify('Basic dXNlcjpwdw==')).status, 'invalid');
    assert.equal((await verifier.verify('Bearer not.a.jwt')).status, 'invalid');
  });

  test('expiry is judged on the Clock port with the declared skew', async () => {
    const token = await valid();
    await clock.advance(600_000 + 29_000);
    assert.equal((await verifier.verify(`Bearer ${token}`)).status, 'valid', 'within 30 s of skew');
    await clock.advance(2_000);
    assert.deepEqual(await verifier.verify(`Bearer ${token}`), { status: 'invalid', reason: 'the token has expired' });
  });

  test('nbf in the future beyond the skew is refused', async () => {
    const token = await hs256({ sub: 'u' }, (j) => j.setIssuer('https://id.example').setAudience('shop').setNotBefore(nowSec() + 120));
    assert.deepEqual(await verifier.verify(`Bearer ${token}`), { status: 'invalid', reason: 'the token\'s "nbf" claim is not acceptable' });
  });

  test('wrong issuer, audience or secret is invalid', async () => {
    const otherIss = await hs256({ sub: 'u' }, (j) => j.setIssuer('https://evil.example').setAudience('shop'));
    assert.match((await verifier.verify(`Bearer ${otherIss}`) as { reason: string }).reason, /"iss"/);
    const otherAud = await hs256({ sub: 'u' }, (j) => j.setIssuer('https://id.example').setAudience('other'));
    assert.match((await verifier.verify(`Bearer ${otherAud}`) as { reason: string }).reason, /"aud"/);
    const forged = await new SignJWT({ sub: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://id.example').setAudience('shop')
      .setExpirationTime(nowSec() + 60).sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
    assert.deepEqual(await verifier.verify(`Bearer ${forged}`), { status: 'invalid', reason: 'the token signature is not valid' });
  });

  test('an unsigned (alg none) token is never accepted', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'admin', iss: 'https://id.example', aud: 'shop', exp: nowSec() + 60 })}.`;
    assert.equal((await verifier.verify(`Bearer ${none}`)).status, 'invalid');
  });

  test('claims are configurable: user id, nested groups, a group string', async () => {
    const custom = createJwtVerifier({ secret, clock, userIdClaim: 'preferred_username', groupsClaim: 'realm_access.roles', propertyClaims: { level: 'https://shop/level' } });
    const token = await hs256({ preferred_username: 'mario', realm_access: { roles: ['ops'] }, 'https://shop/level': 3 });
    assert.deepEqual(await custom.verify(`Bearer ${token}`), { status: 'valid', userId: 'mario', groups: ['ops'], permissions: [], properties: { level: 3 } });
    const spaced = createJwtVerifier({ secret, clock, groupsClaim: 'scope' });
    const s = await spaced.verify(`Bearer ${await hs256({ sub: 'x', scope: 'a b,c' })}`);
    assert.deepEqual(s.status === 'valid' && s.groups, ['a', 'b', 'c']);
  });

  test('claim lookups never reach the prototype', async () => {
    const v = createJwtVerifier({ secret, clock, groupsClaim: 'constructor.name', propertyClaims: ['__proto__', 'toString'] });
    const outcome = await v.verify(`Bearer ${await hs256({ sub: 'x' })}`);
    assert.deepEqual(outcome, { status: 'valid', userId: 'x', groups: [], permissions: [], properties: {} });
  });

  test('exactly one of secret or jwksUrl', () => {
    assert.throws(() => createJwtVerifier({ clock }), /exactly one/);
    assert.throws(() => createJwtVerifier({ clock, secret, jwksUrl: 'http://x' }), /exactly one/);
  });
});

describe('JWT with keys from a JWKS URL (real HTTP server, rotation without restart)', () => {
  let server: Server;
  let jwksUrl: string;
  let published: JWK[] = [];
  let fetches = 0;
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK; alg: string }>();

  async function addKey(kid: string, alg: 'RS256' | 'ES256'): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    keys.set(kid, { privateKey, jwk, alg });
  }
  const sign = (kid: string, claims: Record<string, unknown> = { sub: 'u-9', groups: ['users'] }) => {
    const k = keys.get(kid)!;
    return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid }).setIssuer('https://id.example').setExpirationTime(nowSec() + 300).sign(k.privateKey);
  };

  before(async () => {
    await Promise.all([addKey('k1', 'RS256'), addKey('k2', 'ES256'), addKey('k3', 'RS256')]);
    server = createServer((req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('verifies RS256 and ES256, caches the JWKS, and picks up rotated keys on an unknown kid', async () => {
    published = [keys.get('k1')!.jwk, keys.get('k2')!.jwk];
    fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl, clock, issuer: 'https://id.example', jwksCooldown: 0 });
    assert.deepEqual(await verifier.verify(`Bearer ${await sign('k1')}`), { status: 'valid', userId: 'u-9', groups: ['users'], permissions: [], properties: {} });
    assert.equal((await verifier.verify(`Bearer ${await sign('k2')}`)).status, 'valid');
    assert.equal((await verifier.verify(`Bearer ${await sign('k1')}`)).status, 'valid');
    assert.equal(fetches, 1, 'the JWKS is fetched once and cached');

    // The IdP rotates: k3 replaces k1 and k2. No restart.
    published = [keys.get('k3')!.jwk];
    assert.equal((await verifier.verify(`Bearer ${await sign('k3')}`)).status, 'valid');
    assert.equal(fetches, 2, 'an unknown kid refetched the JWKS');
    assert.deepEqual(await verifier.verify(`Bearer ${await sign('k1')}`), { status: 'invalid', reason: 'the token is signed with an unknown key' });
  });

  test('the cooldown stops unknown kids from hammering the JWKS endpoint', async () => {
    published = [keys.get('k1')!.jwk];
    fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl, clock, jwksCooldown: 60_000 });
    assert.equal((await verifier.verify(`Bearer ${await sign('k1')}`)).status, 'valid');
    for (let i = 0; i < 5; i++) assert.equal((await verifier.verify(`Bearer ${await sign('k3')}`)).status, 'invalid');
    assert.equal(fetches, 1);
  });

  test('a symmetric token is refused by a JWKS verifier (algorithm confusion)', async () => {
    published = [keys.get('k1')!.jwk];
    const verifier = createJwtVerifier({ jwksUrl, clock, jwksCooldown: 0 });
    const hs = await hs256({ sub: 'admin' });
    assert.deepEqual(await verifier.verify(`Bearer ${hs}`), { status: 'invalid', reason: 'the token algorithm is not allowed' });
  });

  test('an unreachable JWKS is "unavailable", not the caller\'s fault', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const verifier = createJwtVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks`, clock });
    assert.deepEqual(await verifier.verify(`Bearer ${await sign('k1')}`), { status: 'unavailable', reason: 'the signing keys (JWKS) cannot be fetched' });
  });
});

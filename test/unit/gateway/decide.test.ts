import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import { parseAcl } from '../../../src/expressions/acl/index.js';
import { createApiKeyAuthenticator } from '../../../src/gateway/auth/api-keys.js';
import { createAuthenticator } from '../../../src/gateway/auth/authenticate.js';
import { decide, type AccessRule, type Decision } from '../../../src/gateway/auth/decide.js';
import { createJwtVerifier } from '../../../src/gateway/auth/jwt.js';
import { stripIdentityHeaders } from '../../../src/gateway/auth/identity.js';

const secret = 'a-shared-secret-of-at-least-32-bytes!!';
const clock = new ManualClock();
const authenticate = createAuthenticator({
  apiKeys: createApiKeyAuthenticator([{ key: 'web-key', clientType: 'web' }]),
  jwt: createJwtVerifier({ secret, clock, propertyClaims: ['tier'] }),
});
const token = (claims: Record<string, unknown>, expSec = 600) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(clock.now() / 1000) + expSec).sign(new TextEncoder().encode(secret));

function acl(text: string) {
  const parsed = parseAcl(text);
  assert.ok(parsed.ok);
  return parsed.evaluate;
}

async function judge(rule: Partial<AccessRule>, headers: Record<string, string>, isBackoffice = false): Promise<Decision> {
  return decide({ public: false, secreted: false, ...rule }, await authenticate(headers), { isBackoffice });
}

function status(d: Decision): number {
  return d.allowed ? 200 : d.error.statusCode!;
}

describe('access decisions', () => {
  test('no credentials on a non-public endpoint: 401 with WWW-Authenticate', async () => {
    const d = await judge({}, {});
    assert.equal(d.allowed, false);
    assert.ok(!d.allowed);
    assert.equal(d.error.code, 'MR_GW_UNAUTHORIZED');
    assert.equal(d.error.statusCode, 401);
    assert.equal(d.wwwAuthenticate, 'Bearer realm="mia-run"');
  });

  test('a valid token lets the user in with the identity', async () => {
    const d = await judge({}, { authorization: `Bearer ${await token({ sub: 'u1', groups: ['admin'], tier: 'gold' })}` }, true);
    assert.ok(d.allowed);
    assert.deepEqual(d.identity, { userId: 'u1', groups: ['admin'], permissions: [], properties: { tier: 'gold' }, isBackoffice: true });
  });

  test('an expired or forged token is 401 invalid_token, even on a public endpoint', async () => {
    const expired = await token({ sub: 'u1' }, -3600);
    for (const rule of [{}, { public: true }]) {
      const d = await judge(rule, { authorization: `Bearer ${expired}` });
      assert.ok(!d.allowed);
      assert.equal(d.error.statusCode, 401);
      assert.match(d.wwwAuthenticate!, /^Bearer realm="mia-run", error="invalid_token", error_description="the token has expired"$/);
    }
  });

  test('ACL false: 403 for a logged-in user, 401 for an anonymous caller', async () => {
    const rule = { public: true, acl: acl('groups.admin || user.tier == "gold"') };
    assert.equal(status(await judge(rule, { authorization: `Bearer ${await token({ sub: 'u', groups: ['users'] })}` })), 403);
    assert.equal(status(await judge(rule, { authorization: `Bearer ${await token({ sub: 'u', tier: 'gold' })}` })), 200);
    const anon = await judge(rule, {});
    assert.ok(!anon.allowed);
    assert.equal(anon.error.statusCode, 401);
  });

  test('public endpoints skip login but still get the identity when present', async () => {
    const anon = await judge({ public: true }, {});
    assert.ok(anon.allowed);
    assert.equal(anon.identity.userId, undefined);
    const known = await judge({ public: true }, { authorization: `Bearer ${await token({ sub: 'u7' })}` });
    assert.ok(known.allowed);
    assert.equal(known.identity.userId, 'u7');
  });

  test('a wrong client key is 403 on every endpoint, even public ones that need none', async () => {
    for (const rule of [{ public: true }, {}, { secreted: true }]) {
      const d = await judge(rule, { 'client-key': 'guess' });
      assert.ok(!d.allowed);
      assert.equal(d.error.code, 'MR_GW_FORBIDDEN');
    }
  });

  test('secreted endpoints need a client key; its clientType reaches the ACL', async () => {
    const d = await judge({ public: true, secreted: true }, {});
    assert.ok(!d.allowed);
    assert.equal(d.error.statusCode, 401);
    assert.equal(d.wwwAuthenticate, 'ApiKey realm="mia-run"');
    const ok = await judge({ public: true, secreted: true, acl: acl('clientType == "web"') }, { secret: 'web-key' });
    assert.ok(ok.allowed);
    assert.equal(ok.identity.clientType, 'web');
  });

  test('spoofed identity headers are stripped before authentication, so they grant nothing', async () => {
    const headers = stripIdentityHeaders({ miauserid: 'admin', miausergroups: 'admin', isbackoffice: 'true' }, { trust: false });
    const d = decide({ public: false, secreted: false, acl: acl('groups.admin') }, await authenticate(headers), { isBackoffice: false });
    assert.equal(status(d), 401);
  });

  test('with trustIdentityHeaders the identity set by the gateway in front is used', async () => {
    const trusting = createAuthenticator({ trustIdentityHeaders: true });
    const credentials = await trusting({ miauserid: 'u5', miausergroups: 'admin,ops', miauserproperties: '{"tier":"gold"}' });
    const d = decide({ public: false, secreted: false, acl: acl('groups.ops && user.tier == "gold"') }, credentials, { isBackoffice: false });
    assert.ok(d.allowed);
    assert.equal(d.identity.userId, 'u5');
  });

  test('a bearer token on a server without JWT configured is invalid, and a JWKS outage is 502', async () => {
    const noJwt = createAuthenticator({});
    assert.equal(status(decide({ public: true, secreted: false }, await noJwt({ authorization: 'Bearer x.y.z' }), { isBackoffice: false })), 401);
    const outage = decide({ public: true, secreted: false }, { apiKey: { status: 'absent' }, jwt: { status: 'unavailable', reason: 'down' } }, { isBackoffice: false });
    assert.ok(!outage.allowed);
    assert.equal(outage.error.code, 'MR_GW_UPSTREAM_UNAVAILABLE');
  });
});

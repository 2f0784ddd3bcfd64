import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { ManualClock } from '../../../src/ports/manual-clock.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { SECRET, startGateway, token, upstream, waitFor } from './harness.js';

type Up = Awaited<ReturnType<typeof upstream>>;
const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('auth.userinfo: Mia-style opaque sessions looked up at a user-info URL', () => {
  let userinfo: Up;
  let service: Up;
  let runtime: Runtime;
  let url: string;
  const clock = new ManualClock();
  let hang = false;

  before(async () => {
    userinfo = await upstream((req, res) => {
      if (hang) return; // never answers
      const auth = req.headers.authorization;
      const cookie = req.headers.cookie;
      if (auth === 'Bearer opaque-ada' || cookie === 'sid=session-ada') {
        return json(res, 200, { sub: 'ada', groups: ['admin', 'staff'], permissions: 'orders:read orders:write', name: 'Ada', tier: 'gold' });
      }
      if (auth === 'Bearer opaque-bob') return json(res, 200, { user: { id: 'bob' }, roles: 'staff', name: 'Bob', tier: 'silver', email: 'b@x' });
      if (auth === 'Bearer broken') return json(res, 500, { error: 'down' });
      return json(res, 401, { error: 'unknown session' });
    });
    service = await upstream((req, res) => json(res, 200, { user: req.headers.miauserid ?? null, groups: req.headers.miausergroups ?? null, properties: req.headers.miauserproperties ?? null }));
    ({ runtime, url } = await startGateway(
      {
        auth: { jwt: { secret: SECRET }, userinfo: { url: `${userinfo.url}/userinfo`, cookie: 'sid', cacheFor: '30s', timeout: '2s' } },
        upstreams: { svc: { url: service.url, policies: [] } },
        endpoints: [
          { basePath: '/admin', target: { upstream: 'svc' }, acl: 'groups.admin && user.tier == "gold"' },
          { basePath: '/open', target: { upstream: 'svc' }, public: true },
        ],
      },
      { clock },
    ));
  });
  after(async () => {
    await runtime.stop();
    await userinfo.close();
    await service.close();
  });

  test('an opaque bearer token is looked up; the answer is the identity (user id, groups, properties) for the ACL and the upstream', async () => {
    const res = await fetch(`${url}/admin/x`, { headers: { authorization: 'Bearer opaque-ada' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { user: string; groups: string; properties: string };
    assert.equal(body.user, 'ada');
    assert.equal(body.groups, 'admin,staff');
    assert.deepEqual(JSON.parse(body.properties), { sub: 'ada', name: 'Ada', tier: 'gold' });
    const call = userinfo.seen.at(-1)!;
    assert.equal(call.method, 'GET');
    assert.equal(call.url, '/userinfo');
    assert.equal(call.headers.authorization, 'Bearer opaque-ada');
  });

  test('answers are cached per token for cacheFor (on the clock); concurrent look-ups share one call', async () => {
    const before = userinfo.seen.length;
    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${url}/admin/y`, { headers: { authorization: 'Bearer opaque-ada' } })));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.equal(userinfo.seen.length, before, 'still cached from the first test');
    await clock.advance(30_000);
    await Promise.all([1, 2, 3].map(() => fetch(`${url}/admin/z`, { headers: { authorization: 'Bearer opaque-ada' } })));
    assert.equal(userinfo.seen.length, before + 1, 'one look-up after expiry, shared by concurrent requests');
  });

  test('a token the user-info endpoint refuses is 401 invalid_token; a user the ACL refuses is 403', async () => {
    const refused = await fetch(`${url}/admin`, { headers: { authorization: 'Bearer nobody' } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal(((await refused.json()) as { code: string }).code, 'MR_GW_UNAUTHORIZED');
    const bob = await fetch(`${url}/admin`, { headers: { authorization: 'Bearer opaque-bob' } });
    assert.equal(bob.status, 403);
  });

  test('a session cookie is looked up alone (other cookies stay home); a refused cookie is an anonymous caller', async () => {
    const res = await fetch(`${url}/admin`, { headers: { cookie: 'theme=dark; sid=session-ada; other=1' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { user: string }).user, 'ada');
    assert.equal(userinfo.seen.at(-1)!.headers.cookie, 'sid=session-ada');
    assert.equal(userinfo.seen.at(-1)!.headers.authorization, undefined);
    const stale = await fetch(`${url}/open`, { headers: { cookie: 'sid=expired' } });
    assert.equal(stale.status, 200, 'a public page still answers a stale session');
    assert.equal(((await stale.json()) as { user: null }).user, null);
    assert.equal((await fetch(`${url}/admin`, { headers: { cookie: 'sid=expired' } })).status, 401);
  });

  test('JWTs are still verified locally when both are configured', async () => {
    const before = userinfo.seen.length;
    const jwt = await token({ sub: 'carol', groups: ['admin'] }, clock.now());
    const res = await fetch(`${url}/open`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(((await res.json()) as { user: string }).user, 'carol');
    assert.equal(userinfo.seen.length, before);
  });

  test('a user-info endpoint that fails is 502; one that does not answer in time is 502 after the timeout (never cached)', async () => {
    const failing = await fetch(`${url}/open`, { headers: { authorization: 'Bearer broken' } });
    assert.equal(failing.status, 502);
    assert.equal(((await failing.json()) as { code: string }).code, 'MR_GW_UPSTREAM_UNAVAILABLE');
    hang = true;
    try {
      const seen = userinfo.seen.length;
      const pending = fetch(`${url}/open`, { headers: { authorization: 'Bearer slow-one' } });
      await waitFor(() => userinfo.seen.length === seen + 1, 'the look-up to arrive');
      await clock.advance(2_000);
      const res = await pending;
      assert.equal(res.status, 502);
      assert.match(((await res.json()) as { message: string }).message, /did not answer within 2000 ms/);
    } finally {
      hang = false;
    }
    assert.equal((await fetch(`${url}/open`, { headers: { authorization: 'Bearer broken' } })).status, 502);
    assert.equal(userinfo.seen.filter((s) => s.headers.authorization === 'Bearer broken').length, 2, 'an outage is not cached');
  });
});

describe('auth.userinfo field mapping', () => {
  test('userIdField, groupsField and propertyFields pick from the answer', async () => {
    const info = await upstream((_req, res) => json(res, 200, { user: { id: 'bob' }, roles: 'staff ops', name: 'Bob', tier: 'silver', email: 'b@x' }));
    const service = await upstream((req, res) => json(res, 200, { user: req.headers.miauserid, groups: req.headers.miausergroups, properties: req.headers.miauserproperties }));
    const { runtime, url } = await startGateway({
      auth: { userinfo: { url: info.url, userIdField: 'user.id', groupsField: 'roles', propertyFields: { displayName: 'name', level: 'tier' } } },
      upstreams: { svc: { url: service.url, policies: [] } },
      endpoints: [{ basePath: '/', target: { upstream: 'svc' }, acl: 'groups.ops && user.level == "silver"' }],
    });
    try {
      const res = await fetch(`${url}/x`, { headers: { authorization: 'Bearer any.opaque.value' } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { user: string; groups: string; properties: string };
      assert.equal(body.user, 'bob');
      assert.equal(body.groups, 'staff,ops');
      assert.deepEqual(JSON.parse(body.properties), { displayName: 'Bob', level: 'silver' });
    } finally {
      await runtime.stop();
      await info.close();
      await service.close();
    }
  });
});

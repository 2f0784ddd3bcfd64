import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createApiKeyAuthenticator, readCookie } from '../../../src/gateway/auth/api-keys.js';
import {
  DEFAULT_IDENTITY_HEADERS,
  identityHeaders,
  readIdentityHeaders,
  stripIdentityHeaders,
  type Identity,
} from '../../../src/gateway/auth/identity.js';

describe('client keys', () => {
  const check = createApiKeyAuthenticator([
    { key: 'web-key-123', clientType: 'web' },
    { key: 'mobile-key-456', clientType: 'mobile' },
  ]);

  test('from the client-key or secret header, else the mia_client_key cookie', () => {
    // keyId: a digest prefix, stable per key and never the key itself (what per-key rate limits count by).
    const webId = createHash('sha256').update('web-key-123').digest('hex').slice(0, 16);
    const mobileId = createHash('sha256').update('mobile-key-456').digest('hex').slice(0, 16);
    assert.deepEqual(check({ 'client-key': 'web-key-123' }), { status: 'valid', clientType: 'web', keyId: webId });
    assert.deepEqual(check({ secret: 'mobile-key-456' }), { status: 'valid', clientType: 'mobile', keyId: mobileId });
    assert.deepEqual(check({ cookie: 'a=1; mia_client_key=web-key-123; b=2' }), { status: 'valid', clientType: 'web', keyId: webId });
    assert.deepEqual(check({}), { status: 'absent' });
    assert.deepEqual(check({ cookie: 'other=1' }), { status: 'absent' });
  });

  test('a key that matches nothing is invalid (403 on every route), however it is sent', () => {
    assert.deepEqual(check({ 'client-key': 'web-key-12' }), { status: 'invalid' });
    assert.deepEqual(check({ secret: 'web-key-1234' }), { status: 'invalid' });
    assert.deepEqual(check({ cookie: 'mia_client_key=nope' }), { status: 'invalid' });
    assert.deepEqual(check({ 'client-key': '' }), { status: 'invalid' });
    assert.deepEqual(check({ 'client-key': ['web-key-123', 'mobile-key-456'] }), { status: 'invalid' }, 'two keys: refuse, do not pick');
  });

  test('the header wins over the cookie', () => {
    assert.deepEqual(check({ 'client-key': 'bad', cookie: 'mia_client_key=web-key-123' }), { status: 'invalid' });
  });

  test('readCookie handles quoting and encoding', () => {
    assert.equal(readCookie('x="a%20b"', 'x'), 'a b');
    assert.equal(readCookie('x=%E0%A4%A', 'x'), '%E0%A4%A');
    assert.equal(readCookie('xx=1; x=2', 'x'), '2');
    assert.equal(readCookie(undefined, 'x'), undefined);
  });
});

describe('identity headers', () => {
  const identity: Identity = {
    userId: 'u-42',
    groups: ['admin', 'bad,group', 'team-a'],
    permissions: ['write:orders'],
    properties: { name: 'Zoë 日本', tier: 'gold' },
    clientType: 'web',
    isBackoffice: false,
  };

  test('Mia headers for in-process capabilities and upstreams', () => {
    const headers = identityHeaders(identity);
    assert.equal(headers.miauserid, 'u-42');
    assert.equal(headers.miausergroups, 'admin,team-a', 'a group with a comma cannot travel in a comma list');
    assert.deepEqual(JSON.parse(headers.miauserproperties!), identity.properties);
    assert.match(headers.miauserproperties!, /^[\x20-\x7e]*$/, 'non-ASCII is JSON-escaped so the header is legal');
    assert.equal(headers['client-type'], 'web');
    assert.equal(headers.isbackoffice, 'false');
  });

  test('names are configurable', () => {
    const headers = identityHeaders(identity, { ...DEFAULT_IDENTITY_HEADERS, userId: 'x-user' });
    assert.equal(headers['x-user'], 'u-42');
    assert.equal(headers.miauserid, undefined);
  });

  test('spoofed identity and ACL headers from outside are stripped', () => {
    const incoming = {
      miauserid: 'admin',
      MiaUserGroups: 'admin',
      miauserproperties: '{"tier":"gold"}',
      'client-type': 'backoffice',
      isbackoffice: 'true',
      acl_rows: '{}',
      acl_read_columns: 'secret',
      acl_write_columns: 'all',
      'x-request-id': 'r1',
      'content-type': 'application/json',
    };
    const stripped = stripIdentityHeaders({ ...incoming }, { trust: false });
    assert.deepEqual(stripped, { 'x-request-id': 'r1', 'content-type': 'application/json' });
  });

  test('custom names are stripped too; trusted deployments keep them', () => {
    const names = { ...DEFAULT_IDENTITY_HEADERS, userId: 'x-user' };
    assert.deepEqual(stripIdentityHeaders({ 'x-user': 'a', miauserid: 'b' }, { trust: false, names }), { miauserid: 'b' });
    const incoming = { miauserid: 'a', acl_rows: '{}' };
    assert.deepEqual(stripIdentityHeaders({ ...incoming }, { trust: true }), incoming);
  });

  test('readIdentityHeaders reads what a trusted gateway in front set', () => {
    const read = readIdentityHeaders(identityHeaders({ ...identity, properties: { tier: 'gold' }, isBackoffice: true }));
    assert.deepEqual(read, { userId: 'u-42', groups: ['admin', 'team-a'], permissions: [], properties: { tier: 'gold' }, clientType: 'web', isBackoffice: true });
    assert.equal(readIdentityHeaders({}), undefined);
    assert.deepEqual(readIdentityHeaders({ miauserid: 'u', miauserproperties: '[not json' })?.properties, {});
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAcl, MAX_ACL_DEPTH, type AclSubject } from '../../../src/expressions/acl/index.js';

const subject = (over: Partial<AclSubject> = {}): AclSubject => ({
  groups: [], permissions: [], user: {}, isBackoffice: false, ...over,
});

function check(text: string, s: AclSubject): boolean {
  const acl = parseAcl(text);
  assert.ok(acl.ok, `${text}: ${acl.ok ? '' : acl.message}`);
  return acl.evaluate(s);
}

function failure(text: string): { message: string; offset: number } {
  const acl = parseAcl(text);
  assert.equal(acl.ok, false, `${text} should not parse`);
  return acl as { message: string; offset: number };
}

describe('ACL expressions: Mia vocabulary', () => {
  const admin = subject({ groups: ['admin', 'back-office'], userId: 'u1', user: { tier: 'gold', age: 42, verified: true, address: { city: 'Milano' } } });
  const guest = subject({ groups: ['guest'], user: { tier: 'silver', age: 17 } });

  const cases: [string, boolean, boolean][] = [
    ['groups.admin', true, false],
    ['groups["back-office"]', true, false],
    ['groups.back-office', true, false],
    ['"admin" in groups', true, false],
    ['["root", "guest"] in groups', false, true],
    ['["root", "admin"] in groups', true, false],
    ['user.tier == "gold"', true, false],
    ["user.tier != 'gold'", false, true],
    ['user.age >= 18', true, false],
    ['user.age < 18', false, true],
    ['user.age > 41 && user.age <= 42', true, false],
    ['user.verified', true, false],
    ['user.verified == true', true, false],
    ['user.address.city == "Milano"', true, false],
    ['user.id == "u1"', true, false],
    ['groups.admin || user.tier == "gold"', true, false],
    ['!groups.admin', false, true],
    ['!(groups.admin || groups.guest)', false, false],
    ['true', true, true],
    ['false', false, false],
    ['groups.admin && (user.age > 40 || false)', true, false],
  ];
  for (const [text, forAdmin, forGuest] of cases) {
    test(text, () => {
      assert.equal(check(text, admin), forAdmin, 'admin');
      assert.equal(check(text, guest), forGuest, 'guest');
    });
  }

  test('permissions, clientType and isBackoffice', () => {
    const s = subject({ permissions: ['write:orders'], clientType: 'web', isBackoffice: true });
    assert.equal(check('permissions["write:orders"]', s), true);
    assert.equal(check('permissions["read:orders"]', s), false);
    assert.equal(check('"write:orders" in permissions', s), true);
    assert.equal(check('clientType == "web"', s), true);
    assert.equal(check('clientType == "mobile"', s), false);
    assert.equal(check('isBackoffice', s), true);
    assert.equal(check('isBackoffice', subject()), false);
  });

  test('deny by default: missing properties, wrong types and non-boolean results are false', () => {
    assert.equal(check('user.tier', subject({ user: { tier: 'gold' } })), false, 'a string is not true');
    assert.equal(check('user.missing == "x"', subject()), false);
    assert.equal(check('user.age > "10"', subject({ user: { age: 42 } })), false, 'no coercion between types');
    assert.equal(check('user.list == "a"', subject({ user: { list: ['a'] } })), false);
    assert.equal(check('groups', subject({ groups: ['a'] })), false);
    assert.equal(check('"a" in user.roles', subject({ user: { roles: 'a' } })), false, 'in needs a list');
    assert.equal(check('"a" in user.roles', subject({ user: { roles: ['a'] } })), true);
  });

  test('usesClientType tells whether the endpoint becomes key-secured', () => {
    const withType = parseAcl('groups.admin || !(clientType == "web")');
    const without = parseAcl('groups.admin || user.clientType == "web"');
    assert.ok(withType.ok && without.ok);
    assert.equal(withType.usesClientType, true);
    assert.equal(without.usesClientType, false);
  });
});

describe('ACL expressions: errors carry the offset', () => {
  const errors: [string, number, RegExp][] = [
    ['groups.admin ||', 15, /unexpected end of expression/],
    ['groups.admin && && x', 16, /unexpected "&&"/],
    ['group.admin', 0, /unknown name "group"/],
    ['user.tier = "gold"', 10, /unexpected character "="/],
    ['(groups.admin', 13, /expected "\)"/],
    ['user.tier == "gold', 13, /unterminated string/],
    ['groups.admin groups.x', 13, /unexpected "groups"/],
    ['clientType.x == "a"', 0, /clientType has no properties/],
    ['groups in groups', 0, /left side of "in"/],
    ['"a" in clientType', 7, /right side of "in"/],
    ['user', 0, /use user.<property>/],
    ['user.age > 12abc', 11, /malformed number/],
    ['', 0, /unexpected end/],
  ];
  for (const [text, offset, message] of errors) {
    test(JSON.stringify(text), () => {
      const e = failure(text);
      assert.match(e.message, message);
      assert.equal(e.offset, offset);
      assert.match(e.message, new RegExp(`column ${offset + 1}\\)$`));
    });
  }
});

describe('ACL expressions: hostile input', () => {
  test('prototype names are refused at parse time', () => {
    for (const text of ['user.__proto__', 'user.constructor == "x"', 'user["__proto__"].polluted', 'user.a.prototype', 'groups.constructor', 'permissions["__proto__"]']) {
      assert.match(failure(text).message, /not allowed as a property name/, text);
    }
  });

  test('inherited properties never resolve, even through objects with a hostile prototype', () => {
    const proto = { tier: 'gold', nested: { city: 'x' } };
    const user = Object.create(proto) as Record<string, unknown>;
    assert.equal(check('user.tier == "gold"', subject({ user })), false);
    assert.equal(check('user.toString == "x"', subject({ user: {} })), false);
    assert.equal(check('user.hasOwnProperty', subject({ user: {} })), false);
    assert.equal(check('user.length == 1', subject({ user: { length: 1 } })), true, 'own properties do resolve');
    const polluted = JSON.parse('{"__proto__": {"tier": "gold"}}') as Record<string, unknown>;
    assert.equal(check('user.tier == "gold"', subject({ user: polluted })), false);
    assert.equal(check('groups.toString', subject()), false);
    assert.equal(check('groups.length', subject({ groups: ['length'] })), true, 'a group named length is a name, not a property');
  });

  test('deep nesting is refused with an error, not a stack overflow', () => {
    assert.match(failure('('.repeat(10_000) + 'true' + ')'.repeat(10_000)).message, /longer than 4096/);
    assert.match(failure('('.repeat(2_000) + 'true' + ')'.repeat(2_000)).message, /nested deeper/);
    const justOver = '('.repeat(MAX_ACL_DEPTH + 1) + 'true' + ')'.repeat(MAX_ACL_DEPTH + 1);
    assert.match(failure(justOver).message, /nested deeper than 64/);
    const nots = '!'.repeat(MAX_ACL_DEPTH + 1) + 'true';
    assert.match(failure(nots).message, /nested deeper/);
    assert.equal(check('('.repeat(MAX_ACL_DEPTH) + 'true' + ')'.repeat(MAX_ACL_DEPTH), subject()), true);
  });

  test('very long input is refused; long flat chains within the limit work', () => {
    assert.match(failure('groups.a || '.repeat(1000) + 'true').message, /longer than 4096/);
    const chain = Array.from({ length: 250 }, (_, i) => `groups.g${i}`).join(' || ');
    assert.equal(check(chain, subject({ groups: ['g249'] })), true);
  });

  test('no code is ever run: text that looks like JavaScript is a syntax error', () => {
    for (const text of ['process.exit(1)', 'user.x; process.exit()', 'this.constructor', '`x`', 'user.tier == "a" + "b"', 'groups.admin ? true : false']) {
      assert.equal(parseAcl(text).ok, false, text);
    }
  });
});

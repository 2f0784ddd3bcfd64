// Config rules of the single-view features (fast-data.md §5), each with its position: validator and
// strategy functions, strategy projections, relation `where` fields, joins with both `fields` and `value`,
// select operands, dead-letter topics; and the schema's new keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastDataRules } from '../../../src/config/rules/fast-data.js';
import { HEADER, lines, load } from '../config/files.js';

const valid = `${HEADER}bus:
  topics: { erp.customers: {}, erp.orders: {}, sv-dlq: {} }
fastData:
  functions:
    isVip: { module: ./f.mjs, export: isVip }
    check: { module: ./f.mjs, export: check }
    route: { module: ./f.mjs, export: route }
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: name, source: NAME }, { name: segment, source: SEGMENT }]
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: customerId, source: CUSTOMER_ID }, { name: status, source: STATUS }]
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ name: oc, from: orders.customerId, to: customers.id, where: { orders.status: open } }]
      aggregation:
        customerId: customers.id
        orders: { from: orders, via: oc, many: true, value: id }
        lastNames: { from: orders, via: oc, many: true, fields: { id: id, customer: customers.name } }
        contact: { fields: { name: name } }
        tier: { select: [{ when: { "==": [customers.segment, { const: B2B }] }, value: { const: business } }], default: name }
        vip: { fn: isVip }
      validator: check
      onInvalid: keep
      upsert: update
      strategies: { orders: { fn: route } }
      fanOutWarn: 100
      timeout: 2s
      retry: { attempts: 2, delay: 100ms }
      errors: { collection: my-errors }
      deadLetter: { topic: sv-dlq }
`;
const files = (text: string): Record<string, string> => ({ 'project.yaml': text, 'f.mjs': 'export const isVip = () => 1; export const check = () => true; export async function* route() {}' });

test('every single-view feature key validates and passes the rules', async () => {
  assert.deepEqual(lines(await load(files(valid))), []);
});

test('unknown validator, strategy function and strategy projection are reported at their positions', async () => {
  const text = valid.replace('validator: check', 'validator: chek').replace('strategies: { orders: { fn: route } }', 'strategies: { ordres: { fn: rout } }');
  const out = lines(await load(files(text), { rules: fastDataRules }));
  assert.ok(out.some((l) => /project\.yaml:\d+:\d+ error MR_CONFIG_UNKNOWN_REF fastData\.singleViews\.customer-360\.validator: function "chek" is not declared in fastData\.functions; did you mean "check"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /strategies\.ordres: "ordres" is not a projection; did you mean "orders"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /strategies\.ordres\.fn: function "rout" is not declared/.test(l)), out.join('\n'));
});

test('a where on a projection outside the relation, or on an unknown field, is reported', async () => {
  const out = lines(await load(files(valid.replace('where: { orders.status: open }', 'where: { lines.status: open, orders.stat: open }')), { rules: fastDataRules }));
  assert.ok(out.some((l) => /relations\[0\]\.where\["lines\.status"\]: "lines\.status" must be a field of "orders" or "customers"/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /relations\[0\]\.where\["orders\.stat"\]: "stat" is not a field of projection "orders"/.test(l)), out.join('\n'));
});

test('a join with both fields and value, a bad select operand and an undeclared dead-letter topic', async () => {
  const text = valid
    .replace('many: true, value: id }', 'many: true, value: id, fields: { id: id } }')
    .replace('default: name }', 'default: nme }')
    .replace('deadLetter: { topic: sv-dlq }', 'deadLetter: { topic: sv-dlqq }');
  const out = lines(await load(files(text), { rules: fastDataRules }));
  assert.ok(out.some((l) => /aggregation\.orders: a join needs exactly one of "fields" \(objects\) and "value"/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /aggregation\.tier\.default: "nme" is not a field of projection "customers"; did you mean "name"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /deadLetter\.topic: topic "sv-dlqq" is not declared in bus\.topics; did you mean "sv-dlq"\?/.test(l)), out.join('\n'));
});

test('the schema rejects unknown modes with a position', async () => {
  const out = lines(await load(files(valid.replace('onInvalid: keep', 'onInvalid: ignore').replace('upsert: update', 'upsert: merge'))));
  assert.ok(out.some((l) => /project\.yaml:\d+:\d+ error MR_CONFIG_SCHEMA fastData\.singleViews\.customer-360\.onInvalid/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /fastData\.singleViews\.customer-360\.upsert/.test(l)), out.join('\n'));
});

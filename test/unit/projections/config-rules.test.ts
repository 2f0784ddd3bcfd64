import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastDataRules } from '../../../src/config/rules/fast-data.js';
import { HEADER, lines, load } from '../config/files.js';

const only = { rules: fastDataRules };

const valid = `${HEADER}bus:
  topics: { erp.customers: {}, erp.orders: {}, sv: {} }
fastData:
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields: [{ name: id, source: ID, cast: toInteger }, { name: name, source: NAME, cast: defaultCastToString }]
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields: [{ name: id, source: ID, cast: toInteger }, { name: customerId, source: CUSTOMER_ID }]
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation:
        customerId: customers.id
        name: customers.name
        orders: { from: orders, many: true, fields: { id: id } }
      publish: { topic: sv }
`;

test('a valid fastData section passes every rule', async () => {
  const result = await load({ 'project.yaml': valid }, only);
  assert.deepEqual(lines(result), []);
});

test('unknown casts, undeclared topics and primary keys outside the fields are reported with positions', async () => {
  const text = valid
    .replace('cast: defaultCastToString', 'cast: toStrng')
    .replace('topic: erp.orders\n', 'topic: erp.ordres\n')
    .replace('primaryKey: [id]\n          fields: [{ name: id, source: ID, cast: toInteger }, { name: customerId', 'primaryKey: [idd]\n          fields: [{ name: id, source: ID, cast: toInteger }, { name: customerId');
  const result = await load({ 'project.yaml': text }, only);
  const out = lines(result);
  assert.ok(out.some((l) => /project\.yaml:\d+:\d+ error MR_CONFIG_UNKNOWN_REF fastData\.systemsOfRecord\.erp\.projections\.customers\.fields\[1\]\.cast: cast "toStrng" is neither built-in nor declared in fastData\.casts; did you mean "toString"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /projections\.orders\.topic: topic "erp\.ordres" is not declared in bus\.topics; did you mean "erp\.orders"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /projections\.orders\.primaryKey\[0\]: primary key "idd" is not among the fields of "orders"; did you mean "id"\?/.test(l)), out.join('\n'));
});

test('single views: unknown projections, fields, missing relations and undeclared publish topics', async () => {
  const text = valid
    .replace('key: { customerId: customers.id }', 'key: { customerId: customers.idd }')
    .replace('name: customers.name', 'name: custmers.name')
    .replace('relations: [{ from: orders.customerId, to: customers.id }]', 'relations: [{ from: orders.customer, to: customers.id }]')
    .replace('publish: { topic: sv }', 'publish: { topic: sv2 }');
  const out = lines(await load({ 'project.yaml': text }, only));
  assert.ok(out.some((l) => /singleViews\.customer-360\.key\.customerId: "idd" is not a field of projection "customers"; did you mean "id"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /aggregation\.name: "custmers\.name" does not name a projection; did you mean "customers"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /relations\[0\]\.from: "customer" is not a field of projection "orders"; did you mean "customerId"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /publish\.topic: topic "sv2" is not declared in bus\.topics/.test(l)), out.join('\n'));
});

test('a join with no relation between the projections names both', async () => {
  const out = lines(await load({ 'project.yaml': valid.replace('relations: [{ from: orders.customerId, to: customers.id }]', 'relations: []') }, only));
  assert.ok(out.some((l) => /aggregation\.orders\.from: no relation links "customers" and "orders"/.test(l)), out.join('\n'));
});

test('custom format without an adapter, and fields named like metadata', async () => {
  const text = valid.replace('format: debezium', 'format: custom').replace('{ name: customerId, source: CUSTOMER_ID }', '{ name: __STATE__, source: CUSTOMER_ID }');
  const result = await load({ 'project.yaml': text }, only);
  const codes = result.diagnostics.map((d) => [d.code, d.path]);
  assert.deepEqual(
    codes.filter(([, p]) => !String(p).startsWith('fastData.singleViews')),
    [
      ['MR_CONFIG_INVALID_VALUE', 'fastData.systemsOfRecord.erp.format'],
      ['MR_CONFIG_INVALID_VALUE', 'fastData.systemsOfRecord.erp.projections.orders.fields[1].name'],
    ],
  );
});

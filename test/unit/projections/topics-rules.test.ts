// Config rules of the change-event topics (fast-data.md §4): diagnostics with file:line:col for bad topic
// references, external projections that would publish, v1-only options and SV chaining loops; a view read
// by another view is accepted where a projection is expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastDataRules } from '../../../src/config/rules/fast-data.js';
import { fastDataTopicRules } from '../../../src/config/rules/fast-data-topics.js';
import { HEADER, lines, load } from '../config/files.js';

const only = { rules: [...fastDataRules, ...fastDataTopicRules] };

const valid = `${HEADER}bus:
  topics: { erp.customers: {}, erp.orders: {}, orders.pr: {}, ext.pr: {}, sv: {}, tr: {} }
fastData:
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: name, source: NAME }]
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: customerId, source: CUSTOMER_ID }]
          publish: { topic: orders.pr, version: v1 }
        items:
          topic: mia.items.ingestion
          external: { prUpdateTopic: ext.pr }
          primaryKey: [sku]
          fields: [{ name: sku, source: SKU }]
  singleViews:
    customer-360:
      key: { customerId: customers.id }
      relations: [{ from: orders.customerId, to: customers.id }]
      aggregation: { customerId: customers.id, name: customers.name, orders: { from: orders, many: true, fields: { id: id } } }
      publish: { topic: sv, version: v1, includeBeforeAfter: true }
      triggers: { publish: { topic: tr }, consume: { topic: tr } }
    summary:
      key: { customerId: customer-360.customerId }
      aggregation: { customerId: customer-360.customerId, label: customer-360.name }
`;

test('pr-update, sv-trigger, external topics and a chained view pass every rule', async () => {
  assert.deepEqual(lines(await load({ 'project.yaml': valid }, only)), []);
});

test('undeclared pr-update, external and sv-trigger topics are reported at their position', async () => {
  const text = valid.replace('publish: { topic: orders.pr, version: v1 }', 'publish: { topic: orders.prr, version: v1 }').replace('prUpdateTopic: ext.pr', 'prUpdateTopic: ext.p').replace('consume: { topic: tr }', 'consume: { topic: trr }');
  const out = lines(await load({ 'project.yaml': text }, only));
  assert.ok(out.some((l) => /project\.yaml:18:29 error MR_CONFIG_UNKNOWN_REF fastData\.systemsOfRecord\.erp\.projections\.orders\.publish\.topic: topic "orders\.prr" is not declared in bus\.topics; did you mean "orders\.pr"\?/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /project\.yaml:21:38 error MR_CONFIG_UNKNOWN_REF fastData\.systemsOfRecord\.erp\.projections\.items\.external\.prUpdateTopic: topic "ext\.p" is not declared/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /project\.yaml:30:61 error MR_CONFIG_UNKNOWN_REF fastData\.singleViews\.customer-360\.triggers\.consume\.topic: topic "trr" is not declared in bus\.topics; did you mean "tr"\?/.test(l)), out.join('\n'));
  assert.equal(out.filter((l) => l.includes('mia.items.ingestion')).length, 0, 'the ingestion topic of an external projection is not ours to declare');
});

test('an external projection cannot publish; includeBeforeAfter without v1 is a warning', async () => {
  const text = valid.replace("external: { prUpdateTopic: ext.pr }", "external: { prUpdateTopic: ext.pr }\n          publish: { topic: orders.pr }").replace('version: v1, includeBeforeAfter: true', 'includeBeforeAfter: true');
  const out = lines(await load({ 'project.yaml': text }, only));
  assert.ok(out.some((l) => /error MR_CONFIG_INVALID_VALUE fastData\.systemsOfRecord\.erp\.projections\.items\.publish: projection "items" is external/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /warning MR_CONFIG_INVALID_VALUE fastData\.singleViews\.customer-360\.publish\.includeBeforeAfter: includeBeforeAfter applies to sv-update v1 only/.test(l)), out.join('\n'));
});

test('a chaining loop is an error on every view of the loop; unknown fields of a read view are reported', async () => {
  const loop = valid.replace('    summary:\n      key: { customerId: customer-360.customerId }', '    summary:\n      key: { customerId: back.customerId }\n      base: back').replace(
    "      aggregation: { customerId: customer-360.customerId, label: customer-360.name }\n",
    "      aggregation: { customerId: back.customerId }\n    back:\n      key: { customerId: summary.customerId }\n      aggregation: { customerId: summary.customerId }\n",
  );
  const out = lines(await load({ 'project.yaml': loop }, only));
  assert.ok(out.some((l) => /project\.yaml:\d+:\d+ error MR_CONFIG_INVALID_VALUE fastData\.singleViews\.summary: single view "summary" reads itself/.test(l)), out.join('\n'));
  assert.ok(out.some((l) => /fastData\.singleViews\.back: single view "back" reads itself/.test(l)), out.join('\n'));
  const typo = lines(await load({ 'project.yaml': valid.replace('label: customer-360.name', 'label: customer-360.nmae') }, only));
  assert.ok(typo.some((l) => /aggregation\.label: "nmae" is not a field of projection "customer-360"; did you mean "name"\?/.test(l)), typo.join('\n'));
});

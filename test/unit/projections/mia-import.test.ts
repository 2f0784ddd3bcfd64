// Mia single-view files through the config pipeline: a recorded ER schema, low-code aggregation and
// singleViewKey.json become the declarations a user would write in YAML; an import that references an
// unknown condition or function fails validation at its file:line:col.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../../../src/config/load-project.js';
import { importMiaView, miaConstant } from '../../../src/config/sections/fast-data-mia.js';

const fixtures = new URL('../../fixtures/fast-data/', import.meta.url).pathname;

const descriptor = (aggregationFile: string): string => `
version: 1
name: mia-import
bus:
  topics: { erp.customers: {}, erp.orders: {}, erp.lines: {}, erp.countries: {} }
fastData:
  functions:
    isVip: { module: ${fixtures}functions.mjs, export: isVip }
  systemsOfRecord:
    erp:
      format: debezium
      projections:
        customers:
          topic: erp.customers
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: name, source: NAME }, { name: segment, source: SEGMENT }, { name: countryCode, source: COUNTRY }, { name: taxCode, source: TAX_CODE }]
        orders:
          topic: erp.orders
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: customerId, source: CUSTOMER_ID }, { name: tenant, source: TENANT }, { name: total, source: TOTAL }]
        lines:
          topic: erp.lines
          primaryKey: [id]
          fields: [{ name: id, source: ID }, { name: orderId, source: ORDER_ID }, { name: tenant, source: TENANT }, { name: sku, source: SKU }, { name: qty, source: QTY }]
        countries:
          topic: erp.countries
          primaryKey: [code]
          fields: [{ name: code, source: CODE }, { name: label, source: LABEL }, { name: active, source: ACTIVE }]
  singleViews:
    customer-mia:
      erSchema: { file: ${fixtures}mia/erSchema.json }
      aggregation: { file: ${fixtures}mia/${aggregationFile} }
      key: { file: ${fixtures}mia/singleViewKey.json }
`;

describe('Mia single-view files (erSchema, aggregation, singleViewKey.json)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mia-run-mia-import-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads the Mia constants', () => {
    assert.deepEqual(miaConstant('__string__[hello]'), { value: 'hello' });
    assert.deepEqual(miaConstant('__integer__[42]'), { value: 42 });
    assert.deepEqual(miaConstant('__boolean__[false]'), { value: false });
    assert.deepEqual(miaConstant('__constant__[42]'), { value: '42' });
    assert.equal(miaConstant('customers.name'), undefined);
    assert.throws(() => miaConstant('__integer__[4.2]'), /not an integer constant/);
  });

  it('turns the recorded files into relations, an aggregation tree and a key', async () => {
    await writeFile(join(dir, 'project.yaml'), descriptor('aggregation.json'));
    const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.deepEqual(diagnostics, []);
    const view = config!.fastData.singleViews!['customer-mia']!;
    assert.equal(view.erSchema, undefined);
    assert.equal(view.base, 'customers');
    assert.deepEqual(view.key, { customerId: 'customers.id' });
    assert.deepEqual(view.relations, [
      { name: 'cust_to_orders', from: 'customers.id', to: 'orders.customerId' },
      { name: 'cust_to_country', from: 'customers.countryCode', to: 'countries.code', where: { 'countries.active': true } },
      { name: 'order_to_cust', from: 'orders.customerId', to: 'customers.id' },
      { name: 'order_to_lines', from: ['orders.id', 'orders.tenant'], to: ['lines.orderId', 'lines.tenant'] },
      { name: 'line_to_order', from: ['lines.orderId', 'lines.tenant'], to: ['orders.id', 'orders.tenant'] },
    ]);
    assert.deepEqual(view.aggregation, {
      customerId: 'customers.id',
      name: 'customers.name',
      countryLabel: { from: 'countries', via: 'cust_to_country', value: 'countries.label' },
      orders: {
        from: 'orders',
        via: 'cust_to_orders',
        many: true,
        fields: { id: 'orders.id', total: 'orders.total', lines: { from: 'lines', via: 'order_to_lines', many: true, fields: { sku: 'lines.sku', qty: 'lines.qty' } } },
      },
      kind: { const: 'customer' },
      priority: { const: 3 },
      active: { const: true },
      legacy: { const: '42' },
      vip: { fn: 'isVip' },
      tier: { select: [{ when: { '==': ['customers.segment', { const: 'B2B' }] }, value: { const: 'business' } }], default: { const: 'retail' } },
      contact: { fields: { taxCode: 'customers.taxCode' } },
    });
  });

  it('fails validation at file:line:col for an unknown condition or function', async () => {
    await writeFile(join(dir, 'project.yaml'), descriptor('aggregation-broken.json'));
    const { config, diagnostics } = await loadProject(join(dir, 'project.yaml'), { env: {} });
    assert.equal(config, undefined);
    const lines = diagnostics.map((d) => `${d.position?.file}:${d.position?.line}:${d.position?.col} ${d.code} ${d.message}`);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /aggregation-broken\.json:7:49 MR_CONFIG_UNKNOWN_REF config\.SV_CONFIG\.dependencies\.orders\.on: dependency "orders" uses condition "cust_to_orderz", which the ER schema does not declare/);
    assert.match(lines[1]!, /aggregation-broken\.json:11:18 MR_CONFIG_UNKNOWN_REF config\.SV_CONFIG\.mapping\.score: function "missingFn" is not declared in fastData\.functions/);
  });
});

describe('Mia aggregation advanced options (aliasOf, useAlias, unsupported constructs)', () => {
  const erSchema = {
    version: '1.0.0',
    config: {
      PEOPLE: { outgoing: { MARRIAGE: { conditions: { PEOPLE_TO_MARRIAGE: { condition: { a: 'id' } } } } } },
      MARRIAGE: { outgoing: { PEOPLE: { conditions: { MARRIAGE_b_TO_PEOPLE: { condition: { id: 'b' } } } } } },
      CHILD: { outgoing: { PEOPLE: { conditions: { CHILD_TO_MOTHER: { condition: { id: 'motherId', kind: '__string__[person]' } } } } } },
    },
  };

  it('joins an aliased projection through another alias (the partner of a person)', () => {
    const out = importMiaView({
      erSchema,
      aggregation: {
        version: '1.1.0',
        config: {
          SV_CONFIG: {
            dependencies: {
              PEOPLE: { type: 'projection', on: '_identifier' },
              MARRIAGE: { type: 'projection', on: 'PEOPLE_TO_MARRIAGE' },
              PARTNER: { type: 'projection', aliasOf: 'PEOPLE', on: 'MARRIAGE_b_TO_PEOPLE', useAlias: 'MARRIAGE' },
            },
            mapping: { name: 'PEOPLE.name', marriedWith: 'PARTNER.name' },
          },
        },
      },
      key: { version: '1.0.0', config: { personId: 'id' } },
      yamlRelations: [],
      functions: [],
    });
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.aggregation, {
      name: 'PEOPLE.name',
      marriedWith: { from: 'MARRIAGE', via: 'PEOPLE_TO_MARRIAGE', value: { from: 'PEOPLE', via: 'MARRIAGE_b_TO_PEOPLE', value: 'PEOPLE.name' } },
    });
    assert.deepEqual(out.key, { personId: 'PEOPLE.id' });
    assert.deepEqual(out.relations?.find((r) => r.name === 'CHILD_TO_MOTHER'), { name: 'CHILD_TO_MOTHER', from: 'CHILD.motherId', to: 'PEOPLE.id', where: { 'PEOPLE.kind': 'person' } });
  });

  it('reports $or conditions, conditional dependencies and malformed constants with their paths', () => {
    const out = importMiaView({
      erSchema: { version: '1.0.0', config: { A: { outgoing: { B: { conditions: { AB: { condition: { $or: [{ x: 'y' }] } } } } } } } },
      aggregation: {
        version: '1.1.0',
        config: { SV_CONFIG: { dependencies: { A: { type: 'projection', on: '_identifier' }, J: { type: 'projection', _select: { options: [] } } }, mapping: { n: '__integer__[x1]' } } },
      },
      yamlRelations: [],
      functions: [],
    });
    assert.deepEqual(out.problems.map((p) => [p.file, p.path.join('.'), p.kind]), [
      ['erSchema', 'config.A.outgoing.B.conditions.AB.condition.$or', 'invalid'],
      ['erSchema', 'config.A.outgoing.B.conditions.AB.condition', 'invalid'],
      ['aggregation', 'config.SV_CONFIG.dependencies.J._select', 'invalid'],
      ['aggregation', 'config.SV_CONFIG.mapping.n', 'invalid'],
    ]);
  });
});

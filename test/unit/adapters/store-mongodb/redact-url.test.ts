import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseFromUrl, redactMongoUrl } from '../../../../src/adapters/store-mongodb/redact-url.js';

describe('redactMongoUrl', () => {
  it('hides user and password', () => {
    assert.equal(redactMongoUrl('mongodb://admin:s3cret@db.example:27017/shop?authSource=admin'), 'mongodb://***@db.example:27017/shop?authSource=admin');
  });

  it('handles seed lists, SRV URLs and percent-encoded passwords', () => {
    assert.equal(redactMongoUrl('mongodb+srv://u:p%40ss@cluster0.example/db'), 'mongodb+srv://***@cluster0.example/db');
    assert.equal(redactMongoUrl('mongodb://u:pw@h1:27017,h2:27017,h3/db?replicaSet=rs0'), 'mongodb://***@h1:27017,h2:27017,h3/db?replicaSet=rs0');
  });

  it('hides secrets passed as query options', () => {
    const redacted = redactMongoUrl('mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=topsecret&password=x');
    assert.ok(!redacted.includes('topsecret'));
    assert.ok(!redacted.includes('password=x'));
    assert.ok(redacted.startsWith('mongodb://h/db?tls=true&'));
  });

  it('leaves URLs without credentials alone and does not echo garbage', () => {
    assert.equal(redactMongoUrl('mongodb://127.0.0.1:27017/'), 'mongodb://127.0.0.1:27017/');
    assert.equal(redactMongoUrl('user:pass'), '<invalid url>');
  });
});

describe('databaseFromUrl', () => {
  it('reads the path of the URL', () => {
    assert.equal(databaseFromUrl('mongodb://u:p@h:1/shop?x=1'), 'shop');
    assert.equal(databaseFromUrl('mongodb://h:1/'), undefined);
    assert.equal(databaseFromUrl('mongodb://h:1'), undefined);
  });
});

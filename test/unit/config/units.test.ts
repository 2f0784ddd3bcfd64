import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parsePercentage, parseSize } from '../../../src/config/units.js';

test('durations: units, bare numbers and digit strings are milliseconds', () => {
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration(' 2 s '), 2000);
});

test('durations: unreadable values are undefined', () => {
  for (const bad of ['2 seconds', 'soon', '-1s', '', '1w', -5, Number.NaN, true, null, {}]) assert.equal(parseDuration(bad), undefined, String(bad));
});

test('sizes are binary multiples of bytes', () => {
  assert.equal(parseSize('1mb'), 1_048_576);
  assert.equal(parseSize('512kb'), 524_288);
  assert.equal(parseSize('1gb'), 1024 ** 3);
  assert.equal(parseSize('10b'), 10);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize('2 megs'), undefined);
});

test('percentages accept 50% and 50, from 0 to 100', () => {
  assert.equal(parsePercentage('50%'), 50);
  assert.equal(parsePercentage('12.5%'), 12.5);
  assert.equal(parsePercentage(10), 10);
  assert.equal(parsePercentage('0%'), 0);
  assert.equal(parsePercentage('150%'), undefined);
  assert.equal(parsePercentage('half'), undefined);
  assert.equal(parsePercentage(-1), undefined);
});

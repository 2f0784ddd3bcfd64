import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, createBatchProcessor, DEFAULT_DEAD_LETTER } from '../../../src/bus/dead-letter.js';
import { createConsumedMessage } from '../../../src/bus/message.js';
import { MiaRunError } from '../../../src/errors.js';
import type { BatchHandler, MessageBatch, OutgoingMessage } from '../../../src/ports/event-bus.js';
import { DLQ_HEADERS } from '../../../src/ports/event-bus.js';
import { ManualClock } from '../../../src/ports/manual-clock.js';

function fakeBus() {
  const published: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  const ensured: string[] = [];
  let fail = false;
  return {
    published,
    ensured,
    failNext: () => (fail = true),
    bus: {
      ensureTopics: async (topics: Record<string, unknown>) => void ensured.push(...Object.keys(topics)),
      publish: async (topic: string, messages: readonly OutgoingMessage[]) => {
        if (fail) {
          fail = false;
          throw new MiaRunError('MR_BUS_UNAVAILABLE', 'down');
        }
        published.push({ topic, messages });
        return messages.map((_, i) => ({ topic, partition: 0, offset: i }));
      },
    },
  };
}

function batch(values: string[], first = 10): MessageBatch {
  return {
    topic: 'orders',
    partition: 2,
    messages: values.map((v, i) =>
      createConsumedMessage({ topic: 'orders', partition: 2, offset: first + i, key: `k-${v}`, value: Buffer.from(v), headers: { h: v }, timestamp: 1 }),
    ),
  };
}

/** Lets the processor run until it waits on the clock (or finishes). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('dead letters', () => {
  it('defaults to 5 attempts with exponential back-off capped at maxMs', () => {
    assert.equal(DEFAULT_DEAD_LETTER.attempts, 5);
    const opts = { attempts: 5, baseMs: 100, maxMs: 300 };
    assert.deepEqual([2, 3, 4, 5].map((n) => backoffMs(n, opts)), [100, 200, 300, 300]);
  });

  it('commits after the whole batch when the handler succeeds', async () => {
    const { bus } = fakeBus();
    const process = createBatchProcessor({ bus, clock: new ManualClock(), group: 'g', handler: async () => undefined });
    assert.deepEqual(await process(batch(['a', 'b']), new AbortController().signal), { next: 12 });
  });

  it('waits on the clock between tries, then dead-letters with headers and moves on', async () => {
    const clock = new ManualClock();
    const fake = fakeBus();
    const calls: string[] = [];
    const handler: BatchHandler = async (b, ctx) => {
      calls.push(`${b.messages.map((m) => m.text()).join('+')}#${ctx.attempt}`);
      if (b.messages.some((m) => m.text() === 'bad')) throw new Error('boom');
    };
    const process = createBatchProcessor({ bus: fake.bus, clock, group: 'billing', handler, options: { attempts: 3, baseMs: 50, maxMs: 1000 } });
    const outcome = process(batch(['a', 'bad', 'c']), new AbortController().signal);
    await settle();
    // The batch failed, so it is replayed message by message: 'a' passed, 'bad' failed its 1st try and waits.
    assert.deepEqual(calls, ['a+bad+c#1', 'a#1', 'bad#1']);
    await clock.advance(49);
    assert.equal(calls.length, 3, 'no retry before the back-off elapses');
    await clock.advance(1);
    await settle();
    assert.deepEqual(calls.slice(3), ['bad#2']);
    await clock.advance(100);
    await settle();
    assert.deepEqual(await outcome, { next: 13 });
    assert.deepEqual(calls.slice(4), ['bad#3', 'c#1']);
    assert.deepEqual(fake.ensured, ['orders.DLQ']);
    const [dead] = fake.published;
    assert.equal(dead!.topic, 'orders.DLQ');
    const message = dead!.messages[0]!;
    assert.equal(message.key, 'k-bad');
    assert.deepEqual(message.value, Buffer.from('bad'));
    assert.equal(message.headers!.h, 'bad');
    assert.equal(message.headers![DLQ_HEADERS.errorCode], 'MR_BUS_HANDLER_FAILED');
    assert.equal(message.headers![DLQ_HEADERS.errorMessage], 'boom');
    assert.equal(message.headers![DLQ_HEADERS.group], 'billing');
    assert.equal(message.headers![DLQ_HEADERS.attempts], '3');
    assert.equal(message.headers![DLQ_HEADERS.partition], '2');
    assert.equal(message.headers![DLQ_HEADERS.offset], '11');
  });

  it('sends a non-retriable MiaRunError straight to the dead-letter topic', async () => {
    const fake = fakeBus();
    const handler: BatchHandler = async () => {
      throw new MiaRunError('MR_FD_CAST_FAILED', 'bad cast');
    };
    const process = createBatchProcessor({ bus: fake.bus, clock: new ManualClock(), group: 'g', handler });
    assert.deepEqual(await process(batch(['x']), new AbortController().signal), { next: 11 });
    assert.equal(fake.published[0]!.messages[0]!.headers![DLQ_HEADERS.errorCode], 'MR_FD_CAST_FAILED');
    assert.equal(fake.published[0]!.messages[0]!.headers![DLQ_HEADERS.attempts], '1');
  });

  it('stops at an abort during back-off, keeping what finished', async () => {
    const fake = fakeBus();
    const abort = new AbortController();
    const handler: BatchHandler = async (b) => {
      if (b.messages.some((m) => m.text() === 'bad')) throw new Error('boom');
    };
    const process = createBatchProcessor({ bus: fake.bus, clock: new ManualClock(), group: 'g', handler });
    const outcome = process(batch(['a', 'bad', 'c']), abort.signal);
    await settle();
    abort.abort();
    assert.deepEqual(await outcome, { next: 11 });
    assert.equal(fake.published.length, 0);
  });

  it('returns the error and the progress when the dead-letter publish fails', async () => {
    const fake = fakeBus();
    fake.failNext();
    const handler: BatchHandler = async () => {
      throw new MiaRunError('MR_FD_INVALID_MESSAGE', 'bad');
    };
    const process = createBatchProcessor({ bus: fake.bus, clock: new ManualClock(), group: 'g', handler });
    const outcome = await process(batch(['x', 'y']), new AbortController().signal);
    assert.equal(outcome.next, null);
    assert.ok(outcome.error instanceof MiaRunError && outcome.error.code === 'MR_BUS_UNAVAILABLE');
  });

  it('with dead letters disabled returns the failure without retrying', async () => {
    const fake = fakeBus();
    let calls = 0;
    const process = createBatchProcessor({
      bus: fake.bus,
      clock: new ManualClock(),
      group: 'g',
      options: false,
      handler: async () => {
        calls += 1;
        throw new Error('no');
      },
    });
    const outcome = await process(batch(['x']), new AbortController().signal);
    assert.equal(outcome.next, null);
    assert.equal(calls, 1);
  });
});

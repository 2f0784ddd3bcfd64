import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { silentLogger } from '../../../src/ports/logger.js';
import { installSignalHandlers } from '../../../src/runtime/signals.js';

function setup() {
  const target = new EventEmitter();
  const exits: number[] = [];
  const stops: string[] = [];
  let release!: () => void;
  const stopped = new Promise<void>((resolve) => (release = resolve));
  const done = new Promise<unknown>((resolve) => {
    const uninstall = installSignalHandlers(
      async (reason) => {
        stops.push(reason);
        await stopped;
      },
      { logger: silentLogger, target, exit: (code) => exits.push(code), onStopped: (err) => resolve(err) },
    );
    target.once('uninstall', uninstall);
  });
  return { target, exits, stops, release, done };
}

describe('signals', () => {
  test('the first SIGTERM stops gracefully once; exit code 0 when done', async () => {
    const { target, exits, stops, release, done } = setup();
    const previous = process.exitCode;
    target.emit('SIGTERM');
    assert.deepEqual(stops, ['received SIGTERM']);
    release();
    assert.equal(await done, undefined);
    assert.equal(process.exitCode, 0);
    assert.deepEqual(exits, []);
    process.exitCode = previous;
    target.emit('uninstall');
  });

  test('a second signal while draining exits at once with 128 + signal', () => {
    const { target, exits, stops } = setup();
    target.emit('SIGINT');
    target.emit('SIGTERM');
    assert.deepEqual(stops, ['received SIGINT']);
    assert.deepEqual(exits, [143]);
    target.emit('SIGINT');
    assert.deepEqual(exits, [143, 130]);
    target.emit('uninstall');
  });

  test('uninstall removes the listeners', () => {
    const { target } = setup();
    assert.equal(target.listenerCount('SIGTERM'), 1);
    target.emit('uninstall');
    assert.equal(target.listenerCount('SIGTERM'), 0);
    assert.equal(target.listenerCount('SIGINT'), 0);
  });
});

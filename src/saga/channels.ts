/**
 * Command delivery per channel (flow-manager.md §3), in Mia's wire shapes:
 * - bus: published to the channel's `commands` topic, key = sagaId, value `{ messageLabel, messagePayload }`;
 * - http: `<method> <url>` with `{ key: sagaId, value: { messageLabel, messagePayload } }` through the named
 *   policies (timeouts, retries, breaker); any 2xx is success, the body is ignored.
 * Both add `mia-run-command-id` (the same on every redelivery) so executors can drop duplicates. Bus commands
 * of many sagas are published together (one append per topic and turn of the event loop).
 */
import { request } from 'undici';
import type { SagaChannel } from '../config/sections/sagas.js';
import { MiaRunError, isMiaRunError } from '../errors.js';
import type { EventBus, OutgoingMessage } from '../ports/event-bus.js';
import type { PolicyRegistry } from '../resilience/index.js';
import type { PendingCommand } from './document.js';

/** Header carrying the command id on both channels. */
export const COMMAND_ID_HEADER = 'mia-run-command-id';
/** Header carrying the saga name on both channels. */
export const SAGA_HEADER = 'mia-run-saga';

/** Mia's message shape. */
export interface MiaMessage {
  readonly messageLabel: string;
  readonly messagePayload: unknown;
}

/** Delivers one command; throws when it was not accepted (retriable errors may succeed later). */
export type CommandSender = (sagaId: string, command: PendingCommand) => Promise<void>;

export interface ChannelDeps {
  readonly sagaName: string;
  readonly bus: EventBus | undefined;
  readonly policies: PolicyRegistry;
}

/**
 * Publishes the commands handed to it in one turn of the event loop with one `publish` per topic (one append
 * and one sync instead of one per command; consumers get them as one batch). Each caller resolves once its
 * command is on the bus, or rejects with the publish error.
 */
function publishBatcher(bus: EventBus, topic: string, maxBatch = 500): (message: OutgoingMessage) => Promise<void> {
  let queue: { message: OutgoingMessage; resolve: () => void; reject: (err: unknown) => void }[] = [];
  const flush = (): void => {
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += maxBatch) {
      const batch = all.slice(i, i + maxBatch);
      bus.publish(topic, batch.map((p) => p.message)).then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  };
  return (message) =>
    new Promise<void>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ message, resolve, reject });
    });
}

function busSender(name: string, topic: string, deps: ChannelDeps): CommandSender {
  const publish = deps.bus === undefined ? undefined : publishBatcher(deps.bus, topic);
  return async (sagaId, command) => {
    if (publish === undefined) throw new MiaRunError('MR_BUS_UNAVAILABLE', `channel "${name}": no event bus in this process`);
    const value: MiaMessage = { messageLabel: command.label, messagePayload: command.payload };
    await publish({ key: sagaId, value, headers: { [COMMAND_ID_HEADER]: command.id, [SAGA_HEADER]: deps.sagaName } });
  };
}

function httpSender(name: string, channel: Extract<SagaChannel, { kind: 'http' }>, deps: ChannelDeps): CommandSender {
  const method = channel.method ?? 'POST';
  const stack = deps.policies.resolve(channel.policies ?? [], `saga:${deps.sagaName}:${name}`);
  return async (sagaId, command) => {
    const body = JSON.stringify({ key: sagaId, value: { messageLabel: command.label, messagePayload: command.payload } satisfies MiaMessage });
    const call = stack.wrap(async (ctx) => {
      try {
        const res = await request(channel.url, {
          method,
          body,
          headers: { ...channel.headers, 'content-type': 'application/json', [COMMAND_ID_HEADER]: command.id, [SAGA_HEADER]: deps.sagaName },
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        return { statusCode: res.statusCode, dispose: () => res.body.dump() };
      } catch (err) {
        if (isMiaRunError(err)) throw err;
        throw new MiaRunError('MR_GW_UPSTREAM_UNAVAILABLE', `channel "${name}": ${(err as Error).message}`, { cause: err });
      }
    });
    // The command id makes a repeat harmless, so retry policies may repeat a POST.
    const result = await call({ method, retryable: true });
    await result.dispose?.();
    if (result.statusCode < 200 || result.statusCode > 299) {
      throw new MiaRunError('MR_SAGA_COMMAND_FAILED', `channel "${name}": ${method} ${channel.url} answered ${result.statusCode}`, { details: { statusCode: result.statusCode } });
    }
  };
}

/** One sender per declared channel. */
export function createCommandSenders(channels: Readonly<Record<string, SagaChannel>>, deps: ChannelDeps): ReadonlyMap<string, CommandSender> {
  const senders = new Map<string, CommandSender>();
  for (const [name, channel] of Object.entries(channels)) {
    if (channel.kind === 'http') senders.set(name, httpSender(name, channel, deps));
    else if (channel.commands !== undefined) senders.set(name, busSender(name, channel.commands, deps));
  }
  return senders;
}

/** Parses Mia's event message (`{ messageLabel, messagePayload }`), or explains what is wrong. */
export function parseMiaMessage(value: unknown): MiaMessage | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the message value is not an object';
  const { messageLabel, messagePayload } = value as Record<string, unknown>;
  if (typeof messageLabel !== 'string' || messageLabel === '') return 'messageLabel must be a non-empty string';
  return { messageLabel, messagePayload: messagePayload ?? {} };
}

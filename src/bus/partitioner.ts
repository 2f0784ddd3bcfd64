/**
 * Kafka's default partitioner for keyed messages: `toPositive(murmur2(utf8(key))) % partitions`, bit for bit
 * the same as the Java client (`Utils.murmur2`) and kafkajs' `DefaultPartitioner`, so a key lands on the same
 * partition whichever adapter wrote it.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's 32-bit murmur2 of `data` (a signed 32-bit integer, as in Java). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const full = length & ~3;
  for (let i = 0; i < full; i += 4) {
    let k = (data[i]! & 0xff) | ((data[i + 1]! & 0xff) << 8) | ((data[i + 2]! & 0xff) << 16) | ((data[i + 3]! & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= (data[full + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[full + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[full]! & 0xff;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of `key` among `partitions` (Kafka's `toPositive(murmur2(key)) % partitions`). */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

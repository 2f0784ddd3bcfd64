import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { StranglerRouteDefinition } from '../../config/sections/gateway.js';
import { readCookie, type Identity } from '../auth/index.js';

export type Side = 'new' | 'legacy';

/** Header that forces a side, for testing a route before shifting traffic (gateway.md §6). */
export const FORCE_HEADER = 'x-mia-route';

/** 32-bit FNV-1a: a stable, well-spread hash, so one key always lands in the same bucket. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface SideChoice {
  readonly side: Side;
  /** A cookie to set so an anonymous caller stays on its side (`stickyBy: cookie`). */
  readonly setCookie?: string;
}

/**
 * Picks the side of a `split` route: forced by `x-mia-route: new|legacy`, else by a hash of the sticky key
 * (user id, client key or a cookie) against the weight, so one caller always gets the same side while the
 * weight holds. A caller without the key gets a random side (and, with `stickyBy: cookie`, a cookie that
 * keeps it there).
 */
export function chooseSide(route: StranglerRouteDefinition, weight: number, request: FastifyRequest, identity: Identity | undefined, random = Math.random): SideChoice {
  const forced = single(request.headers[FORCE_HEADER]);
  if (forced === 'new' || forced === 'legacy') return { side: forced };
  let key: string | undefined;
  let setCookie: string | undefined;
  const stickyBy = route.stickyBy ?? 'user';
  if (stickyBy === 'user') key = identity?.userId;
  else if (stickyBy === 'client') key = single(request.headers['client-key']) ?? single(request.headers.secret) ?? readCookie(single(request.headers.cookie), 'mia_client_key');
  else {
    const name = route.cookie ?? 'mia_route';
    key = readCookie(single(request.headers.cookie), name);
    if (key === undefined) {
      key = randomUUID();
      setCookie = `${name}=${key}; Path=/; HttpOnly; SameSite=Lax`;
    }
  }
  const bucket = key === undefined ? random() * 10_000 : fnv1a(`${route.path}\u0000${key}`) % 10_000;
  const side: Side = bucket < weight * 100 ? 'new' : 'legacy';
  return setCookie === undefined ? { side } : { side, setCookie };
}

/**
 * Geospatial predicates of the embedded store on GeoJSON points (and legacy `[lon, lat]` pairs):
 * `$nearSphere` / `$near` (distance in meters for GeoJSON, radians for legacy pairs; nearest first) and
 * `$geoWithin` (`$geometry` Polygon/MultiPolygon, `$centerSphere`, `$box`, `$polygon`, `$center`).
 * Distances use the haversine formula on a sphere of MongoDB's earth radius; polygon containment treats
 * edges as straight lines in longitude/latitude (exact for `$box`, close for small polygons).
 */
import { MiaRunError } from '../../errors.js';
import { isPlainObject } from './key-encoding.js';

export type LonLat = readonly [number, number];

/** Earth radius in meters, as MongoDB uses for radian conversions. */
export const EARTH_RADIUS_M = 6378100;

function invalid(message: string): MiaRunError {
  return new MiaRunError('MR_STORE_INVALID_QUERY', message);
}

/** The point a stored value denotes: a GeoJSON Point, a `[lon, lat]` pair, or `{ lng|lon, lat }`. */
export function pointOf(value: unknown): LonLat | undefined {
  if (isPlainObject(value) && value.type === 'Point' && Array.isArray(value.coordinates)) return pair(value.coordinates);
  if (Array.isArray(value)) return pair(value);
  if (isPlainObject(value)) {
    const vals = Object.values(value);
    if (vals.length === 2) return pair(vals);
  }
  return undefined;
}

function pair(coords: readonly unknown[]): LonLat | undefined {
  const [lon, lat] = coords;
  return typeof lon === 'number' && typeof lat === 'number' && coords.length >= 2 ? [lon, lat] : undefined;
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in radians between two points. */
export function angularDistance(a: LonLat, b: LonLat): number {
  const dLat = rad(b[1] - a[1]);
  const dLon = rad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface NearQuery {
  readonly field: string;
  readonly center: LonLat;
  /** Distances in meters (GeoJSON form) or radians (legacy form), per `unit`. */
  readonly min: number;
  readonly max: number;
  readonly unit: 'meters' | 'radians';
}

/** Parses `{ $nearSphere: ..., $maxDistance?, $minDistance? }` (the operator object of one field). */
export function parseNear(field: string, cond: Record<string, unknown>): NearQuery {
  const op = '$nearSphere' in cond ? cond.$nearSphere : cond.$near;
  let center: LonLat | undefined;
  let unit: NearQuery['unit'] = 'radians';
  let min = typeof cond.$minDistance === 'number' ? cond.$minDistance : 0;
  let max = typeof cond.$maxDistance === 'number' ? cond.$maxDistance : Infinity;
  if (isPlainObject(op) && '$geometry' in op) {
    center = pointOf(op.$geometry);
    unit = 'meters';
    if (typeof op.$minDistance === 'number') min = op.$minDistance;
    if (typeof op.$maxDistance === 'number') max = op.$maxDistance;
  } else center = pointOf(op);
  if (center === undefined) throw invalid(`$nearSphere on "${field}" needs a GeoJSON point or a [lon, lat] pair`);
  return { field, center, min, max, unit };
}

/** Distance from the query center to `value` in the query's unit, or undefined when `value` is no point. */
export function nearDistance(query: NearQuery, value: unknown): number | undefined {
  const p = pointOf(value);
  if (p === undefined) return undefined;
  const d = angularDistance(query.center, p);
  return query.unit === 'meters' ? d * EARTH_RADIUS_M : d;
}

function inRing(p: LonLat, ring: readonly LonLat[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(p: LonLat, rings: readonly (readonly LonLat[])[]): boolean {
  const [outer, ...holes] = rings;
  return outer !== undefined && inRing(p, outer) && !holes.some((h) => inRing(p, h));
}

function ringsOf(coords: unknown): LonLat[][] {
  if (!Array.isArray(coords)) throw invalid('$geoWithin polygon coordinates must be arrays');
  return coords.map((ring: unknown) => {
    if (!Array.isArray(ring)) throw invalid('$geoWithin polygon ring must be an array of points');
    return ring.map((pt: unknown) => pointOf(pt) ?? (() => { throw invalid('$geoWithin polygon point must be [lon, lat]'); })());
  });
}

/** Compiles a `$geoWithin` shape into a point predicate. */
export function compileWithin(field: string, shape: unknown): (value: unknown) => boolean {
  if (!isPlainObject(shape)) throw invalid(`$geoWithin on "${field}" needs a shape`);
  let test: (p: LonLat) => boolean;
  if (isPlainObject(shape.$geometry)) {
    const g = shape.$geometry;
    if (g.type === 'Polygon') {
      const rings = ringsOf(g.coordinates);
      test = (p) => inPolygon(p, rings);
    } else if (g.type === 'MultiPolygon' && Array.isArray(g.coordinates)) {
      const polygons = g.coordinates.map(ringsOf);
      test = (p) => polygons.some((rings) => inPolygon(p, rings));
    } else throw invalid(`$geoWithin $geometry must be a Polygon or MultiPolygon`);
  } else if (Array.isArray(shape.$centerSphere)) {
    const [c, r] = shape.$centerSphere as [unknown, unknown];
    const center = pointOf(c);
    if (center === undefined || typeof r !== 'number') throw invalid('$centerSphere needs [[lon, lat], radians]');
    test = (p) => angularDistance(center, p) <= r;
  } else if (Array.isArray(shape.$box)) {
    const [a, b] = (shape.$box as unknown[]).map(pointOf);
    if (a === undefined || b === undefined) throw invalid('$box needs two [lon, lat] corners');
    test = (p) => p[0] >= Math.min(a[0], b[0]) && p[0] <= Math.max(a[0], b[0]) && p[1] >= Math.min(a[1], b[1]) && p[1] <= Math.max(a[1], b[1]);
  } else if (Array.isArray(shape.$polygon)) {
    const ring = ringsOf([shape.$polygon]);
    test = (p) => inPolygon(p, ring);
  } else if (Array.isArray(shape.$center)) {
    const [c, r] = shape.$center as [unknown, unknown];
    const center = pointOf(c);
    if (center === undefined || typeof r !== 'number') throw invalid('$center needs [[x, y], radius]');
    test = (p) => Math.hypot(p[0] - center[0], p[1] - center[1]) <= r;
  } else throw invalid(`$geoWithin on "${field}": unknown shape ${Object.keys(shape).join(', ')}`);
  return (value) => {
    const p = pointOf(value);
    return p !== undefined && test(p);
  };
}

/**
 * CPU time (user + system) another process has used so far, in microseconds, read from `/proc/<pid>/stat`
 * (Linux; NaN elsewhere). Benchmarks divide its growth by the requests served: on a shared machine that
 * figure moves much less than requests/s do.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'; utime and stime are
    // fields 14 and 15 of the line, so 12th and 13th after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * The daemon's structured logger: pino, JSON lines on stderr, one child per subsystem
 * (`log.child({ sub: 'iscsi' })`). Not for the data path: nothing logs per command at info level.
 *
 * CHAP secrets never reach the output, by three independent guards:
 *  1. pino's redaction of the paths where secrets live in our own shapes (`auth.chap.secret`, ...);
 *  2. a scrub of any key named like a secret at any depth of a logged object;
 *  3. a last pass over the serialized line that replaces every secret registered with the logger
 *     (the daemon registers the topology's CHAP secrets at load), which also catches a secret that
 *     slipped into a message string.
 */

import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { AuthConfig, Topology } from '../engine/topology';

export type Logger = PinoLogger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACTED = '[REDACTED]';

/** Where secrets sit in the shapes we log (topology, auth blocks, login state). */
export const REDACT_PATHS: readonly string[] = [
  'secret', '*.secret', '*.*.secret', '*.*.*.secret',
  'chap.secret', 'mutualChap.secret', '*.chap.secret', '*.mutualChap.secret',
  'auth.*.secret', 'discoveryAuth.*.secret', '*.auth.*.secret', '*.discoveryAuth.*.secret',
  'targets[*].auth.*.secret', 'targets[*].discoveryAuth.*.secret', 'targets[*].groups[*].auth.*.secret',
  'topology.targets[*].auth.*.secret', 'topology.targets[*].discoveryAuth.*.secret',
  'topology.targets[*].groups[*].auth.*.secret',
  'password', '*.password', 'CHAP_R', '*.CHAP_R',
];

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['secret', 'password', 'chapSecret', 'mutualSecret']);
const SCRUB_DEPTH = 10;

/** Secrets known to the process; every output line is scrubbed of them. */
export class SecretRegistry {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  add(...secrets: string[]): void {
    for (const s of secrets) {
      if (s.length === 0) continue;
      this.secrets.add(s);
      // The line is JSON: a secret with quotes or backslashes appears escaped.
      this.secrets.add(JSON.stringify(s).slice(1, -1));
    }
    this.pattern = undefined;
  }

  clear(): void {
    this.secrets.clear();
    this.pattern = undefined;
  }

  get size(): number {
    return this.secrets.size;
  }

  scrub(line: string): string {
    if (this.secrets.size === 0) return line;
    if (this.pattern === undefined) {
      // Longest first, so a secret containing another is replaced whole.
      const alts = [...this.secrets].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(alts.join('|'), 'g');
    }
    return line.replace(this.pattern, REDACTED);
  }
}

/** Every CHAP secret in a topology, for registering with the logger. */
export function topologySecrets(topology: Topology): string[] {
  const out: string[] = [];
  const take = (a: AuthConfig | undefined): void => {
    if (a?.chap !== undefined) out.push(a.chap.secret);
    if (a?.mutualChap !== undefined) out.push(a.mutualChap.secret);
  };
  for (const t of topology.targets) {
    take(t.auth);
    take(t.discoveryAuth);
    for (const g of t.groups) take(g.auth);
  }
  return out;
}

function scrubKeys(v: unknown, depth: number): unknown {
  if (depth > SCRUB_DEPTH || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = scrubKeys(x, depth + 1);
      if (y !== x) { copy ??= [...v]; copy[i] = y; }
    });
    return copy ?? v;
  }
  if (v instanceof Error || Buffer.isBuffer(v)) return v;
  let copy: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const y = SECRET_KEYS.has(k) && x !== undefined ? REDACTED : scrubKeys(x, depth + 1);
    if (y !== x) { copy ??= { ...(v as Record<string, unknown>) }; copy[k] = y; }
  }
  return copy ?? v;
}

export function isLogLevel(s: string | undefined): s is LogLevel {
  return s !== undefined && (LOG_LEVELS as readonly string[]).includes(s);
}

/** CLI flag, then NEXUS_LOG_LEVEL, then info. An unknown level falls back rather than crashing. */
export function resolveLogLevel(flag?: string, env: NodeJS.ProcessEnv = process.env): LogLevel {
  if (isLogLevel(flag)) return flag;
  const fromEnv = env.NEXUS_LOG_LEVEL?.toLowerCase();
  if (isLogLevel(fromEnv)) return fromEnv;
  return 'info';
}

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; stderr (synchronously, so nothing is lost at exit) when absent. */
  destination?: DestinationStream;
  /** Secrets to scrub from every line; the process-wide `logSecrets` when absent. */
  secrets?: SecretRegistry;
  name?: string;
}

/**
 * `err` as pino writes it, except that an operating-system error (one with a `syscall`: a port in
 * use, a file that cannot be opened) loses its stack: it says where Node noticed, not what is
 * wrong, and the errno, syscall, address and path do say that. Errors of our own keep it.
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof out === 'object' && out !== null && typeof (err as { syscall?: unknown }).syscall === 'string') {
    const { stack: _stack, ...rest } = out;
    return rest;
  }
  return out;
}

/** The process-wide registry used by the default logger. */
export const logSecrets = new SecretRegistry();

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets ?? logSecrets;
  const destination = opts.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      name: opts.name ?? 'nexus',
      level: resolveLogLevel(opts.level),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      serializers: { err: serializeError },
      formatters: {
        log: (obj) => scrubKeys(obj, 0) as Record<string, unknown>,
        bindings: (b) => scrubKeys(b, 0) as Record<string, unknown>,
      },
      hooks: { streamWrite: (line) => secrets.scrub(line) },
    },
    destination,
  );
}

/** The process's logger: stderr, level from NEXUS_LOG_LEVEL. */
export const log: Logger = createLogger();

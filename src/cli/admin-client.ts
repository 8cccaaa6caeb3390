// What every admin command shares (admin.ts, admin-change.ts): the exit codes, the control
// socket's path and the connection that maps failures to them.

import * as path from 'node:path';
import type { EventEmitter } from 'node:events';
import { ControlCallError, ControlClient } from '../daemon/control/client';
import { DEFAULT_STATE_DIR } from '../daemon/config/defaults';

export const EXIT_OK = 0;
export const EXIT_DAEMON_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_NO_DAEMON = 3;

export interface AdminIo { stdout(text: string): void; stderr(text: string): void }

export interface AdminDeps {
  readonly io: AdminIo;
  /**
   * Asks a yes/no question on the terminal (`nexus config apply` before it changes anything);
   * undefined when standard input is not a terminal.
   */
  readonly confirm?: (question: string) => Promise<boolean>;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Standard output is a terminal: `stats --watch` redraws one screen in place, long changes
   * show their progress on one line that updates (plain lines otherwise).
   */
  readonly tty?: boolean;
  /** SIGINT source that ends `stats --watch`. */
  readonly signals: EventEmitter;
}

export interface ControlOption { control?: string }

function socketPathOf(o: ControlOption, deps: AdminDeps): string {
  const given = o.control ?? deps.env.NEXUS_CONTROL;
  return given !== undefined && given !== '' ? path.resolve(deps.cwd, given) : path.resolve(deps.cwd, DEFAULT_STATE_DIR, 'control.sock');
}

/** Connects, runs `body`, closes; maps failures to the documented exit codes. */
export async function withDaemon(o: ControlOption, deps: AdminDeps, body: (c: ControlClient) => Promise<number>): Promise<number> {
  const socketPath = socketPathOf(o, deps);
  let c: ControlClient;
  try {
    c = await ControlClient.connect(socketPath);
  } catch (e) {
    deps.io.stderr(`nexus: ${(e as Error).message} (is the daemon running? --control PATH names its socket)\n`);
    return EXIT_NO_DAEMON;
  }
  try {
    return await body(c);
  } catch (e) {
    if (e instanceof ControlCallError) {
      const where = e.data?.path ? ` at ${e.data.path}` : '';
      const detail = e.data?.errors.map(p => `  ${p.path || '(request)'}: ${p.message}`).join('\n') ?? '';
      deps.io.stderr(`nexus: ${e.message}${where} (code ${e.code})\n${detail === '' ? '' : detail + '\n'}`);
      return EXIT_DAEMON_ERROR;
    }
    deps.io.stderr(`nexus: ${(e as Error).message}\n`);
    return EXIT_NO_DAEMON;
  } finally {
    c.close();
  }
}

// A client of the control socket (the `nexus` admin commands, tests): connects to the Unix
// socket, sends one JSON-RPC 2.0 request per line and matches answers to requests by id.

import * as net from 'node:net';
import { NexusError } from '../../engine/result';
import type { ControlErrorData } from './protocol';

/** An error answer from the daemon: code, message and the JSON path of what was wrong. */
export class ControlCallError extends Error {
  constructor(readonly code: number, message: string, readonly data: ControlErrorData | undefined) {
    super(message);
    this.name = 'ControlCallError';
  }
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void; notified?: (method: string, params: { [k: string]: unknown }) => void }

export class ControlClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  private closedError: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.received(text));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new NexusError('ERR_CONTROL_CLOSED', 'the daemon closed the control connection')));
  }

  /** Connects; ENOENT/ECONNREFUSED/EACCES come back as NexusError ERR_CONTROL_CONNECT naming the path. */
  static connect(socketPath: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath);
      s.once('connect', () => { s.removeAllListeners('error'); resolve(new ControlClient(s)); });
      s.once('error', (e: NodeJS.ErrnoException) => {
        reject(new NexusError('ERR_CONTROL_CONNECT', `cannot connect to ${socketPath}: ${e.code ?? e.message}`));
      });
    });
  }

  /**
   * Calls `method`; resolves with its result, rejects with ControlCallError for an error answer.
   * `notified` gets the daemon's notifications about this request (`progress`) until the answer.
   */
  call(method: string, params?: object, notified?: Pending['notified']): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const req = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, notified });
      this.socket.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void { this.socket.end(); this.socket.destroy(); }

  private received(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim() !== '') this.answer(line);
    }
  }

  private answer(line: string): void {
    let r: {
      id?: unknown; result?: unknown; error?: { code: number; message: string; data?: ControlErrorData };
      method?: unknown; params?: { [k: string]: unknown };
    };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      this.fail(new NexusError('ERR_CONTROL_PROTOCOL', 'the daemon sent a line that is not JSON'));
      return;
    }
    if (typeof r.method === 'string') {
      // A notification about one of our requests (its id in params).
      const about = typeof r.params?.id === 'number' ? this.pending.get(r.params.id) : undefined;
      about?.notified?.(r.method, r.params ?? {});
      return;
    }
    const id = typeof r.id === 'number' ? r.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (r.error && !p) {
      // An answer to no request of ours (id null): the daemon refused the connection's input.
      this.fail(new ControlCallError(r.error.code, r.error.message, r.error.data));
      return;
    }
    if (!p || id === undefined) return;
    this.pending.delete(id);
    if (r.error) p.reject(new ControlCallError(r.error.code, r.error.message, r.error.data));
    else p.resolve(r.result);
  }

  private fail(e: Error): void {
    this.closedError ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** Connects, calls one method, closes. */
export async function callOnce(socketPath: string, method: string, params?: object): Promise<unknown> {
  const c = await ControlClient.connect(socketPath);
  try {
    return await c.call(method, params);
  } finally {
    c.close();
  }
}

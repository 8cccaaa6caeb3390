// The control socket (DESIGN.md §8a, docs/control.md): a Unix domain socket, mode 0600 so only
// the daemon's user (and root) can connect, speaking JSON-RPC 2.0 with one JSON text per line.
// No TCP listener. Requests are answered in the order their answers are ready; each
// connection's buffered input is bounded (MAX_REQUEST_BYTES), and so is its unsent output.
//
// The server runs on the supervisor's thread, never on the data path: a method that needs an
// engine thread asks it over the control plane (src/workers/messages.ts).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  JSONRPCServer, JSONRPCErrorException, createJSONRPCErrorResponse, isJSONRPCRequest,
  type JSONRPCRequest, type JSONRPCResponse,
} from 'json-rpc-2.0';
import { NexusError } from '../../engine/result';
import type { Logger } from '../log';
import { peerCredentials, isNativeError } from '../../native';
import { socketFd } from '../../workers/socket-handoff';
import { callerFields, changesSomething, type ControlCaller, type ControlMethod } from './methods';
import { ControlErrorCode, MAX_PENDING_OUTPUT_BYTES, MAX_REQUEST_BYTES, errorData } from './protocol';

export interface ControlServerOptions {
  readonly socketPath: string;
  readonly methods: readonly ControlMethod[];
  readonly log: Logger;
  /** Longest request line (default MAX_REQUEST_BYTES). */
  readonly maxRequestBytes?: number;
}

/** Is something answering on `socketPath`? (A socket file left by a daemon that died does not.) */
function probe(socketPath: string): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(socketPath);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private readonly rpc: JSONRPCServer<ControlCaller>;
  private readonly sockets = new Set<net.Socket>();
  private closing = false;
  readonly counters = { connections: 0, requests: 0, errors: 0, oversized: 0 };

  private constructor(private readonly server: net.Server, private readonly opts: ControlServerOptions) {
    // An exception that is not a JSONRPCErrorException is a bug in a method (STYLE.md): logged,
    // and the client gets INTERNAL_ERROR with its message.
    this.rpc = new JSONRPCServer<ControlCaller>({
      errorListener: (message, err) => { if (!(err instanceof JSONRPCErrorException)) opts.log.error({ err }, message); },
    });
    this.rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      if (error instanceof JSONRPCErrorException) return createJSONRPCErrorResponse(id, error.code, error.message, error.data);
      const message = error instanceof Error ? error.message : String(error);
      return createJSONRPCErrorResponse(id, ControlErrorCode.INTERNAL_ERROR, `internal error: ${message}`,
        errorData([{ path: '', message }]));
    };
    for (const m of opts.methods) this.rpc.addMethod(m.name, (params: unknown, caller: ControlCaller) => m.invoke(params, caller));
  }

  get socketPath(): string { return this.opts.socketPath; }

  /**
   * Listens on `socketPath` (its directory is created if missing). A live daemon already there is
   * an error; a stale socket file is replaced.
   */
  static async start(opts: ControlServerOptions): Promise<ControlServer> {
    const p = opts.socketPath;
    // sockaddr_un.sun_path holds 108 bytes with the terminating NUL (unix(7)).
    if (Buffer.byteLength(p) > 107) {
      throw new NexusError('ERR_CONTROL_SOCKET', `control socket ${p}: longer than the 107 bytes a Unix socket path may have; give a shorter one with --control or control.socket`);
    }
    const dir = path.dirname(p);
    if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fs.existsSync(p)) {
      if (!fs.lstatSync(p).isSocket()) throw new NexusError('ERR_CONTROL_SOCKET', `control socket ${p}: a file that is not a socket is in the way`);
      if (await probe(p)) throw new NexusError('ERR_CONTROL_SOCKET', `control socket ${p}: another daemon answers there`);
      fs.unlinkSync(p);
    }
    const server = net.createServer();
    const cs = new ControlServer(server, opts);
    server.on('connection', s => cs.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new NexusError('ERR_CONTROL_SOCKET', `control socket ${p}: ${e.code ?? e.message}`)));
      // The socket is created by bind(2) inside listen(), synchronously: with umask 077 it never
      // exists with wider permissions, not even for an instant; chmod makes it explicit.
      const umask = process.umask(0o177);
      try {
        server.listen(p, () => resolve());
      } finally {
        process.umask(umask);
      }
    });
    fs.chmodSync(p, 0o600);
    server.on('error', (e) => opts.log.error({ err: e }, 'control socket error'));
    return cs;
  }

  /** Stops listening, drops the connections, removes the socket file. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    try { fs.unlinkSync(this.opts.socketPath); } catch { /* already gone */ }
  }

  private accept(socket: net.Socket): void {
    if (this.closing) { socket.destroy(); return; }
    this.counters.connections++;
    this.sockets.add(socket);
    const caller = callerOf(socket);
    const max = this.opts.maxRequestBytes ?? MAX_REQUEST_BYTES;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const send = (r: JSONRPCResponse | JSONRPCResponse[] | null): void => {
      if (r === null || socket.destroyed || !socket.writable) return;
      socket.write(JSON.stringify(r) + '\n');
      // A client that writes requests and never reads its answers is dropped, not buffered for.
      if (socket.writableLength > MAX_PENDING_OUTPUT_BYTES) socket.destroy();
    };
    // A request's notifications (progress) go out on its connection, tagged with its id.
    const notifier = (id: string | number) => (method: string, params: { readonly [k: string]: unknown }): void => {
      if (socket.destroyed || !socket.writable) return;
      socket.write(JSON.stringify({ jsonrpc: '2.0', method, params: { ...params, id } }) + '\n');
      if (socket.writableLength > MAX_PENDING_OUTPUT_BYTES) socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        const tail = chunk.subarray(start, nl);
        const line = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        if (line.length > max) { this.refuseOversized(socket, max); return; }
        const text = line.toString('utf8').trim();
        if (text !== '') void this.handle(text, caller, notifier).then(send, (e: unknown) => this.opts.log.error({ err: e }, 'control request failed'));
      }
      if (start < chunk.length) {
        pendingBytes += chunk.length - start;
        if (pendingBytes > max) { this.refuseOversized(socket, max); return; }
        // Copied: the chunk's buffer may be reused by the stream.
        pending.push(Buffer.from(chunk.subarray(start)));
      }
    });
    // A client that goes away mid-request: what it sent so far is dropped, answers are not written.
    socket.on('error', () => undefined);
    socket.on('close', () => { this.sockets.delete(socket); pending = []; });
  }

  private refuseOversized(socket: net.Socket, max: number): void {
    this.counters.oversized++;
    const r = createJSONRPCErrorResponse(null, ControlErrorCode.REQUEST_TOO_LARGE,
      `request larger than ${max} bytes; the connection is closed`, errorData([{ path: '', message: `at most ${max} bytes per line` }]));
    socket.end(JSON.stringify(r) + '\n');
    socket.removeAllListeners('data');
    // Whatever else arrives is not read; the peer gets the error, then the end of the stream.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** One request line (a single request or a batch, JSON-RPC 2.0 6) to its answer. */
  async handle(
    text: string, caller: ControlCaller, notifier?: (id: string | number) => NonNullable<ControlCaller['notify']>,
  ): Promise<JSONRPCResponse | JSONRPCResponse[] | null> {
    this.counters.requests++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.counters.errors++;
      return createJSONRPCErrorResponse(null, ControlErrorCode.PARSE_ERROR, `parse error: ${(e as Error).message}`,
        errorData([{ path: '', message: 'not a JSON text' }]));
    }
    if (Array.isArray(value)) {
      if (value.length === 0) return this.invalid(null, '', 'an empty batch');
      const answers = await Promise.all(value.map((v, i) => this.one(v, `/${i}`, caller, notifier)));
      const out = answers.filter((a): a is JSONRPCResponse => a !== null);
      return out.length === 0 ? null : out;
    }
    return this.one(value, '', caller, notifier);
  }

  private invalid(id: JSONRPCRequest['id'] | null, at: string, what: string): JSONRPCResponse {
    this.counters.errors++;
    return createJSONRPCErrorResponse(id ?? null, ControlErrorCode.INVALID_REQUEST, `invalid request: ${what}`,
      errorData([{ path: at, message: what }]));
  }

  private async one(
    v: unknown, at: string, caller: ControlCaller, notifier?: (id: string | number) => NonNullable<ControlCaller['notify']>,
  ): Promise<JSONRPCResponse | null> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.invalid(null, at, 'a request must be an object');
    const req = v as Partial<JSONRPCRequest> & { [k: string]: unknown };
    const id = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null;
    if (req.jsonrpc !== '2.0') return this.invalid(id, `${at}/jsonrpc`, '"jsonrpc" must be "2.0"');
    if (typeof req.method !== 'string') return this.invalid(id, `${at}/method`, '"method" must be a string');
    if (!isJSONRPCRequest(v)) return this.invalid(id, `${at}/id`, '"id" must be a string, a number or null');
    if (this.closing) {
      return createJSONRPCErrorResponse(id, ControlErrorCode.SHUTTING_DOWN, 'the daemon is stopping', errorData([{ path: '', message: 'stopping' }]));
    }
    if (!this.rpc.hasMethod(v.method)) {
      this.counters.errors++;
      if (v.id === undefined) return null;
      return createJSONRPCErrorResponse(id, ControlErrorCode.METHOD_NOT_FOUND, `unknown method "${v.method}"`,
        errorData([{ path: `${at}/method`, message: `no method "${v.method}" (see docs/control.md)` }]));
    }
    const r = await this.rpc.receive(v, v.id !== undefined && v.id !== null && notifier ? { ...caller, notify: notifier(v.id) } : caller);
    const failed = r !== null && 'error' in r && r.error ? r.error : undefined;
    if (failed) this.counters.errors++;
    // Issue 10: every change is logged at info with who asked, what and the result. Parameters are
    // not logged (they may hold CHAP secrets); a configuration change logs its steps too.
    if (changesSomething(v.method)) {
      this.opts.log.info({ ...callerFields(caller), method: v.method, result: failed ? failed.code : 'ok' },
        `control: ${v.method} ${failed ? `failed (${failed.code}: ${failed.message})` : 'done'}`);
    }
    return r;
  }
}

/** The peer of an accepted control connection (unix(7) SO_PEERCRED); unknown without the addon. */
function callerOf(socket: net.Socket): ControlCaller {
  let fd: number;
  try {
    fd = socketFd(socket);
  } catch {
    return {};
  }
  const c = peerCredentials(fd);
  return isNativeError(c) ? {} : { pid: c.pid, uid: c.uid, gid: c.gid };
}

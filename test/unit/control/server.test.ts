import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../src/daemon/log';
import { ControlServer } from '../../../src/daemon/control/server';
import { NO_PARAMS, defineMethod } from '../../../src/daemon/control/methods';
import { ControlCallError, ControlClient, callOnce } from '../../../src/daemon/control/client';
import { ControlErrorCode } from '../../../src/daemon/control/protocol';

const log = createLogger({ level: 'silent' });

const methods = [
  defineMethod<Record<string, never>>('test.ping', 'answers pong', NO_PARAMS, () => 'pong'),
  defineMethod<Record<string, never>>('test.list', 'reads: an empty list', NO_PARAMS, () => []),
  defineMethod<{ n: number; label?: string }>('test.double', 'twice n', {
    type: 'object', additionalProperties: false, required: ['n'],
    properties: { n: { type: 'integer' }, label: { type: 'string' } },
  }, p => p.n * 2),
  defineMethod<{ ms: number }>('test.slow', 'answers after ms', {
    type: 'object', additionalProperties: false, required: ['ms'], properties: { ms: { type: 'integer' } },
  }, p => new Promise(r => setTimeout(() => r('late'), p.ms))),
  defineMethod<Record<string, never>>('test.bug', 'throws', NO_PARAMS, () => { throw new Error('broken'); }),
  defineMethod<Record<string, never>>('test.steps', 'three progress notifications, then the answer', NO_PARAMS, (_p, caller) => {
    for (let done = 1; done <= 3; done++) caller.notify?.('progress', { done, steps: 3, description: `step ${done}` });
    return caller.notify === undefined ? 'no notify' : 'done';
  }),
];

/** Sends raw text, collects answer lines until `lines` arrived or the peer closed. */
function raw(socketPath: string, text: string | Buffer, lines: number): Promise<{ answers: unknown[]; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let buf = '';
    const answers: unknown[] = [];
    let closed = false;
    const done = (): void => { s.destroy(); resolve({ answers, closed }); };
    s.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { answers.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
      if (answers.length >= lines) done();
    });
    s.on('error', () => undefined);
    s.on('close', () => { closed = true; resolve({ answers, closed }); });
    s.write(text);
  });
}

describe('control socket server (JSON-RPC 2.0, newline-delimited)', () => {
  let dir: string;
  let sock: string;
  let server: ControlServer;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-ctl-'));
    sock = path.join(dir, 'state', 'control.sock');
    server = await ControlServer.start({ socketPath: sock, methods, log, maxRequestBytes: 4096 });
  });
  afterEach(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0600 and removes it on close', async () => {
    const st = fs.statSync(sock);
    expect(st.isSocket()).to.equal(true);
    expect(st.mode & 0o777).to.equal(0o600);
    expect(st.uid).to.equal(process.getuid!());
    await server.close();
    expect(fs.existsSync(sock)).to.equal(false);
  });

  it('answers calls and checks params against the method schema with JSON paths', async () => {
    const c = await ControlClient.connect(sock);
    try {
      expect(await c.call('test.ping')).to.equal('pong');
      expect(await c.call('test.double', { n: 21 })).to.equal(42);
      const err = await c.call('test.double', { n: 'x', extra: 1 }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ControlCallError);
      const e = err as ControlCallError;
      expect(e.code).to.equal(ControlErrorCode.INVALID_PARAMS);
      expect(e.data?.errors.map(p => p.path).sort()).to.deep.equal(['/params/extra', '/params/n']);
      const missing = await c.call('test.double', {}).then(() => undefined, (x: ControlCallError) => x);
      expect(missing?.data?.path).to.equal('/params/n');
      expect(missing?.message).to.equal('invalid params');
      const positional = await c.call('test.double', [1]).then(() => undefined, (x: ControlCallError) => x);
      expect(positional?.code).to.equal(ControlErrorCode.INVALID_PARAMS);
    } finally {
      c.close();
    }
  });

  it('answers malformed JSON, invalid requests and unknown methods with errors, and keeps serving', async () => {
    const { answers } = await raw(sock, '{"jsonrpc":"2.0",\n{"id":1,"method":"test.ping"}\n'
      + '{"jsonrpc":"2.0","id":2,"method":"no.such"}\n{"jsonrpc":"2.0","id":3,"method":7}\n[]\n', 5);
    const codes = (answers as { error: { code: number; data: { path: string } } }[]).map(a => [a.error.code, a.error.data.path]);
    expect(codes).to.deep.include.members([
      [ControlErrorCode.PARSE_ERROR, ''],
      [ControlErrorCode.INVALID_REQUEST, '/jsonrpc'],
      [ControlErrorCode.METHOD_NOT_FOUND, '/method'],
      [ControlErrorCode.INVALID_REQUEST, '/method'],
      [ControlErrorCode.INVALID_REQUEST, ''],
    ]);
    expect(await callOnce(sock, 'test.ping')).to.equal('pong');
  });

  it('answers a batch, and nothing for a notification', async () => {
    const { answers } = await raw(sock, JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'test.double', params: { n: 1 } },
      { jsonrpc: '2.0', method: 'test.ping' },
      { jsonrpc: '2.0', id: 2, method: 'test.double', params: { n: 2 } },
    ]) + '\n', 1);
    expect(answers[0]).to.deep.equal([{ jsonrpc: '2.0', id: 1, result: 2 }, { jsonrpc: '2.0', id: 2, result: 4 }]);
  });

  it('a method that throws gives INTERNAL_ERROR with its message', async () => {
    const e = await callOnce(sock, 'test.bug').then(() => undefined, (x: ControlCallError) => x);
    expect(e?.code).to.equal(ControlErrorCode.INTERNAL_ERROR);
    expect(e?.message).to.contain('broken');
  });

  it('refuses a request line longer than the bound and closes the connection', async () => {
    const { answers, closed } = await raw(sock, Buffer.alloc(10000, 0x20), 1);
    expect((answers[0] as { error: { code: number } }).error.code).to.equal(ControlErrorCode.REQUEST_TOO_LARGE);
    expect(closed || answers.length === 1).to.equal(true);
    // Also when the long line does end with a newline in the same chunk.
    const r2 = await raw(sock, `{"jsonrpc":"2.0","id":1,"method":"test.ping","params":{"x":"${'a'.repeat(5000)}"}}\n`, 1);
    expect((r2.answers[0] as { error: { code: number } }).error.code).to.equal(ControlErrorCode.REQUEST_TOO_LARGE);
    expect(server.counters.oversized).to.equal(2);
    expect(await callOnce(sock, 'test.ping')).to.equal('pong');
  });

  it('survives a client that disconnects mid-request or before its answer', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(sock, () => { s.write('{"jsonrpc":"2.0","id":1,"meth'); s.destroy(); resolve(); });
    });
    await new Promise<void>((resolve) => {
      const s = net.connect(sock, () => { s.write('{"jsonrpc":"2.0","id":1,"method":"test.slow","params":{"ms":50}}\n'); s.destroy(); resolve(); });
    });
    await new Promise(r => setTimeout(r, 100));
    expect(await callOnce(sock, 'test.ping')).to.equal('pong');
  });

  it('a method\'s notifications reach the client that asked, tagged with its request id, before the answer', async () => {
    const r = await raw(sock, '{"jsonrpc":"2.0","id":"a7","method":"test.steps"}\n', 4);
    expect(r.answers).to.deep.equal([
      { jsonrpc: '2.0', method: 'progress', params: { done: 1, steps: 3, description: 'step 1', id: 'a7' } },
      { jsonrpc: '2.0', method: 'progress', params: { done: 2, steps: 3, description: 'step 2', id: 'a7' } },
      { jsonrpc: '2.0', method: 'progress', params: { done: 3, steps: 3, description: 'step 3', id: 'a7' } },
      { jsonrpc: '2.0', id: 'a7', result: 'done' },
    ]);
    const c = await ControlClient.connect(sock);
    try {
      const seen: unknown[] = [];
      // Another request in flight on the same connection gets none of them.
      const [steps, other] = await Promise.all([
        c.call('test.steps', undefined, (method, params) => seen.push([method, params.done])),
        c.call('test.slow', { ms: 20 }, () => { throw new Error('not this request\'s'); }),
      ]);
      expect([steps, other]).to.deep.equal(['done', 'late']);
      expect(seen).to.deep.equal([['progress', 1], ['progress', 2], ['progress', 3]]);
    } finally {
      c.close();
    }
  });

  it('answers 1000 requests sent in a tight loop, in one write', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'test.double', params: { n: i } })).join('\n') + '\n';
    const { answers } = await raw(sock, lines, 1000);
    expect(answers).to.have.length(1000);
    const byId = new Map((answers as { id: number; result: number }[]).map(a => [a.id, a.result]));
    for (let i = 0; i < 1000; i++) expect(byId.get(i)).to.equal(2 * i);
  });

  it('replaces a stale socket file but refuses to start where a server answers', async () => {
    const again = await ControlServer.start({ socketPath: sock, methods, log }).then(() => 'started', (e: Error) => e.message);
    expect(again).to.contain('another daemon answers there');
    await server.close();
    // A socket file nobody listens on: what a daemon killed with SIGKILL leaves.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(fs.statSync(sock).isSocket()).to.equal(true);
    server = await ControlServer.start({ socketPath: sock, methods, log });
    expect(await callOnce(sock, 'test.ping')).to.equal('pong');
  });

  it('refuses a socket path longer than a Unix socket address holds', async () => {
    const long = path.join(dir, 'x'.repeat(120), 'control.sock');
    const e = await ControlServer.start({ socketPath: long, methods, log }).then(() => undefined, (x: Error) => x);
    expect(e?.message).to.contain('107 bytes');
  });

  it('logs who made a change (SO_PEERCRED: uid, gid, pid of the client process), what and the result', async function () {
    this.timeout(20000);
    const lines: string[] = [];
    const seen = createLogger({ level: 'info', destination: { write: (l: string) => { lines.push(l); return true; } } as never });
    const other = path.join(dir, 'who.sock');
    const s2 = await ControlServer.start({ socketPath: other, methods, log: seen });
    try {
      // The client is another process: its pid is in the log line, not this one's.
      const script = `const s=require('net').connect(${JSON.stringify(other)},()=>s.write(JSON.stringify({jsonrpc:'2.0',id:1,method:'test.double',params:{n:2}})+'\\n'+JSON.stringify({jsonrpc:'2.0',id:2,method:'test.double',params:{n:'x'}})+'\\n'));let b='';s.on('data',d=>{b+=d;if(b.split('\\n').length>2){console.log(process.pid);process.exit(0)}})`;
      // Not spawnSync: the server answers from this process's event loop.
      const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 }, (_e, stdout, stderr) => resolve({ stdout, stderr }));
      });
      const pid = Number(r.stdout.trim());
      expect(pid, r.stderr).to.be.greaterThan(0);
      const changes = lines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.method === 'test.double');
      expect(changes.map(l => ({ who: l.who, uid: l.uid, gid: l.gid, pid: l.pid, result: l.result, level: l.level }))).to.deep.equal([
        { who: 'control socket', uid: process.getuid!(), gid: process.getgid!(), pid, result: 'ok', level: 30 },
        { who: 'control socket', uid: process.getuid!(), gid: process.getgid!(), pid, result: ControlErrorCode.INVALID_PARAMS, level: 30 },
      ]);
      // Reads (*.get, *.list, daemon.info) are not changes: not logged.
      expect(await callOnce(other, 'test.list')).to.deep.equal([]);
      expect(lines.some(l => l.includes('"method":"test.list"'))).to.equal(false);
    } finally {
      await s2.close();
    }
  });

  it('another local user cannot connect (mode 0600)', function () {
    if (process.getuid?.() !== 0) this.skip(); // switching users needs root
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.dirname(sock), 0o755);
    const script = `require('net').connect(${JSON.stringify(sock)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 10000 });
    expect(r.stdout.trim(), r.stderr).to.equal('EACCES');
  });
});

import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger, REDACTED, resolveLogLevel, SecretRegistry, topologySecrets } from '../../../src/daemon/log';
import { normalizeTopology } from '../../../src/daemon/config/load';

/** A destination that keeps every line pino writes. */
function capture(): { stream: Writable; lines: () => string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) { chunks.push(chunk.toString()); cb(); },
  });
  const text = (): string => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter((l) => l !== '') };
}

const SECRET = 'at-least-12-chars';
const MUTUAL = 'another-12-chars';

describe('daemon/log', () => {
  it('writes JSON lines with level, subsystem and message', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.stream, secrets: new SecretRegistry() });
    log.child({ sub: 'iscsi' }).info({ conn: 7 }, 'login');
    log.debug('details');
    log.trace('not at debug');
    const [a, b, ...rest] = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rest).to.have.length(0);
    expect(a).to.include({ level: 30, sub: 'iscsi', conn: 7, msg: 'login', name: 'nexus' });
    expect(b).to.include({ level: 20, msg: 'details' });
  });

  it('never writes a CHAP secret, wherever it appears', () => {
    const out = capture();
    const secrets = new SecretRegistry();
    const log = createLogger({ level: 'trace', destination: out.stream, secrets });
    const r = normalizeTopology({
      devices: [{ name: 'd', handler: 'nullio', size: '1MiB' }],
      targets: [{
        driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t',
        auth: { chap: { user: 'alice', secret: SECRET }, mutualChap: { user: 'tgt', secret: MUTUAL } },
        luns: [{ lun: 0, device: 'd' }],
      }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    secrets.add(...topologySecrets(r.topology));
    expect(topologySecrets(r.topology)).to.deep.equal([SECRET, MUTUAL]);

    // Structured: the whole topology, an auth block, a child binding, a deep unrelated key.
    log.info({ topology: r.topology }, 'loaded');
    log.info({ auth: r.topology.targets[0].auth }, 'auth');
    log.child({ sub: 'iscsi', chap: { user: 'alice', secret: SECRET } }).warn('child');
    log.info({ a: { b: { c: { d: { e: { secret: 'deep-secret-value' } } } } } }, 'deep');
    // Unstructured: a secret interpolated into a message or an unrelated key.
    log.error(`login failed for alice with ${SECRET}`);
    log.info({ note: `mutual is ${MUTUAL}` }, 'oops');

    const text = out.text();
    expect(out.lines()).to.have.length(6);
    expect(text).to.not.contain(SECRET);
    expect(text).to.not.contain(MUTUAL);
    expect(text).to.not.contain('deep-secret-value');
    expect(text).to.contain(REDACTED);
    // The rest of the line survives.
    const first = JSON.parse(out.lines()[0]) as { topology: { targets: Array<{ auth: { chap: { user: string; secret: string } } }> } };
    expect(first.topology.targets[0].auth.chap).to.deep.equal({ user: 'alice', secret: REDACTED });
  });

  it('scrubs a registered secret even when JSON escapes it', () => {
    const out = capture();
    const secrets = new SecretRegistry();
    secrets.add('quote"and\\slash!');
    const log = createLogger({ destination: out.stream, secrets });
    log.info({ x: 'quote"and\\slash!' }, 'm');
    expect(out.text()).to.not.contain('quote\\"and\\\\slash!');
    expect(JSON.parse(out.lines()[0]).x).to.equal(REDACTED);
  });

  it('resolves the level from the flag, then NEXUS_LOG_LEVEL, then info', () => {
    expect(resolveLogLevel('debug', { NEXUS_LOG_LEVEL: 'warn' })).to.equal('debug');
    expect(resolveLogLevel(undefined, { NEXUS_LOG_LEVEL: 'warn' })).to.equal('warn');
    expect(resolveLogLevel(undefined, { NEXUS_LOG_LEVEL: 'TRACE' })).to.equal('trace');
    expect(resolveLogLevel(undefined, { NEXUS_LOG_LEVEL: 'loud' })).to.equal('info');
    expect(resolveLogLevel(undefined, {})).to.equal('info');
  });

  it('honours the level it was given', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', destination: out.stream, secrets: new SecretRegistry() });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => JSON.parse(l).msg)).to.deep.equal(['shown']);
  });
});

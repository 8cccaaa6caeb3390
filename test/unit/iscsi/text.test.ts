import { expect } from 'chai';
import { encodeText, parseText, splitText, TextAccumulator } from '../../../src/transports/iscsi/text';

const t = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('iSCSI text key=value (text.ts)', () => {
  it('RFC 7143 6.1: parses zero-terminated pairs in order', () => {
    const r = parseText(t('InitiatorName=iqn.1993-08.org.debian:01:abc\0SessionType=Normal\0AuthMethod=CHAP,None\0'));
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect([...r.pairs]).to.deep.equal([
      ['InitiatorName', 'iqn.1993-08.org.debian:01:abc'],
      ['SessionType', 'Normal'],
      ['AuthMethod', 'CHAP,None'],
    ]);
  });

  it('accepts an empty value and a value containing "="', () => {
    const r = parseText(t('X-a=\0X-b=c=d\0'));
    expect(r.ok && [...r.pairs]).to.deep.equal([['X-a', ''], ['X-b', 'c=d']]);
  });

  it('accepts a last pair without its zero byte and skips stray zero bytes', () => {
    const r = parseText(t('A=1\0\0B=2'));
    expect(r.ok && [...r.pairs]).to.deep.equal([['A', '1'], ['B', '2']]);
  });

  it('RFC 7143 6.1: key of 63 bytes is fine, 64 is not', () => {
    expect(parseText(t(`${'K'.repeat(63)}=1\0`)).ok).to.equal(true);
    expect(parseText(t(`${'K'.repeat(64)}=1\0`))).to.deep.equal({ ok: false, error: 'key-too-long' });
  });

  it('RFC 7143 6.1: value of 255 bytes is fine, 256 is not; per-key limits apply', () => {
    expect(parseText(t(`A=${'v'.repeat(255)}\0`)).ok).to.equal(true);
    expect(parseText(t(`A=${'v'.repeat(256)}\0`))).to.deep.equal({ ok: false, error: 'value-too-long', key: 'A' });
    const limits = { maxValueLength: (k: string) => (k === 'CHAP_C' ? 2050 : 255) };
    expect(parseText(t(`CHAP_C=0x${'ab'.repeat(1024)}\0`), limits).ok).to.equal(true);
  });

  it('RFC 7143 6.2: a duplicate key is an error', () => {
    expect(parseText(t('A=1\0B=2\0A=3\0'))).to.deep.equal({ ok: false, error: 'duplicate-key', key: 'A' });
  });

  it('rejects a pair without "=", an empty key and bad key characters', () => {
    expect(parseText(t('A\0'))).to.deep.equal({ ok: false, error: 'missing-equals' });
    expect(parseText(t('=1\0'))).to.deep.equal({ ok: false, error: 'empty-key' });
    expect(parseText(t('A B=1\0'))).to.deep.equal({ ok: false, error: 'invalid-key-char' });
  });

  it('encodes pairs with zero terminators', () => {
    expect(encodeText([['HeaderDigest', 'None'], ['MaxRecvDataSegmentLength', '262144']]).toString('latin1')).to.equal(
      'HeaderDigest=None\0MaxRecvDataSegmentLength=262144\0',
    );
  });

  it('RFC 7143 11.10.2: accumulates a pair split over C=1 PDUs', () => {
    const acc = new TextAccumulator();
    expect(acc.push(t('TargetNa'), true)).to.deep.equal({ done: false });
    expect(acc.push(t('me=iqn.x\0Send'), true)).to.deep.equal({ done: false });
    expect(acc.pending).to.equal(21);
    const r = acc.push(t('Targets=All\0'), false);
    expect(r.done && r.result.ok && [...r.result.pairs]).to.deep.equal([['TargetName', 'iqn.x'], ['SendTargets', 'All']]);
    expect(acc.pending).to.equal(0);
  });

  it('accumulator refuses more than its total limit', () => {
    const acc = new TextAccumulator({}, 10);
    expect(acc.push(t('A=12345'), true)).to.deep.equal({ done: false });
    expect(acc.push(t('678901'), true)).to.deep.equal({ done: true, result: { ok: false, error: 'too-long' } });
  });

  it('accumulator keeps its own copy of pushed data', () => {
    const acc = new TextAccumulator();
    const chunk = t('A=1');
    acc.push(chunk, true);
    chunk.fill(0x5a);
    const r = acc.push(t('2\0'), false);
    expect(r.done && r.result.ok && r.result.pairs.get('A')).to.equal('12');
  });

  it('splits a long response into segments of at most the limit', () => {
    const text = t('TargetName=iqn.2026-11.io.nexus:a\0TargetAddress=127.0.0.1:3260,1\0');
    const parts = splitText(text, 16);
    expect(parts.map((p) => p.length)).to.deep.equal([16, 16, 16, 16, 1]);
    expect(Buffer.concat(parts).equals(text)).to.equal(true);
    expect(splitText(text, 1000)).to.have.length(1);
    expect(splitText(Buffer.alloc(0), 8)).to.deep.equal([Buffer.alloc(0)]);
  });
});

import { expect } from 'chai';
import { inWindow, serialAdd, serialGt, serialGte, serialLt, serialLte, serialDiff } from '../../../src/transports/iscsi/serial';

describe('RFC 1982 serial arithmetic (serial.ts)', () => {
  it('orders plain values', () => {
    expect(serialLt(1, 2)).to.equal(true);
    expect(serialLt(2, 1)).to.equal(false);
    expect(serialGt(2, 1)).to.equal(true);
    expect(serialLt(5, 5)).to.equal(false);
    expect(serialLte(5, 5)).to.equal(true);
    expect(serialGte(5, 5)).to.equal(true);
  });

  it('orders across the 2^32 wrap', () => {
    expect(serialLt(0xffffffff, 0)).to.equal(true);
    expect(serialGt(0, 0xffffffff)).to.equal(true);
    expect(serialLt(0xfffffff0, 0x10)).to.equal(true);
    expect(serialGt(0xfffffff0, 0x10)).to.equal(false);
  });

  it('RFC 1982 3.2: values exactly 2^31 apart are unordered', () => {
    expect(serialLt(0, 0x80000000)).to.equal(false);
    expect(serialGt(0, 0x80000000)).to.equal(false);
    expect(serialLt(0, 0x7fffffff)).to.equal(true);
  });

  it('adds with wrap and measures distance', () => {
    expect(serialAdd(0xffffffff, 1)).to.equal(0);
    expect(serialAdd(0xfffffffe, 5)).to.equal(3);
    expect(serialDiff(0xfffffffe, 3)).to.equal(5);
    expect(serialDiff(3, 0xfffffffe)).to.equal(-5);
  });

  it('RFC 7143 4.2.2.1: CmdSN window ExpCmdSN..MaxCmdSN', () => {
    expect(inWindow(10, 10, 41)).to.equal(true);
    expect(inWindow(41, 10, 41)).to.equal(true);
    expect(inWindow(42, 10, 41)).to.equal(false);
    expect(inWindow(9, 10, 41)).to.equal(false);
  });

  it('window that straddles the wrap', () => {
    expect(inWindow(0xfffffffe, 0xfffffff0, 0x0f)).to.equal(true);
    expect(inWindow(0, 0xfffffff0, 0x0f)).to.equal(true);
    expect(inWindow(0x0f, 0xfffffff0, 0x0f)).to.equal(true);
    expect(inWindow(0x10, 0xfffffff0, 0x0f)).to.equal(false);
    expect(inWindow(0xffffffef, 0xfffffff0, 0x0f)).to.equal(false);
  });

  it('RFC 7143 4.2.2.1: MaxCmdSN = ExpCmdSN - 1 is an empty window', () => {
    expect(inWindow(100, 100, 99)).to.equal(false);
    expect(inWindow(0, 0, 0xffffffff)).to.equal(false);
  });
});

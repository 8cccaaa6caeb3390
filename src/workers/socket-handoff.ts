// Moving a live TCP connection from the supervisor to an engine thread (DESIGN.md §3, §10).
//
// Supervisor:  stopReading(socket)   no more bytes leave the kernel for this thread; returns what
//                                    Node had already read but nobody consumed
//              write the last bytes  (the final Login Response) and wait until they are written
//              detachSocket(socket)  dup the descriptor natively, then destroy the socket object:
//                                    only this thread's descriptor closes, the connection stays up
//                                    and the peer sees neither FIN nor RST
// Engine thread: adoptSocket(fd)     a net.Socket over the duplicate
//
// The order matters: reading stops before the last login bytes go out, so every byte of the
// initiator's first full-feature PDU is either already read (and travels in the hand-off
// message) or still in the kernel (and is read by the engine thread).

import { fstatSync } from 'node:fs';
import * as net from 'node:net';
import { NexusError } from '../engine/result';
import { available as nativeAvailable, closeFd, dupFd, isNativeError, loadError, recvSync } from '../native';


/** What libuv's TCP handle exposes to JavaScript that the hand-off needs (Linux). */
interface TcpHandle {
  readonly fd?: unknown;
  reading?: boolean;
  readStop?: () => number;
}

function handleOf(socket: net.Socket): TcpHandle | null {
  const h = (socket as unknown as { _handle?: unknown })._handle;
  return typeof h === 'object' && h !== null ? (h as TcpHandle) : null;
}

/** The socket's file descriptor (Linux: the libuv TCP handle's fd); throws when there is none. */
export function socketFd(socket: net.Socket): number {
  const fd = handleOf(socket)?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new NexusError('ERR_SOCKET_FD', 'socket has no file descriptor (closed, or not a TCP socket on Linux)');
  }
  return fd;
}

/**
 * Stops reading from the kernel now and returns the bytes Node already read that no 'data'
 * listener has seen (the readable buffer). After this the socket emits no more 'data'.
 */
export function stopReading(socket: net.Socket): Uint8Array {
  const h = handleOf(socket);
  if (h === null || typeof h.readStop !== 'function') {
    throw new NexusError('ERR_SOCKET_STATE', 'socket is not open');
  }
  if (h.reading !== false) {
    h.readStop();
    h.reading = false;
  }
  // Readable.read() may call _read to refill, which restarts the handle: make it a no-op first.
  (socket as unknown as { _read: (n: number) => void })._read = () => undefined;
  socket.pause();
  socket.removeAllListeners('data');
  socket.removeAllListeners('readable');
  const chunks: Buffer[] = [];
  for (let i = 0; i < 1024; i++) {
    const c = socket.read() as Buffer | string | null;
    if (c === null) break;
    chunks.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Writes `bytes` and resolves once they are handed to the kernel (or rejects on error). */
export function writeAll(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, err => (err ? reject(err) : resolve()));
  });
}

/**
 * Why sockets cannot move to engine threads in this process (detachSocket's dup(2) is the native
 * addon's), or undefined when they can.
 */
export function socketHandOffUnavailable(): string | undefined {
  return nativeAvailable ? undefined : `the native addon is not loaded (${loadError?.message ?? 'unknown reason'})`;
}

/**
 * Duplicates the socket's descriptor and destroys the socket object, which closes only the
 * original descriptor: the connection lives on in the duplicate. Call after stopReading and after
 * every pending write completed (writableLength 0), else those bytes would be lost.
 */
export function detachSocket(socket: net.Socket): number {
  if (socket.writableLength > 0) {
    throw new NexusError('ERR_SOCKET_STATE', `${socket.writableLength} bytes are still queued for writing`);
  }
  const copy = dupFd(socketFd(socket));
  if (isNativeError(copy)) throw new NexusError('ERR_SOCKET_DUP', `dup: ${copy.errno} ${copy.message}`);
  // destroy() closes the handle (uv_close → close(fd)) without shutdown(): no FIN while the
  // duplicate is open. Never resetAndDestroy(): SO_LINGER 0 would send RST on the shared socket.
  socket.destroy();
  return copy;
}

/** The engine thread's socket over a handed-off descriptor. */
export function adoptSocket(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * Which socket a handed-off descriptor is: its inode, or -1. Descriptor numbers are reused as
 * soon as they are closed; the inode of a socket is not, while it lives.
 */
export function socketIdentity(fd: number): number {
  try {
    const st = fstatSync(fd);
    return st.isSocket() ? st.ino : -1;
  } catch {
    return -1;
  }
}

/**
 * The engine thread a descriptor was sent to died before it was known to have adopted it. If it
 * never did, the descriptor is still open here and would keep the connection up for ever (the
 * initiator would never see it close): close it. If the thread adopted it, its exit closed it and
 * the number may already name another socket: `identity` tells them apart. True when closed here.
 */
export function closeOrphanedDescriptor(fd: number, identity: number): boolean {
  if (identity < 0 || socketIdentity(fd) !== identity) return false;
  return !isNativeError(closeFd(fd));
}

/** Receives into `into[offset, offset + length)` now: bytes taken, 0 when nothing is there. */
export type DirectReceiver = (into: Uint8Array, offset: number, length: number) => number;

/**
 * A receiver for the bytes already waiting on `socket`, read straight into the caller's buffer
 * with a non-blocking recv(2) (the event loop's own reads go through one receive buffer and are
 * copied from there). End of stream and errors answer 0 and are left for the event loop's next
 * read to report. undefined without the native addon or a descriptor.
 */
export function directReceiver(socket: net.Socket): DirectReceiver | undefined {
  if (!nativeAvailable) return undefined;
  let fd: number;
  try {
    fd = socketFd(socket);
  } catch {
    return undefined;
  }
  return (into, offset, length) => {
    const r = recvSync(fd, into, offset, length);
    return typeof r === 'number' ? r : 0;
  };
}

// File-descriptor hand-off between threads (DESIGN.md §3, §10): the supervisor accepts a TCP
// connection and runs its login; the engine thread that will own the session opens a duplicate
// of the socket's descriptor with `new net.Socket({ fd })`. dup keeps the open file description
// alive when the supervisor closes its own descriptor, so the peer sees no FIN.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

namespace nexus {

namespace {

// dupFd(fd): new descriptor (close-on-exec, lowest free number) or { errno }.
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool bad = false;
  int fd = GetFd(env, info[0], "fd", &bad);
  if (bad) return ErrorValue(env, EBADF);
  // F_DUPFD_CLOEXEC: a child process spawned by the daemon must not inherit session sockets.
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return ErrorValue(env, errno);
  return Napi::Number::New(env, copy);
}

// closeFd(fd): close(2) of a descriptor no JS object owns (a hand-off nobody took).
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool bad = false;
  int fd = GetFd(env, info[0], "fd", &bad);
  if (bad) return ErrorValue(env, EBADF);
  if (close(fd) != 0 && errno != EINTR) return ErrorValue(env, errno);
  return env.Undefined();
}

// recvSync(fd, buf, offset, length) -> bytes received (0 = end of stream) | { errno }.
// MSG_DONTWAIT: never blocks; an empty socket answers EAGAIN. The iSCSI connection uses it to
// receive the rest of a large data segment straight into the task's buffer, between the event
// loop's own reads of the same (non-blocking, level-triggered) socket.
Napi::Value RecvSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool bad = false;
  int fd = GetFd(env, info[0], "recvSync: fd", &bad);
  Bytes bytes;
  if (info.Length() < 2 || !GetBytes(info[1], &bytes)) ThrowType(env, "recvSync: buf must be an ArrayBufferView");
  if (bad) return ErrorValue(env, EBADF);
  bool badOff = false, badLen = false;
  int64_t offset = GetOffset(env, info[2], "recvSync: offset", &badOff);
  int64_t length = GetOffset(env, info[3], "recvSync: length", &badLen);
  if (badOff || badLen || static_cast<uint64_t>(offset) > bytes.length ||
      static_cast<uint64_t>(length) > bytes.length - static_cast<uint64_t>(offset)) {
    return ErrorValue(env, EINVAL, "recvSync: offset and length must lie within buf");
  }
  ssize_t r;
  do {
    r = recv(fd, bytes.data + offset, static_cast<size_t>(length), MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrorValue(env, errno);
  return Napi::Number::New(env, static_cast<double>(r));
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("dupFd", Napi::Function::New(env, DupFd, "dupFd"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("recvSync", Napi::Function::New(env, RecvSync, "recvSync"));
}

}  // namespace nexus

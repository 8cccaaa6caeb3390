// File-descriptor hand-off between threads (DESIGN.md §3, §10): the supervisor accepts a TCP
// connection and runs its login; the engine thread that will own the session opens a duplicate
// of the socket's descriptor with `new net.Socket({ fd })`. dup keeps the open file description
// alive when the supervisor closes its own descriptor, so the peer sees no FIN.
#include <fcntl.h>
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

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("dupFd", Napi::Function::New(env, DupFd, "dupFd"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
}

}  // namespace nexus

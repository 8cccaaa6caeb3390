// The credentials of the process at the other end of a Unix domain socket (unix(7) SO_PEERCRED):
// who asked the control socket for a change. The kernel records them at connect(2), so they name
// the client even if it changed its ids since; Node exposes none of it.
#include <sys/socket.h>
#include <sys/types.h>

#include "common.h"

namespace nexus {

namespace {

// peerCredentials(fd) -> { pid, uid, gid } | { errno }.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool bad = false;
  int fd = GetFd(env, info[0], "peerCredentials: fd", &bad);
  if (bad) return ErrorValue(env, EBADF);
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return ErrorValue(env, errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace

void InitPeerCredentials(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace nexus

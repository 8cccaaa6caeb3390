// A netlink datagram socket (netlink(7)), for the TCMU generic-netlink family that
// target_core_user uses to tell its user-space handler about device changes and to wait for its
// answers (DESIGN.md §8, src/transports/tcmu/netlink.ts):
//
//   const s = openNetlink(protocol, onMessage)   // or { errno, message }
//   s.portId                 the socket's netlink port id (nl_pid), the kernel's reply address
//   s.send(bytes)            one datagram to the kernel (port 0); undefined or { errno }
//   s.addMembership(group)   joins a multicast group (NETLINK_ADD_MEMBERSHIP); undefined or { errno }
//   s.close()                stops watching and closes
//   onMessage(Uint8Array | { errno, message })   one datagram received (it may hold several
//                            messages), or why receiving failed (ENOBUFS: the kernel dropped
//                            messages because the socket's buffer ran full; the socket still works)
//
// Thin on purpose: messages are built and parsed in TypeScript. The fd is watched by uv_poll on
// the calling thread's loop (PolledFd), like the uio ring it sits beside.
#include <sys/socket.h>
#include <linux/netlink.h>
#include <unistd.h>
#include <uv.h>

#include <vector>

#include "common.h"

namespace nexus {

namespace {

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {InstanceMethod<&NetlinkSocket::Send>("send"),
                        InstanceMethod<&NetlinkSocket::AddMembership>("addMembership"),
                        InstanceMethod<&NetlinkSocket::Close>("close"),
                        InstanceAccessor<&NetlinkSocket::GetPortId>("portId")});
  }

  // Constructed only by OpenNetlink with (fd, portId, onMessage) already checked.
  NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info), async_(info.Env(), "nexus:Netlink") {
    Napi::Env env = info.Env();
    env_ = env;
    fd_ = info[0].As<Napi::Number>().Int32Value();
    portId_ = info[1].As<Napi::Number>().Uint32Value();
    onMessage_ = Napi::Persistent(info[2].As<Napi::Function>());
    poll_ = PollReadable(env, fd_, this, OnReadable, true);
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~NetlinkSocket() override { Teardown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    NetlinkSocket* s = static_cast<NetlinkSocket*>(arg);
    s->hooked_ = false;
    s->Teardown();
  }

  Napi::Value GetPortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), portId_); }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes b;
    if (info.Length() < 1 || !GetBytes(info[0], &b)) ThrowType(env, "send: bytes must be an ArrayBufferView or ArrayBuffer");
    if (fd_ < 0) return ErrorValue(env, EBADF, "netlink socket is closed");
    struct sockaddr_nl to = {};
    to.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
    ssize_t w;
    do w = sendto(fd_, b.data, b.length, 0, reinterpret_cast<struct sockaddr*>(&to), sizeof to);
    while (w < 0 && errno == EINTR);
    if (w < 0) return ErrorValue(env, errno);
    return env.Undefined();
  }

  Napi::Value AddMembership(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) ThrowType(env, "addMembership: group must be a number");
    if (fd_ < 0) return ErrorValue(env, EBADF, "netlink socket is closed");
    int group = info[0].As<Napi::Number>().Int32Value();
    if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) return ErrorValue(env, errno);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    if (handle->data == nullptr) return;
    static_cast<NetlinkSocket*>(handle->data)->Readable(status);
  }

  // Every datagram waiting is delivered, one callback each; the loop stops at EAGAIN.
  void Readable(int status) {
    Napi::Env env = env_;
    Napi::HandleScope scope(env);
    if (status < 0) {
      StopPolling();
      Deliver(ErrorValue(env, -status));
      return;
    }
    // A generic-netlink event is small; MSG_TRUNC reports a longer one's true size.
    std::vector<uint8_t> buf(16384);
    while (fd_ >= 0) {
      ssize_t n;
      do n = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        int e = errno;
        // ENOBUFS: messages were dropped, the socket is still good; anything else ends it.
        if (e != ENOBUFS) StopPolling();
        Deliver(ErrorValue(env, e));
        if (e != ENOBUFS) return;
        continue;
      }
      size_t len = static_cast<size_t>(n) < buf.size() ? static_cast<size_t>(n) : buf.size();
      Napi::Uint8Array msg = Napi::Uint8Array::New(env, len);
      std::memcpy(msg.Data(), buf.data(), len);
      Deliver(msg);
    }
  }

  void Deliver(Napi::Value arg) {
    if (onMessage_.IsEmpty()) return;
    try {
      DeliverCompletion(env_, async_, Value(), onMessage_.Value(), arg);
    } catch (const Napi::Error&) {
      // Only reachable when the env is going away.
    }
  }

  void StopPolling() { StopPolledFd(&poll_); }

  void Teardown() {
    if (tornDown_) return;
    tornDown_ = true;
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    StopPolling();
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    onMessage_.Reset();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Napi::AsyncContext async_;
  Napi::FunctionReference onMessage_;
  int fd_ = -1;
  uint32_t portId_ = 0;
  PolledFd* poll_ = nullptr;
  bool tornDown_ = false;
  bool hooked_ = false;
};

struct AddonData {
  Napi::FunctionReference ctor;
};

// openNetlink(protocol, onMessage): a bound AF_NETLINK datagram socket of `protocol`
// (NETLINK_GENERIC is 16), its port id chosen by the kernel.
Napi::Value OpenNetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowType(env, "openNetlink: protocol must be a number");
  if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "openNetlink: onMessage must be a function");
  int protocol = info[0].As<Napi::Number>().Int32Value();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ErrorValue(env, errno, std::string("openNetlink: socket: ") + std::strerror(errno));
  struct sockaddr_nl local = {};
  local.nl_family = AF_NETLINK;
  socklen_t len = sizeof local;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&local), sizeof local) != 0 ||
      getsockname(fd, reinterpret_cast<struct sockaddr*>(&local), &len) != 0) {
    int e = errno;
    close(fd);
    return ErrorValue(env, e, std::string("openNetlink: bind: ") + std::strerror(e));
  }
  return data->ctor.New({Napi::Number::New(env, fd), Napi::Number::New(env, local.nl_pid), info[1]});
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->ctor = Napi::Persistent(NetlinkSocket::Define(env));
  napi_add_env_cleanup_hook(
      env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("openNetlink", Napi::Function::New(env, OpenNetlink, "openNetlink", data));
}

}  // namespace nexus

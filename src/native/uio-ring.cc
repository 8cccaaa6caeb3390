// The user-space side of LIO's TCMU backstore (target_core_user, DESIGN.md 8): a uio device
// whose one memory map holds the mailbox, the command ring and the data area
// (linux/target_core_user.h, kernel Documentation/target/tcmu-design.rst):
//
//   const r = openUioRing(path, mapSize, onEvent)   // or { errno, message }
//   r.map      ArrayBuffer over the whole mapping (mailbox, command ring, data area)
//   r.kick()   one 4-byte write(2) to the device: the kernel reaps every completion up to
//              mailbox.cmd_tail (tcmu_irqcontrol); undefined or { errno }
//   r.close()  stops watching, detaches `map` (every view of it becomes empty), unmaps, closes
//   onEvent(n | { errno, message })   the device turned readable: n is uio's event count
//
// The mapping must be exactly maps/map0/size (tcmu_mmap refuses anything else with EINVAL); the
// caller reads the size from sysfs. The device's fd is watched by uv_poll on the calling
// thread's own loop (the PolledFd helper sg-queue.cc uses too): no thread per device, and the
// thread that runs the device's commands sees new ring entries as it sees sockets. The ring is
// parsed in TypeScript over `map` (src/transports/tcmu/), where every access is bounds-checked by
// the ArrayBuffer itself: a malformed entry can make a view throw, never reach outside the map.
// Detaching on close makes the same true of views kept past close: they have length 0.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

namespace nexus {

namespace {

class UioRing : public Napi::ObjectWrap<UioRing> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UioRing",
                       {InstanceMethod<&UioRing::Kick>("kick"), InstanceMethod<&UioRing::Close>("close"),
                        InstanceAccessor<&UioRing::GetMap>("map")});
  }

  // Constructed only by OpenUioRing with (fd, address, size, onEvent) already checked.
  UioRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UioRing>(info), async_(info.Env(), "nexus:UioRing") {
    Napi::Env env = info.Env();
    env_ = env;
    fd_ = info[0].As<Napi::Number>().Int32Value();
    size_ = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
    map_ = Napi::Persistent(info[1].As<Napi::ArrayBuffer>());
    onEvent_ = Napi::Persistent(info[3].As<Napi::Function>());
    // OpenUioRing checked that epoll takes the fd before constructing.
    poll_ = PollReadable(env, fd_, this, OnReadable, true);
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~UioRing() override { Teardown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    UioRing* r = static_cast<UioRing*>(arg);
    r->hooked_ = false;
    r->Teardown();
  }

  Napi::Value GetMap(const Napi::CallbackInfo& info) {
    if (map_.IsEmpty()) return info.Env().Undefined();
    return map_.Value();
  }

  // uio's write(2) takes exactly 4 bytes; target_core_user's irqcontrol then reaps completions.
  Napi::Value Kick(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return ErrorValue(env, EBADF, "uio ring is closed");
    uint32_t one = 1;
    ssize_t w;
    do w = write(fd_, &one, sizeof one);
    while (w < 0 && errno == EINTR);
    if (w < 0) return ErrorValue(env, errno);
    if (w != static_cast<ssize_t>(sizeof one)) return ErrorValue(env, EIO, "short write to the uio device");
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    if (handle->data == nullptr) return;
    static_cast<UioRing*>(handle->data)->Readable(status);
  }

  void Readable(int status) {
    Napi::Env env = env_;
    Napi::HandleScope scope(env);
    Napi::Value arg;
    if (status < 0) {
      // The device went away under us (its configfs directory removed): report it once.
      StopPolling();
      arg = ErrorValue(env, -status);
    } else {
      // uio(4): a read returns the 32-bit event count and clears readiness; EAGAIN means another
      // reader took it first, which is harmless (the ring is read in full on every event).
      uint32_t count = 0;
      ssize_t n;
      do n = read(fd_, &count, sizeof count);
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN) {
        int e = errno;
        StopPolling();
        arg = ErrorValue(env, e);
      } else {
        arg = Napi::Number::New(env, count);
      }
    }
    try {
      DeliverCompletion(env, async_, Value(), onEvent_.Value(), arg);
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
    if (!map_.IsEmpty()) {
      // Every view over the mapping becomes zero-length before the pages go.
      napi_detach_arraybuffer(env_, map_.Value());
      map_.Reset();
    }
    // The backing store's deleter unmapped when the detach dropped its last reference; if the
    // env is going away without a detach, it runs when V8 frees the store.
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    onEvent_.Reset();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Napi::AsyncContext async_;
  Napi::Reference<Napi::ArrayBuffer> map_;
  Napi::FunctionReference onEvent_;
  int fd_ = -1;
  size_t size_ = 0;
  PolledFd* poll_ = nullptr;
  bool tornDown_ = false;
  bool hooked_ = false;
};

struct AddonData {
  Napi::FunctionReference uioRingCtor;
};

// openUioRing(path, mapSize, onEvent): path must be a character device that maps `mapSize`
// bytes (a page multiple) shared and that epoll can watch.
Napi::Value OpenUioRing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "openUioRing: path must be a string");
  if (info.Length() < 2 || !info[1].IsNumber()) ThrowType(env, "openUioRing: mapSize must be a number");
  if (info.Length() < 3 || !info[2].IsFunction()) ThrowType(env, "openUioRing: onEvent must be a function");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  double sized = info[1].As<Napi::Number>().DoubleValue();
  long page = sysconf(_SC_PAGESIZE);
  if (!(sized > 0 && sized <= 9007199254740991.0) || sized != static_cast<double>(static_cast<int64_t>(sized)) ||
      static_cast<int64_t>(sized) % page != 0) {
    return ErrorValue(env, EINVAL, "openUioRing: mapSize must be a positive multiple of the page size");
  }
  size_t size = static_cast<size_t>(sized);
  int fd;
  do fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrorValue(env, errno, std::string("openUioRing: ") + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
    close(fd);
    return ErrorValue(env, ENOTTY, std::string("openUioRing: ") + path + " is not a uio character device");
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    int e = errno;
    close(fd);
    return ErrorValue(env, e, std::string("openUioRing: mmap of ") + path + ": " + std::strerror(e));
  }
  // epoll refuses descriptors without a poll operation: find out before anything is built.
  {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    int r = ep < 0 ? -1 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int e = errno;
    if (ep >= 0) close(ep);
    if (r < 0) {
      munmap(addr, size);
      close(fd);
      return ErrorValue(env, e, std::string("openUioRing: ") + path + " cannot be polled: " + std::strerror(e));
    }
  }
  // The mapping as an ArrayBuffer whose backing store unmaps it when the last reference goes
  // (after close() detaches it, or when the env ends).
  std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
      addr, size, [](void* data, size_t length, void*) { munmap(data, length); }, nullptr);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(store));
  Napi::Value map(env, FromV8(ab));
  return data->uioRingCtor.New({Napi::Number::New(env, fd), map, Napi::Number::New(env, static_cast<double>(size)), info[2]});
}

}  // namespace

void InitUioRing(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->uioRingCtor = Napi::Persistent(UioRing::Define(env));
  napi_add_env_cleanup_hook(
      env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("openUioRing", Napi::Function::New(env, OpenUioRing, "openUioRing", data));
}

}  // namespace nexus

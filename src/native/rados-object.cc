// One RADOS object with a guarded update and watch/notify, for state several gateways share
// through the Ceph cluster (the persistent reservations of an rbd image, DESIGN.md 8b):
//
//   openRadosObject({ pool, object, cephConf?, cephUser?, keyring?, connectTimeoutMs?, opTimeoutMs? }, cb)
//                                          // cb(RadosObject | { errno, message })
//   obj.read(cb)                           // cb({ text } | { errno }): the whole object (ENOENT: none)
//   obj.write(expect, next, text, cb)      // cb(undefined | { errno }): one write op, atomic in the OSD:
//       the object's "nexus.version" xattr must equal `expect` (or, with expect "", the object must
//       not exist), then the object becomes `text` and the xattr `next`. ECANCELED / EEXIST: someone
//       else wrote first.
//   obj.watch(onEvent, cb)                 // onEvent('notify', notifyId, cookie, notifierGid, payload)
//                                          // onEvent('error', errno); cb(undefined | { errno })
//   obj.ack(notifyId, cookie, payload, cb) // rados_notify_ack
//   obj.notify(payload, timeoutMs, cb)     // cb({ acks: [{ gid, cookie, payload }], timeouts: [{ gid, cookie }] } | { errno })
//   obj.blocklist(addr, expireSeconds, cb) // rados_blocklist_add: the OSDs refuse that client from now on
//   obj.client()                           // { gid, addrs }: this connection's instance id and addresses
//   obj.close(cb)
//
// 64-bit ids (notify ids, watch cookies, client gids) travel as decimal strings. The short calls
// run on libuv's pool (control operations, a few per PERSISTENT RESERVE OUT, never per I/O); a
// notify, which waits for the other gateways, completes through librados's own threads, and
// watch events come from librados's threads: both through thread-safe functions to the loop of
// the thread that opened the object.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <rados/librados.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "rados-cluster.h"

namespace nexus {

namespace {

const char* const VERSION_XATTR = "nexus.version";

struct Conn {
  rados_t cluster = nullptr;
  rados_ioctx_t io = nullptr;
  void Release() {
    if (io != nullptr) rados_ioctx_destroy(io);
    if (cluster != nullptr) rados_shutdown(cluster);
    io = nullptr;
    cluster = nullptr;
  }
};

std::string StrArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) ThrowType(env, std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Function CbArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsFunction()) ThrowType(env, "cb must be a function");
  return info[i].As<Napi::Function>();
}

// A blocking librados call on the pool: `run` returns 0 or -errno; `done` builds the value handed
// to the callback on success (undefined when absent).
class Job : public Napi::AsyncWorker {
 public:
  using Run = std::function<int()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  Job(Napi::Function cb, Run run, Done done) : Napi::AsyncWorker(cb, "nexus:rados"), run_(std::move(run)), done_(std::move(done)) {}
  void Execute() override { r_ = run_(); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Value v = r_ < 0 ? Napi::Value(ErrorValue(env, -r_)) : (done_ ? done_(env) : env.Undefined());
    Callback().MakeCallback(Receiver().Value(), {v});
  }

 private:
  Run run_;
  Done done_;
  int r_ = 0;
};

struct WatchEvent {
  bool error = false;
  int err = 0;
  uint64_t notifyId = 0, cookie = 0, notifier = 0;
  std::string payload;
};

class RadosObject : public Napi::ObjectWrap<RadosObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RadosObject",
                       {InstanceMethod<&RadosObject::Read>("read"), InstanceMethod<&RadosObject::Write>("write"),
                        InstanceMethod<&RadosObject::Watch>("watch"), InstanceMethod<&RadosObject::Ack>("ack"),
                        InstanceMethod<&RadosObject::Notify>("notify"), InstanceMethod<&RadosObject::Blocklist>("blocklist"),
                        InstanceMethod<&RadosObject::Client>("client"), InstanceMethod<&RadosObject::Close>("close")});
  }

  RadosObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RadosObject>(info) {
    env_ = info.Env();
    Conn* c = info[0].As<Napi::External<Conn>>().Data();
    c_ = *c;
    *c = Conn();
    oid_ = info[1].As<Napi::String>().Utf8Value();
    napi_add_env_cleanup_hook(env_, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~RadosObject() override { Teardown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    RadosObject* self = static_cast<RadosObject*>(arg);
    self->hooked_ = false;
    self->Teardown();
  }

  void CheckOpen(Napi::Env env) {
    if (closed_) ThrowClosed(env, "rados object is closed");
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function cb = CbArg(env, info, 0);
    CheckOpen(env);
    auto text = std::make_shared<std::string>();
    rados_ioctx_t io = c_.io;
    std::string oid = oid_;
    (new Job(cb, [io, oid, text]() -> int {
      uint64_t size = 0;
      time_t mtime = 0;
      int r = rados_stat(io, oid.c_str(), &size, &mtime);
      if (r < 0) return r;
      // The object may grow between the stat and the read: read until a read comes back short.
      for (size_t want = size + 4096;; want *= 2) {
        text->assign(want, '\0');
        r = rados_read(io, oid.c_str(), &(*text)[0], want, 0);
        if (r < 0) return r;
        if (static_cast<size_t>(r) < want) {
          text->resize(static_cast<size_t>(r));
          return 0;
        }
      }
    }, [text](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("text", *text);
      return o;
    }))->Queue();
    return env.Undefined();
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string expect = StrArg(env, info, 0, "write: expect");
    std::string next = StrArg(env, info, 1, "write: next");
    std::string text = StrArg(env, info, 2, "write: text");
    Napi::Function cb = CbArg(env, info, 3);
    CheckOpen(env);
    rados_ioctx_t io = c_.io;
    std::string oid = oid_;
    (new Job(cb, [io, oid, expect, next, text]() -> int {
      rados_write_op_t op = rados_create_write_op();
      // One compound operation: the OSD applies the guard and the writes as one transaction,
      // ordered with every other operation on the object from any client.
      if (expect.empty()) rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
      else rados_write_op_cmpxattr(op, VERSION_XATTR, LIBRADOS_CMPXATTR_OP_EQ, expect.data(), expect.size());
      rados_write_op_write_full(op, text.data(), text.size());
      rados_write_op_setxattr(op, VERSION_XATTR, next.data(), next.size());
      int r = rados_write_op_operate(op, io, oid.c_str(), nullptr, 0);
      rados_release_write_op(op);
      return r;
    }, nullptr))->Queue();
    return env.Undefined();
  }

  static void OnWatchNotify(void* arg, uint64_t notifyId, uint64_t cookie, uint64_t notifier, void* data, size_t len) {
    RadosObject* self = static_cast<RadosObject*>(arg);
    auto* e = new WatchEvent();
    e->notifyId = notifyId;
    e->cookie = cookie;
    e->notifier = notifier;
    if (data != nullptr && len > 0) e->payload.assign(static_cast<const char*>(data), len);
    self->Emit(e);
  }

  static void OnWatchError(void* arg, uint64_t cookie, int err) {
    RadosObject* self = static_cast<RadosObject*>(arg);
    auto* e = new WatchEvent();
    e->error = true;
    e->err = err < 0 ? -err : err;
    e->cookie = cookie;
    self->Emit(e);
  }

  void Emit(WatchEvent* e) {
    napi_status s = events_.BlockingCall(e, [](Napi::Env env, Napi::Function fn, WatchEvent* ev) {
      std::unique_ptr<WatchEvent> own(ev);
      if (static_cast<napi_env>(env) == nullptr || fn.IsEmpty()) return;
      if (ev->error) {
        fn.Call({Napi::String::New(env, "error"), Napi::String::New(env, ErrnoName(ev->err))});
      } else {
        fn.Call({Napi::String::New(env, "notify"), Napi::String::New(env, std::to_string(ev->notifyId)),
                 Napi::String::New(env, std::to_string(ev->cookie)), Napi::String::New(env, std::to_string(ev->notifier)),
                 Napi::String::New(env, ev->payload)});
      }
    });
    if (s != napi_ok) delete e;
  }

  Napi::Value Watch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) ThrowType(env, "watch: onEvent must be a function");
    Napi::Function cb = CbArg(env, info, 1);
    CheckOpen(env);
    if (watching_) ThrowType(env, "watch: already watching");
    events_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "nexus:radosWatch", 0, 1);
    // Events do not keep the process alive; the object's owner closes it.
    events_.Unref(env);
    watching_ = true;
    rados_ioctx_t io = c_.io;
    std::string oid = oid_;
    uint64_t* cookie = &cookie_;
    // The OSD drops a watch whose client stops pinging after osd_client_watch_timeout.
    (new Job(cb, [io, oid, cookie, this]() -> int {
      return rados_watch2(io, oid.c_str(), cookie, OnWatchNotify, OnWatchError, this);
    }, nullptr))->Queue();
    return env.Undefined();
  }

  Napi::Value Ack(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t notifyId = std::strtoull(StrArg(env, info, 0, "ack: notifyId").c_str(), nullptr, 10);
    uint64_t cookie = std::strtoull(StrArg(env, info, 1, "ack: cookie").c_str(), nullptr, 10);
    std::string payload = StrArg(env, info, 2, "ack: payload");
    Napi::Function cb = CbArg(env, info, 3);
    CheckOpen(env);
    rados_ioctx_t io = c_.io;
    std::string oid = oid_;
    (new Job(cb, [io, oid, notifyId, cookie, payload]() -> int {
      return rados_notify_ack(io, oid.c_str(), notifyId, cookie, payload.data(), static_cast<int>(payload.size()));
    }, nullptr))->Queue();
    return env.Undefined();
  }

  // One notify in flight: librados completes it on its own thread (rados_aio_notify), so waiting
  // up to the timeout for the other gateways holds no thread of libuv's pool, which this process's
  // own watch callbacks need to read the object and acknowledge meanwhile.
  struct NotifyCall {
    rados_completion_t c = nullptr;
    char* reply = nullptr;
    size_t replyLen = 0;
    std::string payload;
    Napi::ThreadSafeFunction done;
  };

  static Napi::Value NotifyResult(Napi::Env env, int r, char* reply, size_t replyLen) {
    // ETIMEDOUT: some watcher did not acknowledge in time; the reply still says who did.
    if (r < 0 && r != -ETIMEDOUT) return ErrorValue(env, -r);
    Napi::Array acks = Napi::Array::New(env);
    Napi::Array timeouts = Napi::Array::New(env);
    if (reply != nullptr && replyLen > 0) {
      notify_ack_t* a = nullptr;
      notify_timeout_t* t = nullptr;
      size_t nA = 0, nT = 0;
      if (rados_decode_notify_response(reply, replyLen, &a, &nA, &t, &nT) == 0) {
        for (size_t i = 0; i < nA; i++) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("gid", std::to_string(a[i].notifier_id));
          o.Set("cookie", std::to_string(a[i].cookie));
          o.Set("payload", a[i].payload != nullptr ? std::string(a[i].payload, a[i].payload_len) : std::string());
          acks.Set(i, o);
        }
        for (size_t i = 0; i < nT; i++) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("gid", std::to_string(t[i].notifier_id));
          o.Set("cookie", std::to_string(t[i].cookie));
          timeouts.Set(i, o);
        }
        rados_free_notify_response(a, nA, t);
      }
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("acks", acks);
    o.Set("timeouts", timeouts);
    return o;
  }

  static void OnNotifyComplete(rados_completion_t c, void* arg) {
    NotifyCall* call = static_cast<NotifyCall*>(arg);
    // Copied first: the loop's callback deletes `call`.
    Napi::ThreadSafeFunction done = call->done;
    napi_status s = done.BlockingCall(call, [](Napi::Env env, Napi::Function cb, NotifyCall* nc) {
      std::unique_ptr<NotifyCall> own(nc);
      int r = rados_aio_get_return_value(nc->c);
      if (static_cast<napi_env>(env) != nullptr && !cb.IsEmpty()) {
        Napi::HandleScope scope(env);
        cb.Call({NotifyResult(env, r, nc->reply, nc->replyLen)});
      }
      if (nc->reply != nullptr) rados_buffer_free(nc->reply);
      rados_aio_release(nc->c);
    });
    if (s != napi_ok) {
      if (call->reply != nullptr) rados_buffer_free(call->reply);
      rados_aio_release(call->c);
      delete call;
    }
    done.Release();
  }

  Napi::Value Notify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string payload = StrArg(env, info, 0, "notify: payload");
    if (info.Length() < 2 || !info[1].IsNumber()) ThrowType(env, "notify: timeoutMs must be a number");
    uint64_t timeoutMs = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
    Napi::Function cb = CbArg(env, info, 2);
    CheckOpen(env);
    auto* call = new NotifyCall();
    call->payload = payload;
    call->done = Napi::ThreadSafeFunction::New(env, cb, "nexus:radosNotify", 0, 1);
    int r = rados_aio_create_completion2(call, OnNotifyComplete, &call->c);
    if (r == 0) {
      r = rados_aio_notify(c_.io, oid_.c_str(), call->c, call->payload.data(), static_cast<int>(call->payload.size()), timeoutMs,
                           &call->reply, &call->replyLen);
      if (r < 0) rados_aio_release(call->c);
    }
    if (r < 0) {
      call->done.Release();
      delete call;
      // Refused before librados took it: answered on the loop like every other outcome.
      (new Job(cb, [r]() -> int { return r; }, nullptr))->Queue();
    }
    return env.Undefined();
  }

  Napi::Value Blocklist(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string addr = StrArg(env, info, 0, "blocklist: addr");
    if (info.Length() < 2 || !info[1].IsNumber()) ThrowType(env, "blocklist: expireSeconds must be a number");
    uint32_t expire = info[1].As<Napi::Number>().Uint32Value();
    Napi::Function cb = CbArg(env, info, 2);
    CheckOpen(env);
    rados_t cluster = c_.cluster;
    (new Job(cb, [cluster, addr, expire]() -> int {
      std::string a = addr;
      return rados_blocklist_add(cluster, &a[0], expire);
    }, nullptr))->Queue();
    return env.Undefined();
  }

  Napi::Value Client(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("gid", std::to_string(rados_get_instance_id(c_.cluster)));
    char* addrs = nullptr;
    if (rados_getaddrs(c_.cluster, &addrs) == 0 && addrs != nullptr) {
      o.Set("addrs", addrs);
      free(addrs);
    } else {
      o.Set("addrs", "");
    }
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Function cb = CbArg(env, info, 0);
    CheckOpen(env);
    closed_ = true;
    Conn c = c_;
    c_ = Conn();
    bool watching = watching_;
    uint64_t cookie = cookie_;
    watching_ = false;
    auto events = std::make_shared<Napi::ThreadSafeFunction>(events_);
    // Unwatch and flush the watch callbacks on the pool, then let the loop release the events.
    (new Job(cb, [c, watching, cookie]() mutable -> int {
      if (watching) {
        rados_unwatch2(c.io, cookie);
        rados_watch_flush(c.cluster);
      }
      c.Release();
      return 0;
    }, [events, watching](Napi::Env env) -> Napi::Value {
      if (watching) events->Release();
      return env.Undefined();
    }))->Queue();
    return env.Undefined();
  }

  // The env is going away (a worker thread ends): close at once, blocking.
  void Teardown() {
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    if (closed_) return;
    closed_ = true;
    if (watching_) {
      rados_unwatch2(c_.io, cookie_);
      rados_watch_flush(c_.cluster);
      events_.Abort();
      watching_ = false;
    }
    c_.Release();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Conn c_;
  std::string oid_;
  Napi::ThreadSafeFunction events_;
  uint64_t cookie_ = 0;
  bool watching_ = false;
  bool closed_ = false;
  bool hooked_ = false;
};

struct AddonData {
  Napi::FunctionReference ctor;
};

struct OpenOptions {
  ClusterOptions cluster;
  std::string object;
};

class OpenWork : public Napi::AsyncWorker {
 public:
  OpenWork(Napi::Function cb, AddonData* data, OpenOptions o) : Napi::AsyncWorker(cb, "nexus:radosOpen"), data_(data), o_(std::move(o)) {}
  ~OpenWork() override { c_.Release(); }

  int Fail(int err, const std::string& what) {
    err_ = err;
    message_ = what + ": " + std::strerror(err);
    c_.Release();
    return 0;
  }

  void Execute() override {
    std::string what;
    int e = ConnectCluster(o_.cluster, {}, &c_.cluster, &c_.io, &what);
    if (e != 0) Fail(e, what);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) {
      Callback().MakeCallback(Receiver().Value(), {ErrorValue(env, err_, message_)});
      return;
    }
    Napi::Object obj = data_->ctor.New({Napi::External<Conn>::New(env, &c_), Napi::String::New(env, o_.object)});
    Callback().MakeCallback(Receiver().Value(), {obj});
  }

 private:
  AddonData* data_;
  OpenOptions o_;
  Conn c_;
  int err_ = 0;
  std::string message_;
};

Napi::Value OpenRadosObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    ThrowType(env, "openRadosObject(options, cb): options must be an object and cb a function");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  OpenOptions opts;
  opts.cluster = ReadClusterOptions(env, o, "openRadosObject");
  opts.object = ClusterStringOption(env, o, "openRadosObject", "object", true);
  (new OpenWork(info[1].As<Napi::Function>(), data, std::move(opts)))->Queue();
  return env.Undefined();
}

}  // namespace

void InitRadosObject(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->ctor = Napi::Persistent(RadosObject::Define(env));
  napi_add_env_cleanup_hook(env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("openRadosObject", Napi::Function::New(env, OpenRadosObject, "openRadosObject", data));
}

}  // namespace nexus

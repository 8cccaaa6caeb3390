// Shared helpers for the Nexus native addon: argument validation, errno values,
// and access to the bytes behind ArrayBufferViews and SharedArrayBuffers.
//
// Node-API in Node 20 cannot reach SharedArrayBuffer memory, so byte access goes
// through the V8 API. Holding the std::shared_ptr<v8::BackingStore> keeps the
// memory alive for the whole of an asynchronous operation even if the JS object
// is collected or the ArrayBuffer is detached meanwhile.
#pragma once

// node.h first: node_version.h defines NAPI_VERSION unconditionally.
#include <node.h>
#include <v8.h>
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace nexus {

// Calls a completion callback from the event loop within the queue's async context (so async
// hooks and domains see it). A throw in the callback is an uncaught exception, as in an fs
// callback: handed to napi_fatal_exception, never swallowed by the queue.
inline void DeliverCompletion(napi_env env, napi_async_context ctx, napi_value recv, napi_value cb, napi_value arg) {
  napi_value argv[1] = {arg};
  napi_value ret;
  if (napi_make_callback(env, ctx, recv, cb, 1, argv, &ret) == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  napi_value exc;
  if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
}

// napi_value and v8::Local<v8::Value> are both a single pointer to a handle slot;
// Node's own Node-API implementation converts between them the same way.
inline v8::Local<v8::Value> ToV8(napi_value v) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(v), "napi_value must be one pointer");
  std::memcpy(static_cast<void*>(&local), &v, sizeof(v));
  return local;
}

inline napi_value FromV8(v8::Local<v8::Value> local) {
  napi_value v;
  std::memcpy(static_cast<void*>(&v), &local, sizeof(v));
  return v;
}

// Bytes of a view or buffer, pinned by its backing store.
struct Bytes {
  uint8_t* data = nullptr;
  size_t length = 0;
  std::shared_ptr<v8::BackingStore> store;  // keeps `data` valid
};

// Accepts any ArrayBufferView (Buffer, Uint8Array, DataView, ...) over an
// ArrayBuffer or a SharedArrayBuffer, or a bare ArrayBuffer / SharedArrayBuffer.
inline bool GetBytes(Napi::Value value, Bytes* out) {
  v8::Local<v8::Value> v = ToV8(value);
  if (v->IsArrayBufferView()) {
    auto view = v.As<v8::ArrayBufferView>();
    // Buffer() moves an on-heap typed array's contents off the heap, so the
    // address is stable from here on.
    v8::Local<v8::ArrayBuffer> ab = view->Buffer();
    out->store = ab->GetBackingStore();
    out->data = static_cast<uint8_t*>(out->store->Data());
    if (out->data != nullptr) out->data += view->ByteOffset();
    out->length = view->ByteLength();
    return true;
  }
  if (v->IsSharedArrayBuffer()) {
    auto sab = v.As<v8::SharedArrayBuffer>();
    out->store = sab->GetBackingStore();
    out->data = static_cast<uint8_t*>(out->store->Data());
    out->length = sab->ByteLength();
    return true;
  }
  if (v->IsArrayBuffer()) {
    auto ab = v.As<v8::ArrayBuffer>();
    out->store = ab->GetBackingStore();
    out->data = static_cast<uint8_t*>(out->store->Data());
    out->length = ab->ByteLength();
    return true;
  }
  return false;
}

// errno number -> symbolic name ("EBADF"); unknown numbers become "E<n>".
const char* ErrnoName(int err);

// { errno: 'EBADF', message: 'Bad file descriptor' }
inline Napi::Object ErrorValue(Napi::Env env, int err) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", ErrnoName(err));
  o.Set("message", std::strerror(err));
  return o;
}

inline Napi::Object ErrorValue(Napi::Env env, int err, const std::string& message) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", ErrnoName(err));
  o.Set("message", message);
  return o;
}

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError e = Napi::TypeError::New(env, message);
  e.Set("code", "ERR_INVALID_ARG_TYPE");
  throw e;
}

// A request to a queue or image that close() has begun to tear down (sg, io_uring, rbd): the
// same code everywhere, so TypeScript tells misuse after close from an I/O error the same way.
[[noreturn]] inline void ThrowClosed(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", "ERR_QUEUE_CLOSED");
  throw e;
}

// A file descriptor: an integral Number in [0, INT32_MAX]. Non-numbers throw;
// numbers out of range are reported through *bad so callers can answer EBADF.
inline int GetFd(Napi::Env env, Napi::Value v, const char* what, bool* bad) {
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    *bad = true;
    return -1;
  }
  *bad = false;
  return static_cast<int>(d);
}

// A byte offset or length: a Number (safe integer) or a BigInt. Non-numbers
// throw; negative, fractional or > INT64_MAX values set *bad (caller answers EINVAL).
inline int64_t GetOffset(Napi::Env env, Napi::Value v, const char* what, bool* bad) {
  *bad = false;
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless || x < 0) *bad = true;
    return x;
  }
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be a number or bigint");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    *bad = true;
    return -1;
  }
  return static_cast<int64_t>(d);
}

inline bool GetBoolOption(Napi::Env env, Napi::Object opts, const char* key, bool dflt) {
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) ThrowType(env, std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// A uv_poll_t on the heap, watching a device's fd on the calling thread's loop (sg-queue.cc,
// uio-ring.cc): it outlives its owner until uv_close's callback frees it.
struct PolledFd {
  uv_poll_t poll;
};

// Starts watching `fd` for readability on the calling thread's loop; `owner` is the handle's
// data in `onReadable`. keepsLoopAlive false: the watch alone does not hold the loop open.
inline PolledFd* PollReadable(napi_env env, int fd, void* owner, uv_poll_cb onReadable, bool keepsLoopAlive) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  PolledFd* p = new PolledFd();
  p->poll.data = owner;
  uv_poll_init(loop, &p->poll, fd);
  uv_poll_start(&p->poll, UV_READABLE, onReadable);
  if (!keepsLoopAlive) uv_unref(reinterpret_cast<uv_handle_t*>(&p->poll));
  return p;
}

// Stops watching and frees the handle once libuv lets go of it; its owner forgets it at once.
inline void ClosePolledFd(PolledFd* p) {
  uv_poll_stop(&p->poll);
  p->poll.data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->poll), [](uv_handle_t* h) { delete reinterpret_cast<PolledFd*>(h); });
}

// ClosePolledFd for an owner's field, which is left nullptr; nothing when already closed.
inline void StopPolledFd(PolledFd** field) {
  if (*field == nullptr) return;
  ClosePolledFd(*field);
  *field = nullptr;
}

// Registration functions, one per concern (.cc file).
void InitErrno(Napi::Env env, Napi::Object exports);
void InitCrc32c(Napi::Env env, Napi::Object exports);
void InitSharedMemory(Napi::Env env, Napi::Object exports);
void InitBlockIo(Napi::Env env, Napi::Object exports);
void InitIoQueue(Napi::Env env, Napi::Object exports);
void InitSgQueue(Napi::Env env, Napi::Object exports);
void InitFd(Napi::Env env, Napi::Object exports);
void InitPeerCredentials(Napi::Env env, Napi::Object exports);
void InitUioRing(Napi::Env env, Napi::Object exports);
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitRbdImage(Napi::Env env, Napi::Object exports);  // only when built with librbd
void InitRadosObject(Napi::Env env, Napi::Object exports);  // only when built with librbd

}  // namespace nexus

// Page-aligned shared memory for O_DIRECT buffers (DESIGN.md 3 "Data buffers", 10).
//
// allocAlignedShared(bytes) maps anonymous shared memory and wraps it in a
// SharedArrayBuffer through the V8 API (Node-API in Node 20 cannot create or
// read SharedArrayBuffers). The deleter munmaps when the last holder, in any
// thread the SAB was posted to, lets go.
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

namespace nexus {

namespace {

void Unmap(void* data, size_t length, void* deleter_data) {
  size_t mapped = reinterpret_cast<size_t>(deleter_data);
  if (data != nullptr && mapped > 0) munmap(data, mapped);
  (void)length;
}

Napi::Value AllocAlignedShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowType(env, "allocAlignedShared: bytes must be a number");
  double d = info[0].As<Napi::Number>().DoubleValue();
  // V8's limit for one backing store; anything larger is a bug in the caller.
  if (!(d > 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    Napi::RangeError e = Napi::RangeError::New(env, "allocAlignedShared: bytes must be a positive integer");
    e.Set("code", "ERR_OUT_OF_RANGE");
    throw e;
  }
  size_t bytes = static_cast<size_t>(d);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t mapped = (bytes + page - 1) / page * page;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return ErrorValue(env, errno);

  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      p, bytes, Unmap, reinterpret_cast<void*>(mapped));
  v8::Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(isolate, std::move(store));
  return Napi::Value(env, FromV8(sab));
}

// addressOf(view | buffer): the first byte's address as a bigint, for alignment
// checks in tests and for diagnostics. Never dereferenced by JS.
Napi::Value AddressOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes bytes;
  if (info.Length() < 1 || !GetBytes(info[0], &bytes)) {
    ThrowType(env, "addressOf: argument must be an ArrayBufferView or (Shared)ArrayBuffer");
  }
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(bytes.data)));
}

}  // namespace

void InitSharedMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("allocAlignedShared", Napi::Function::New(env, AllocAlignedShared, "allocAlignedShared"));
  exports.Set("addressOf", Napi::Function::New(env, AddressOf, "addressOf"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
}

}  // namespace nexus

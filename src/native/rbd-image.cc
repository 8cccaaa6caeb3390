// A Ceph RBD image through librbd's asynchronous C API, for the rbd backstore (DESIGN.md 8b):
//
//   openRbdImage({ pool, image, cephConf?, cephUser?, keyring?, readOnly?,
//                  connectTimeoutMs?, opTimeoutMs? }, cb)        // cb(RbdImage | { errno, message })
//   img.submit({ op, offset, length?, data?, compare?, fua? }, cb)  // cb({ res } | { errno, message })
//     op: 'read' | 'write' | 'discard' | 'writeZeroes' | 'writeSame' | 'flush' | 'compareAndWrite'
//     compareAndWrite: librbd's own, one 512-byte sector at most (the backstore uses it only to make
//     librbd copy a clone's object up); cb({ res }) on a match, { errno: 'EILSEQ', mismatch } else
//   img.compareAndWriteObject({ object, offset, compare, data, fua?, mustExist? }, cb)
//                                   // one RADOS op { cmpext, write } on a data object: cb({ res }) on a
//                                   // match, { errno: 'EILSEQ', mismatch } (from the range's start) on
//                                   // a miscompare, { errno: 'ENOENT' } when mustExist and it does not
//   img.diff(offset, length, cb)    // cb([offset, length, offset, length, ...] | { errno }): allocated extents
//   img.resize(bytes, cb)           // cb(undefined | { errno })
//   img.onUpdate(fn)                // fn() on the event loop when the image header changed (a resize)
//   img.updateFeatures(mask, enabled, cb)  // cb(undefined | { errno }): rbd_update_features
//   img.stat()                      // { size, objectSize, features, blockNamePrefix, id, stripeUnit,
//                                   //   stripeCount, parentOverlap, clientAddrs } (cached header, no I/O)
//   img.inFlight; img.close(cb)     // close waits for nothing: the caller drains first
//
// Completions: librbd completes aio on its own threads. The image is told to announce them on an
// eventfd (rbd_set_image_notification) that a uv_poll watches on the calling thread's own loop;
// when it turns readable every finished completion is collected with rbd_poll_io_events and
// called back there. No thread per I/O and no thread of ours: the engine thread sees RBD
// completions as it sees sockets. Data goes straight from and into the caller's buffers (the
// buffer pool's slabs), pinned by their backing store until the completion.
//
// Two exceptions complete through librbd's callback, handed to the loop by a uv_async: compare-
// and-write (librbd 16.2 does not queue its completion for the eventfd) and header updates.
//
// Connecting, opening, closing, resizing, feature updates, diff_iterate and the data-object
// compare-and-write (two round trips: the header's snapshot context, then the op) block: they run
// on libuv's pool.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "rados-cluster.h"

namespace nexus {

namespace {

enum class OpKind { READ, WRITE, DISCARD, WRITE_ZEROES, WRITE_SAME, FLUSH, COMPARE_AND_WRITE };

class RbdImage;

struct Op {
  RbdImage* owner = nullptr;
  OpKind kind = OpKind::READ;
  rbd_completion_t c = nullptr;
  Napi::FunctionReference cb;
  Bytes data;
  Bytes compare;
  uint64_t mismatch = 0;
  ssize_t res = 0;
  int err = 0;  // refused before librbd saw it
  std::string message;
};

// The handles an open image needs; owned by RbdImage once opened.
struct Handles {
  rados_t cluster = nullptr;
  rados_ioctx_t io = nullptr;
  rbd_image_t image = nullptr;
  void Release() {
    if (image != nullptr) rbd_close(image);
    if (io != nullptr) rados_ioctx_destroy(io);
    if (cluster != nullptr) rados_shutdown(cluster);
    image = nullptr;
    io = nullptr;
    cluster = nullptr;
  }
};

struct OpenOptions {
  ClusterOptions cluster;
  std::string image;
  bool readOnly = false;
};

class RbdImage : public Napi::ObjectWrap<RbdImage> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RbdImage",
                       {InstanceMethod<&RbdImage::Submit>("submit"), InstanceMethod<&RbdImage::Diff>("diff"),
                        InstanceMethod<&RbdImage::Resize>("resize"), InstanceMethod<&RbdImage::OnUpdate>("onUpdate"),
                        InstanceMethod<&RbdImage::Stat>("stat"), InstanceMethod<&RbdImage::Close>("close"),
                        InstanceMethod<&RbdImage::CompareAndWriteObject>("compareAndWriteObject"),
                        InstanceMethod<&RbdImage::UpdateFeatures>("updateFeatures"),
                        InstanceAccessor<&RbdImage::GetInFlight>("inFlight")});
  }

  // Constructed only by the open worker with an External<Handles>.
  RbdImage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RbdImage>(info), async_(info.Env(), "nexus:RbdImage") {
    Napi::Env env = info.Env();
    env_ = env;
    Handles* h = info[0].As<Napi::External<Handles>>().Data();
    h_ = *h;
    *h = Handles();
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    efd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd_ < 0 || rbd_set_image_notification(h_.image, efd_, EVENT_TYPE_EVENTFD) < 0) {
      Napi::Error e = Napi::Error::New(env, "rbd: cannot set up the image's completion eventfd");
      e.Set("code", "ERR_RBD_NOTIFY");
      h_.Release();
      if (efd_ >= 0) close(efd_);
      efd_ = -1;
      throw e;
    }
    poll_ = new uv_poll_t();
    poll_->data = this;
    uv_poll_init(loop, poll_, efd_);
    uv_poll_start(poll_, UV_READABLE, OnReadable);
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    kick_ = new uv_async_t();
    kick_->data = this;
    uv_async_init(loop, kick_, OnKick);
    uv_unref(reinterpret_cast<uv_handle_t*>(kick_));
    if (rbd_update_watch(h_.image, &watch_, OnHeaderUpdate, this) == 0) watching_ = true;
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~RbdImage() override { Teardown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    RbdImage* self = static_cast<RbdImage*>(arg);
    self->hooked_ = false;
    self->Teardown();
  }

  Napi::Value GetInFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(outstanding_)); }

  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "submit: cb must be a function");
    if (!info[0].IsObject()) ThrowType(env, "submit: request must be an object");
    if (closed_) ThrowClosed(env, "rbd image is closed");
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value opv = o.Get("op");
    if (!opv.IsString()) ThrowType(env, "submit: request.op must be a string");
    std::string ops = opv.As<Napi::String>().Utf8Value();
    Op* op = new Op();
    op->owner = this;
    op->cb = Napi::Persistent(info[1].As<Napi::Function>());
    if (ops == "read") op->kind = OpKind::READ;
    else if (ops == "write") op->kind = OpKind::WRITE;
    else if (ops == "discard") op->kind = OpKind::DISCARD;
    else if (ops == "writeZeroes") op->kind = OpKind::WRITE_ZEROES;
    else if (ops == "writeSame") op->kind = OpKind::WRITE_SAME;
    else if (ops == "flush") op->kind = OpKind::FLUSH;
    else if (ops == "compareAndWrite") op->kind = OpKind::COMPARE_AND_WRITE;
    else {
      delete op;
      ThrowType(env, "submit: request.op must be read, write, discard, writeZeroes, writeSame, flush or compareAndWrite");
    }
    bool bad = false;
    int64_t offset = 0, length = 0;
    if (op->kind != OpKind::FLUSH) offset = GetOffset(env, o.Get("offset"), "request.offset", &bad);
    Napi::Value datav = o.Get("data");
    bool needData = op->kind == OpKind::READ || op->kind == OpKind::WRITE || op->kind == OpKind::WRITE_SAME ||
                    op->kind == OpKind::COMPARE_AND_WRITE;
    if (needData && !GetBytes(datav, &op->data)) {
      delete op;
      ThrowType(env, "submit: request.data must be a Uint8Array");
    }
    if (op->kind == OpKind::COMPARE_AND_WRITE && !GetBytes(o.Get("compare"), &op->compare)) {
      delete op;
      ThrowType(env, "submit: request.compare must be a Uint8Array");
    }
    if (op->kind == OpKind::DISCARD || op->kind == OpKind::WRITE_ZEROES || op->kind == OpKind::WRITE_SAME) {
      bool badLen = false;
      length = GetOffset(env, o.Get("length"), "request.length", &badLen);
      bad = bad || badLen;
    } else {
      length = static_cast<int64_t>(op->data.length);
    }
    bool fua = GetBoolOption(env, o, "fua", false);
    int flags = fua ? LIBRADOS_OP_FLAG_FADVISE_FUA : 0;
    if (bad) {
      op->err = EINVAL;
      op->message = "submit: offset and length must be non-negative integers";
    } else if (op->kind == OpKind::WRITE_SAME && (op->data.length == 0 || length % static_cast<int64_t>(op->data.length) != 0)) {
      op->err = EINVAL;
      op->message = "submit: writeSame length must be a multiple of the pattern's";
    } else if (op->kind == OpKind::COMPARE_AND_WRITE && op->compare.length != op->data.length) {
      op->err = EINVAL;
      op->message = "submit: compareAndWrite compare and data must be the same length";
    }
    outstanding_++;
    if (outstanding_ == 1) {
      Ref();
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    }
    if (op->err != 0) {
      Refuse(op);
      return env.Undefined();
    }
    // Compare-and-write completes through its callback only (see the top of this file).
    rbd_callback_t cbfn = op->kind == OpKind::COMPARE_AND_WRITE ? OnCallbackCompletion : nullptr;
    int r = rbd_aio_create_completion(op, cbfn, &op->c);
    if (r < 0) {
      op->err = -r;
      Refuse(op);
      return env.Undefined();
    }
    uint64_t off = static_cast<uint64_t>(offset);
    size_t len = static_cast<size_t>(length);
    char* buf = reinterpret_cast<char*>(op->data.data);
    switch (op->kind) {
      case OpKind::READ: r = rbd_aio_read2(h_.image, off, len, buf, op->c, 0); break;
      case OpKind::WRITE: r = rbd_aio_write2(h_.image, off, len, buf, op->c, flags); break;
      case OpKind::DISCARD: r = rbd_aio_discard(h_.image, off, len, op->c); break;
      case OpKind::WRITE_ZEROES: r = rbd_aio_write_zeroes(h_.image, off, len, op->c, 0, flags); break;
      case OpKind::WRITE_SAME: r = rbd_aio_writesame(h_.image, off, len, buf, op->data.length, op->c, flags); break;
      case OpKind::FLUSH: r = rbd_aio_flush(h_.image, op->c); break;
      case OpKind::COMPARE_AND_WRITE:
        r = static_cast<int>(rbd_aio_compare_and_write(h_.image, off, len, reinterpret_cast<char*>(op->compare.data), buf,
                                                       op->c, &op->mismatch, flags));
        break;
    }
    if (r < 0) {
      rbd_aio_release(op->c);
      op->c = nullptr;
      op->err = -r;
      Refuse(op);
    }
    return env.Undefined();
  }

  // A request librbd never saw: called back from the loop, never from inside submit().
  void Refuse(Op* op) {
    {
      std::lock_guard<std::mutex> g(lock_);
      callbackDone_.push_back(op);
    }
    uv_async_send(kick_);
  }

  static void OnCallbackCompletion(rbd_completion_t c, void* arg) {
    Op* op = static_cast<Op*>(arg);
    RbdImage* self = op->owner;
    op->res = rbd_aio_get_return_value(c);
    {
      std::lock_guard<std::mutex> g(self->lock_);
      self->callbackDone_.push_back(op);
    }
    uv_async_send(self->kick_);
  }

  static void OnHeaderUpdate(void* arg) {
    RbdImage* self = static_cast<RbdImage*>(arg);
    self->headerChanged_.store(true);
    uv_async_send(self->kick_);
  }

  static void OnKick(uv_async_t* a) {
    RbdImage* self = static_cast<RbdImage*>(a->data);
    if (self == nullptr) return;
    std::vector<Op*> done;
    {
      std::lock_guard<std::mutex> g(self->lock_);
      done.swap(self->callbackDone_);
    }
    self->Deliver(done);
    if (self->headerChanged_.exchange(false) && !self->update_.IsEmpty() && !self->tornDown_) {
      Napi::HandleScope scope(self->env_);
      DeliverCompletion(self->env_, self->async_, self->Value(), self->update_.Value(), self->env_.Undefined());
    }
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    RbdImage* self = static_cast<RbdImage*>(handle->data);
    if (self == nullptr) return;
    uint64_t count;
    while (read(self->efd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
    }
    std::vector<Op*> done;
    rbd_completion_t comps[64];
    for (;;) {
      int n = rbd_poll_io_events(self->h_.image, comps, 64);
      if (n <= 0) break;
      for (int i = 0; i < n; i++) {
        Op* op = static_cast<Op*>(rbd_aio_get_arg(comps[i]));
        op->res = rbd_aio_get_return_value(comps[i]);
        done.push_back(op);
      }
      if (n < 64) break;
    }
    self->Deliver(done);
  }

  void Deliver(std::vector<Op*>& done) {
    if (done.empty()) return;
    Napi::Env env = env_;
    Napi::HandleScope outer(env);
    for (Op* raw : done) {
      std::unique_ptr<Op> op(raw);
      if (op->c != nullptr) rbd_aio_release(op->c);
      op->c = nullptr;
      outstanding_--;
      if (tornDown_) continue;
      try {
        Napi::HandleScope scope(env);
        Napi::Object out;
        if (op->err != 0) {
          out = op->message.empty() ? ErrorValue(env, op->err) : ErrorValue(env, op->err, op->message);
        } else if (op->res < 0) {
          int e = static_cast<int>(-op->res);
          out = ErrorValue(env, e);
          // librbd reports a miscompare as -EILSEQ with the mismatching byte's offset.
          if (op->kind == OpKind::COMPARE_AND_WRITE && e == EILSEQ) out.Set("mismatch", static_cast<double>(op->mismatch));
        } else {
          out = Napi::Object::New(env);
          out.Set("res", static_cast<double>(op->res));
        }
        op->data.store.reset();
        op->compare.store.reset();
        DeliverCompletion(env, async_, Value(), op->cb.Value(), out);
      } catch (const Napi::Error&) {
        // Only reachable when the env is going away.
      }
    }
    // A callback may have closed the image (close() from a continuation run at the end of the
    // callback scope), which closed poll_ too.
    if (outstanding_ == 0 && !tornDown_) {
      if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      Unref();
    }
  }

  // compareAndWriteObject: the rbd backstore's COMPARE AND WRITE on one data object (rbd.ts says
  // why it is atomic against every client). The write carries the image's current snapshot
  // context, read from the header as librbd reads it (cls rbd get_snapcontext), so that the OSD
  // keeps a snapshot's copy of the object as it does for librbd's own writes. A private I/O
  // context per request: the snapshot context is per context, and requests run in parallel.
  class ObjectCompareAndWriteWork : public Napi::AsyncWorker {
   public:
    ObjectCompareAndWriteWork(Napi::Function cb, rados_t cluster, rados_ioctx_t headerIo, int64_t dataPool,
                              std::string ns, std::string header, std::string object, uint64_t offset, Bytes compare,
                              Bytes data, bool fua, bool mustExist)
        : Napi::AsyncWorker(cb, "nexus:rbdObjectCompareAndWrite"), cluster_(cluster), headerIo_(headerIo),
          dataPool_(dataPool), ns_(std::move(ns)), header_(std::move(header)), object_(std::move(object)),
          offset_(offset), compare_(std::move(compare)), data_(std::move(data)), fua_(fua), mustExist_(mustExist) {}

    void Execute() override {
      std::vector<uint64_t> snaps;
      uint64_t seq = 0;
      int r = SnapContext(&seq, &snaps);
      if (r < 0) return Fail(-r, "reading the snapshot context of " + header_);
      rados_ioctx_t io = nullptr;
      r = rados_ioctx_create2(cluster_, dataPool_, &io);
      if (r < 0) return Fail(-r, "opening the image's data pool");
      rados_ioctx_set_namespace(io, ns_.empty() ? nullptr : ns_.c_str());
      r = rados_ioctx_selfmanaged_snap_set_write_ctx(io, seq, reinterpret_cast<rados_snap_t*>(snaps.data()),
                                                     static_cast<int>(snaps.size()));
      if (r < 0) {
        rados_ioctx_destroy(io);
        return Fail(-r, "setting the snapshot context");
      }
      rados_write_op_t op = rados_create_write_op();
      if (mustExist_) rados_write_op_assert_exists(op);
      int cmpval = 0;
      rados_write_op_cmpext(op, reinterpret_cast<const char*>(compare_.data), compare_.length, offset_, &cmpval);
      rados_write_op_write(op, reinterpret_cast<const char*>(data_.data), data_.length, offset_);
      if (fua_) rados_write_op_set_flags(op, LIBRADOS_OP_FLAG_FADVISE_FUA);
      r = rados_write_op_operate(op, io, object_.c_str(), nullptr, 0);
      rados_release_write_op(op);
      rados_ioctx_destroy(io);
      // librados: a miscompare is -MAX_ERRNO (4095) - the offset of the first differing byte from
      // the start of the compared extent, in the cmpext's return value and as the op's result.
      int miscompare = cmpval <= -kMaxErrno ? cmpval : (r <= -kMaxErrno ? r : 0);
      if (miscompare != 0) {
        mismatch_ = static_cast<uint64_t>(-static_cast<int64_t>(miscompare) - kMaxErrno);
        err_ = EILSEQ;
        return;
      }
      if (r < 0) return Fail(-r, "compare and write on " + object_);
    }

    void OnOK() override {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      compare_.store.reset();
      data_.store.reset();
      Napi::Object out;
      if (err_ == EILSEQ) {
        out = ErrorValue(env, err_, "miscompare");
        out.Set("mismatch", static_cast<double>(mismatch_));
      } else if (err_ != 0) {
        out = ErrorValue(env, err_, message_);
      } else {
        out = Napi::Object::New(env);
        out.Set("res", 0);
      }
      Callback().MakeCallback(Receiver().Value(), {out});
    }

   private:
    static constexpr int kMaxErrno = 4095;

    void Fail(int err, const std::string& what) {
      err_ = err;
      message_ = what + ": " + std::strerror(err);
    }

    // The header's SnapContext (encoded: u64 seq, u32 n, n x u64 ids, newest first).
    int SnapContext(uint64_t* seq, std::vector<uint64_t>* snaps) {
      std::vector<char> out(64 * 1024);
      int r = rados_exec(headerIo_, header_.c_str(), "rbd", "get_snapcontext", nullptr, 0, out.data(), out.size());
      if (r == -ERANGE) {
        out.resize(8 * 1024 * 1024);
        r = rados_exec(headerIo_, header_.c_str(), "rbd", "get_snapcontext", nullptr, 0, out.data(), out.size());
      }
      if (r < 0) return r;
      size_t n = static_cast<size_t>(r);
      if (n < 12) return -EBADMSG;
      uint32_t count = 0;
      std::memcpy(seq, out.data(), 8);
      std::memcpy(&count, out.data() + 8, 4);
      if (n < 12 + static_cast<size_t>(count) * 8) return -EBADMSG;
      snaps->resize(count);
      if (count > 0) std::memcpy(snaps->data(), out.data() + 12, static_cast<size_t>(count) * 8);
      return 0;
    }

    rados_t cluster_;
    rados_ioctx_t headerIo_;
    int64_t dataPool_;
    std::string ns_, header_, object_;
    uint64_t offset_;
    Bytes compare_, data_;
    bool fua_, mustExist_;
    uint64_t mismatch_ = 0;
    int err_ = 0;
    std::string message_;
  };

  Napi::Value CompareAndWriteObject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      ThrowType(env, "compareAndWriteObject(request, cb): request must be an object and cb a function");
    }
    if (closed_) ThrowClosed(env, "rbd image is closed");
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value objv = o.Get("object");
    if (!objv.IsString()) ThrowType(env, "compareAndWriteObject: request.object must be a string");
    Bytes compare, data;
    if (!GetBytes(o.Get("compare"), &compare) || !GetBytes(o.Get("data"), &data)) {
      ThrowType(env, "compareAndWriteObject: request.compare and request.data must be Uint8Arrays");
    }
    bool bad = false;
    int64_t offset = GetOffset(env, o.Get("offset"), "request.offset", &bad);
    if (bad || compare.length != data.length || data.length == 0) {
      ThrowType(env, "compareAndWriteObject: offset must be a non-negative integer, compare and data of one non-zero length");
    }
    char id[RBD_MAX_BLOCK_NAME_SIZE] = {0};
    int r = rbd_get_id(h_.image, id, sizeof id);
    int64_t pool = rbd_get_data_pool_id(h_.image);
    char ns[256] = {0};
    int nr = rados_ioctx_get_namespace(h_.io, ns, sizeof ns);
    Napi::Function cb = info[1].As<Napi::Function>();
    if (r < 0 || pool < 0 || nr < 0) {
      int e = r < 0 ? -r : pool < 0 ? static_cast<int>(-pool) : -nr;
      cb.Call({ErrorValue(env, e, "compareAndWriteObject: the image's id, data pool or namespace")});
      return env.Undefined();
    }
    (new ObjectCompareAndWriteWork(cb, h_.cluster, h_.io, pool, ns, std::string("rbd_header.") + id,
                                   objv.As<Napi::String>().Utf8Value(), static_cast<uint64_t>(offset), std::move(compare),
                                   std::move(data), GetBoolOption(env, o, "fua", false),
                                   GetBoolOption(env, o, "mustExist", false)))
        ->Queue();
    return env.Undefined();
  }

  class UpdateFeaturesWork : public Napi::AsyncWorker {
   public:
    UpdateFeaturesWork(Napi::Function cb, rbd_image_t image, uint64_t mask, bool enabled)
        : Napi::AsyncWorker(cb, "nexus:rbdUpdateFeatures"), image_(image), mask_(mask), enabled_(enabled) {}
    void Execute() override {
      int r = rbd_update_features(image_, mask_, enabled_ ? 1 : 0);
      if (r < 0) err_ = -r;
    }
    void OnOK() override {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      Callback().MakeCallback(Receiver().Value(), {err_ != 0 ? Napi::Value(ErrorValue(env, err_)) : env.Undefined()});
    }

   private:
    rbd_image_t image_;
    uint64_t mask_;
    bool enabled_;
    int err_ = 0;
  };

  Napi::Value UpdateFeatures(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsBigInt() || !info[1].IsBoolean() || !info[2].IsFunction()) {
      ThrowType(env, "updateFeatures(mask: bigint, enabled: boolean, cb)");
    }
    if (closed_) ThrowClosed(env, "rbd image is closed");
    bool lossless = false;
    uint64_t mask = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
    (new UpdateFeaturesWork(info[2].As<Napi::Function>(), h_.image, mask, info[1].As<Napi::Boolean>().Value()))->Queue();
    return env.Undefined();
  }

  // diff(offset, length, cb): allocated extents in [offset, offset + length), on the pool.
  class DiffWork : public Napi::AsyncWorker {
   public:
    DiffWork(Napi::Function cb, rbd_image_t image, uint64_t off, uint64_t len)
        : Napi::AsyncWorker(cb, "nexus:rbdDiff"), image_(image), off_(off), len_(len) {}
    static int Extent(uint64_t off, size_t len, int exists, void* arg) {
      auto* v = static_cast<std::vector<uint64_t>*>(arg);
      if (!exists) return 0;
      if (!v->empty() && v->back() + (*v)[v->size() - 2] == off) {
        v->back() += len;  // adjacent: one run
      } else {
        v->push_back(off);
        v->push_back(len);
      }
      return 0;
    }
    void Execute() override {
      // include_parent 1: a clone's blocks that come from its parent are allocated for the reader.
      int r = rbd_diff_iterate2(image_, nullptr, off_, len_, 1, 0, Extent, &extents_);
      if (r < 0) err_ = -r;
    }
    void OnOK() override {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      if (err_ != 0) {
        Callback().MakeCallback(Receiver().Value(), {ErrorValue(env, err_)});
        return;
      }
      Napi::Array a = Napi::Array::New(env, extents_.size());
      for (size_t i = 0; i < extents_.size(); i++) a.Set(i, static_cast<double>(extents_[i]));
      Callback().MakeCallback(Receiver().Value(), {a});
    }

   private:
    rbd_image_t image_;
    uint64_t off_, len_;
    std::vector<uint64_t> extents_;
    int err_ = 0;
  };

  Napi::Value Diff(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[2].IsFunction()) ThrowType(env, "diff: cb must be a function");
    if (closed_) ThrowClosed(env, "rbd image is closed");
    bool bad1 = false, bad2 = false;
    int64_t off = GetOffset(env, info[0], "offset", &bad1);
    int64_t len = GetOffset(env, info[1], "length", &bad2);
    if (bad1 || bad2) ThrowType(env, "diff: offset and length must be non-negative integers");
    (new DiffWork(info[2].As<Napi::Function>(), h_.image, static_cast<uint64_t>(off), static_cast<uint64_t>(len)))->Queue();
    return env.Undefined();
  }

  class ResizeWork : public Napi::AsyncWorker {
   public:
    ResizeWork(Napi::Function cb, rbd_image_t image, uint64_t size)
        : Napi::AsyncWorker(cb, "nexus:rbdResize"), image_(image), size_(size) {}
    void Execute() override {
      int r = rbd_resize2(image_, size_, true, nullptr, nullptr);
      if (r < 0) err_ = -r;
    }
    void OnOK() override {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      Callback().MakeCallback(Receiver().Value(), {err_ != 0 ? Napi::Value(ErrorValue(env, err_)) : env.Undefined()});
    }

   private:
    rbd_image_t image_;
    uint64_t size_;
    int err_ = 0;
  };

  Napi::Value Resize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "resize: cb must be a function");
    if (closed_) ThrowClosed(env, "rbd image is closed");
    bool bad = false;
    int64_t size = GetOffset(env, info[0], "size", &bad);
    if (bad) ThrowType(env, "resize: size must be a non-negative integer");
    (new ResizeWork(info[1].As<Napi::Function>(), h_.image, static_cast<uint64_t>(size)))->Queue();
    return env.Undefined();
  }

  Napi::Value OnUpdate(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsFunction()) ThrowType(info.Env(), "onUpdate: fn must be a function");
    update_ = Napi::Persistent(info[0].As<Napi::Function>());
    return info.Env().Undefined();
  }

  Napi::Value Stat(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowClosed(env, "rbd image is closed");
    rbd_image_info_t st;
    int r = rbd_stat(h_.image, &st, sizeof st);
    if (r < 0) return ErrorValue(env, -r);
    uint64_t features = 0;
    rbd_get_features(h_.image, &features);
    char prefix[RBD_MAX_BLOCK_NAME_SIZE] = {0};
    rbd_get_block_name_prefix(h_.image, prefix, sizeof prefix);
    Napi::Object o = Napi::Object::New(env);
    o.Set("size", Napi::BigInt::New(env, st.size));
    o.Set("objectSize", static_cast<double>(st.obj_size));
    o.Set("features", Napi::BigInt::New(env, features));
    o.Set("blockNamePrefix", prefix);
    char id[RBD_MAX_BLOCK_NAME_SIZE] = {0};
    o.Set("id", rbd_get_id(h_.image, id, sizeof id) == 0 ? id : "");
    uint64_t unit = 0, count = 0, overlap = 0;
    rbd_get_stripe_unit(h_.image, &unit);
    rbd_get_stripe_count(h_.image, &count);
    // ENOENT: no parent.
    if (rbd_get_overlap(h_.image, &overlap) < 0) overlap = 0;
    o.Set("stripeUnit", static_cast<double>(unit));
    o.Set("stripeCount", static_cast<double>(count));
    o.Set("parentOverlap", static_cast<double>(overlap));
    // The session's addresses, as `ceph osd blocklist add` takes them: what fences this client.
    char* addrs = nullptr;
    if (rados_getaddrs(h_.cluster, &addrs) == 0 && addrs != nullptr) {
      o.Set("clientAddrs", addrs);
      free(addrs);
    }
    return o;
  }

  // close(cb): the caller has drained its requests; closing the image and the cluster handle
  // (which waits for librbd's own threads) runs on the pool.
  class CloseWork : public Napi::AsyncWorker {
   public:
    CloseWork(Napi::Function cb, Handles h) : Napi::AsyncWorker(cb, "nexus:rbdClose"), h_(h) {}
    void Execute() override { h_.Release(); }
    void OnOK() override { Callback().MakeCallback(Receiver().Value(), {Env().Undefined()}); }

   private:
    Handles h_;
  };

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) ThrowType(env, "close: cb must be a function");
    if (closed_) ThrowClosed(env, "rbd image is closed");
    if (outstanding_ != 0) {
      Napi::Error e = Napi::Error::New(env, "rbd image: close with requests in flight");
      e.Set("code", "ERR_RBD_BUSY");
      throw e;
    }
    closed_ = true;
    StopWatching();
    Handles h = h_;
    h_ = Handles();
    CloseLoopHandles();
    (new CloseWork(info[0].As<Napi::Function>(), h))->Queue();
    return env.Undefined();
  }

  void StopWatching() {
    if (watching_ && h_.image != nullptr) rbd_update_unwatch(h_.image, watch_);
    watching_ = false;
  }

  void CloseLoopHandles() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (kick_ != nullptr) {
      kick_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(kick_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      kick_ = nullptr;
    }
    if (efd_ >= 0) {
      close(efd_);
      efd_ = -1;
    }
  }

  // The env is going away (a worker thread ends) or the object was collected: close at once.
  // rbd_close waits for librbd's in-flight requests; their records are then dropped unanswered.
  void Teardown() {
    if (tornDown_) return;
    tornDown_ = true;
    closed_ = true;
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    StopWatching();
    h_.Release();
    CloseLoopHandles();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Napi::AsyncContext async_;
  Handles h_;
  int efd_ = -1;
  uv_poll_t* poll_ = nullptr;
  uv_async_t* kick_ = nullptr;
  uint64_t watch_ = 0;
  bool watching_ = false;
  std::atomic<bool> headerChanged_{false};
  Napi::FunctionReference update_;
  std::mutex lock_;
  std::vector<Op*> callbackDone_;
  size_t outstanding_ = 0;
  bool closed_ = false;
  bool tornDown_ = false;
  bool hooked_ = false;
};

struct AddonData {
  Napi::FunctionReference imageCtor;
};

// Connect and open on the pool: rados_connect waits up to client_mount_timeout for the monitors.
class OpenWork : public Napi::AsyncWorker {
 public:
  OpenWork(Napi::Function cb, AddonData* data, OpenOptions o)
      : Napi::AsyncWorker(cb, "nexus:rbdOpen"), data_(data), o_(std::move(o)) {}

  void Fail(int err, const std::string& what) {
    err_ = err;
    message_ = what + ": " + std::strerror(err);
    h_.Release();
  }

  void Execute() override {
    std::string what;
    // No client-side cache: a write acknowledged through one gateway must be what a read through
    // any other gateway returns (SAM-5 multipath), and FUA and SYNCHRONIZE CACHE then cost nothing.
    // UNMAP promises zeros on read (LBPRZ = 1): a discard that covers part of an object zeroes
    // that part rather than being skipped (librbd's default skips partial discards).
    int e = ConnectCluster(o_.cluster, {{"rbd_cache", "false"}, {"rbd_skip_partial_discard", "false"}}, &h_.cluster, &h_.io, &what);
    if (e != 0) return Fail(e, what);
    int r = o_.readOnly ? rbd_open_read_only(h_.io, o_.image.c_str(), &h_.image, nullptr)
                        : rbd_open(h_.io, o_.image.c_str(), &h_.image, nullptr);
    if (r < 0) return Fail(-r, "opening image " + o_.cluster.pool + "/" + o_.image);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) {
      Callback().MakeCallback(Receiver().Value(), {ErrorValue(env, err_, message_)});
      return;
    }
    Napi::Value img;
    try {
      img = data_->imageCtor.New({Napi::External<Handles>::New(env, &h_)});
    } catch (const Napi::Error& e) {
      Callback().MakeCallback(Receiver().Value(), {ErrorValue(env, EIO, e.Message())});
      return;
    }
    Callback().MakeCallback(Receiver().Value(), {img});
  }

  ~OpenWork() override { h_.Release(); }

 private:
  AddonData* data_;
  OpenOptions o_;
  Handles h_;
  int err_ = 0;
  std::string message_;
};

Napi::Value OpenRbdImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    ThrowType(env, "openRbdImage(options, cb): options must be an object and cb a function");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  OpenOptions opts;
  opts.cluster = ReadClusterOptions(env, o, "openRbdImage");
  opts.image = ClusterStringOption(env, o, "openRbdImage", "image", true);
  opts.readOnly = GetBoolOption(env, o, "readOnly", false);
  (new OpenWork(info[1].As<Napi::Function>(), data, std::move(opts)))->Queue();
  return env.Undefined();
}

}  // namespace

void InitRbdImage(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->imageCtor = Napi::Persistent(RbdImage::Define(env));
  napi_add_env_cleanup_hook(
      env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("openRbdImage", Napi::Function::New(env, OpenRbdImage, "openRbdImage", data));
  exports.Set("haveLibrbd", true);
}

}  // namespace nexus

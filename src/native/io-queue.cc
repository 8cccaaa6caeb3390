// Asynchronous block I/O queue (DESIGN.md 10: batched io_uring submission, no
// SQPOLL thread; thread-pool fallback where io_uring is refused).
//
//   const q = createIoQueue({ depth: 64, backend?: 'auto'|'io_uring'|'threads', threads?: 2 })
//   q.submit([{ op: 'read'|'write'|'fsync'|'fdatasync', fd, buf, offset, length? }, ...], cb)
//   cb(results)  // once per submit, results[i] = { res } or { res: -errno, errno: 'EIO' }
//   q.backend    // 'io_uring' | 'threads'
//   q.close()
//
// One submit() is one io_uring_submit() (requests beyond `depth` in flight wait
// in a software queue and go in with the next completion pass). Completions
// wake the calling thread's own loop through an eventfd watched by uv_poll: the
// ring signals it (io_uring_register_eventfd) or the fallback threads write it.
// No extra thread with io_uring; every queue belongs to the env that made it,
// so the addon works in worker_threads.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

#ifdef NEXUS_HAVE_LIBURING
#include <liburing.h>
#endif

namespace nexus {

namespace {

enum class Op : uint8_t { kRead, kWrite, kFsync, kFdatasync };

// Linux caps one read/write at MAX_RW_COUNT; a CQE's res is an int32.
constexpr int64_t kMaxIoLength = 0x7ffff000;

struct Batch;

struct Request {
  Op op;
  int fd;
  uint8_t* data;
  size_t length;
  int64_t offset;
  int32_t res;
  uint32_t index;
  Batch* batch;
};

struct Batch {
  Napi::FunctionReference cb;
  std::vector<Request> requests;
  std::vector<std::shared_ptr<v8::BackingStore>> stores;  // pin buffers until done
  uint32_t remaining;
};

// Heap-held so the uv_poll_t outlives the queue until uv_close's callback.
struct PollHandle {
  uv_poll_t poll;
  int efd;
};

void OnPollClosed(uv_handle_t* h) {
  PollHandle* p = reinterpret_cast<PollHandle*>(h);
  close(p->efd);
  delete p;
}

class IoQueue : public Napi::ObjectWrap<IoQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "IoQueue",
                       {InstanceMethod<&IoQueue::Submit>("submit"), InstanceMethod<&IoQueue::Close>("close"),
                        InstanceAccessor<&IoQueue::GetBackend>("backend"),
                        InstanceAccessor<&IoQueue::GetDepth>("depth"),
                        InstanceAccessor<&IoQueue::GetInFlight>("inFlight")});
  }

  IoQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IoQueue>(info), async_(info.Env(), "nexus:IoQueue") {
    Napi::Env env = info.Env();
    env_ = env;
    std::string want = "auto";
    uint32_t threads = 2;
    if (info.Length() >= 1 && !info[0].IsUndefined()) {
      if (!info[0].IsObject()) ThrowType(env, "createIoQueue: options must be an object");
      Napi::Object opts = info[0].As<Napi::Object>();
      Napi::Value d = opts.Get("depth");
      if (!d.IsUndefined()) {
        if (!d.IsNumber()) ThrowType(env, "createIoQueue: depth must be a number");
        double v = d.As<Napi::Number>().DoubleValue();
        if (!(v >= 1 && v <= 4096) || v != static_cast<double>(static_cast<int>(v))) {
          Napi::RangeError e = Napi::RangeError::New(env, "createIoQueue: depth must be an integer in 1..4096");
          e.Set("code", "ERR_OUT_OF_RANGE");
          throw e;
        }
        depth_ = static_cast<uint32_t>(v);
      }
      Napi::Value b = opts.Get("backend");
      if (!b.IsUndefined()) {
        if (!b.IsString()) ThrowType(env, "createIoQueue: backend must be a string");
        want = b.As<Napi::String>().Utf8Value();
        if (want != "auto" && want != "io_uring" && want != "threads") {
          ThrowType(env, "createIoQueue: backend must be 'auto', 'io_uring' or 'threads'");
        }
      }
      Napi::Value t = opts.Get("threads");
      if (!t.IsUndefined()) {
        if (!t.IsNumber()) ThrowType(env, "createIoQueue: threads must be a number");
        double v = t.As<Napi::Number>().DoubleValue();
        if (!(v >= 1 && v <= 64) || v != static_cast<double>(static_cast<int>(v))) {
          Napi::RangeError e = Napi::RangeError::New(env, "createIoQueue: threads must be an integer in 1..64");
          e.Set("code", "ERR_OUT_OF_RANGE");
          throw e;
        }
        threads = static_cast<uint32_t>(v);
      }
    }

    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) ThrowErrno(env, errno, "eventfd");

    bool haveRing = false;
#ifdef NEXUS_HAVE_LIBURING
    if (want != "threads") {
      int r = io_uring_queue_init(depth_, &ring_, 0);
      if (r == 0) {
        r = io_uring_register_eventfd(&ring_, efd);
        if (r == 0) {
          haveRing = true;
        } else {
          io_uring_queue_exit(&ring_);
        }
      }
      if (!haveRing) initError_ = -r;
    }
#else
    initError_ = ENOSYS;
#endif
    if (!haveRing && want == "io_uring") {
      close(efd);
      ThrowErrno(env, initError_, "io_uring_queue_init");
    }
    uring_ = haveRing;

    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new PollHandle();
    poll_->efd = efd;
    poll_->poll.data = this;
    uv_poll_init(loop, &poll_->poll, efd);
    uv_poll_start(&poll_->poll, UV_READABLE, OnReadable);
    uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->poll));

    if (!uring_) {
      for (uint32_t i = 0; i < threads; i++) workers_.emplace_back([this] { WorkerLoop(); });
    }
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~IoQueue() override { Teardown(); }

 private:
  [[noreturn]] static void ThrowErrno(Napi::Env env, int err, const char* what) {
    Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + std::strerror(err));
    e.Set("code", "ERR_NATIVE_IO_QUEUE");
    e.Set("errno", ErrnoName(err));
    throw e;
  }

  static void OnEnvCleanup(void* arg) {
    IoQueue* q = static_cast<IoQueue*>(arg);
    q->hooked_ = false;  // the hook is being consumed; do not remove it again
    q->Teardown();
  }

  Napi::Value GetBackend(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), uring_ ? "io_uring" : "threads");
  }
  Napi::Value GetDepth(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), depth_); }
  Napi::Value GetInFlight(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(outstandingRequests_));
  }

  // Parses one request object. Wrong JS types throw TypeError; wrong values
  // (negative offset, length past buf, bad fd number) complete the request
  // with -EINVAL / -EBADF without reaching the kernel.
  void ParseRequest(Napi::Env env, Napi::Value v, Batch* batch, uint32_t index) {
    Request& r = batch->requests[index];
    r.index = index;
    r.batch = batch;
    r.res = 1;  // 1 = not yet failed; replaced by the outcome
    r.data = nullptr;
    r.length = 0;
    r.offset = 0;
    if (!v.IsObject()) ThrowType(env, "submit: every request must be an object");
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value opv = o.Get("op");
    if (!opv.IsString()) ThrowType(env, "submit: request.op must be a string");
    std::string op = opv.As<Napi::String>().Utf8Value();
    if (op == "read") {
      r.op = Op::kRead;
    } else if (op == "write") {
      r.op = Op::kWrite;
    } else if (op == "fsync") {
      r.op = Op::kFsync;
    } else if (op == "fdatasync") {
      r.op = Op::kFdatasync;
    } else {
      ThrowType(env, "submit: request.op must be 'read', 'write', 'fsync' or 'fdatasync'");
    }
    bool badFd;
    r.fd = GetFd(env, o.Get("fd"), "submit: request.fd", &badFd);
    if (r.op == Op::kRead || r.op == Op::kWrite) {
      Bytes bytes;
      if (!GetBytes(o.Get("buf"), &bytes)) ThrowType(env, "submit: request.buf must be an ArrayBufferView");
      bool badOff = false, badLen = false;
      Napi::Value offv = o.Get("offset");
      r.offset = offv.IsUndefined() ? 0 : GetOffset(env, offv, "submit: request.offset", &badOff);
      Napi::Value lenv = o.Get("length");
      int64_t len = lenv.IsUndefined() ? static_cast<int64_t>(bytes.length)
                                       : GetOffset(env, lenv, "submit: request.length", &badLen);
      r.data = bytes.data;
      batch->stores.push_back(std::move(bytes.store));
      if (badFd) {
        r.res = -EBADF;
      } else if (badOff || badLen || static_cast<uint64_t>(len) > bytes.length || len > kMaxIoLength) {
        r.res = -EINVAL;
      } else {
        r.length = static_cast<size_t>(len);
      }
    } else if (badFd) {
      r.res = -EBADF;
    }
  }

  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) ThrowType(env, "submit: requests must be an array");
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "submit: cb must be a function");
    if (closing_) ThrowClosed(env, "submit: queue is closed");
    Napi::Array arr = info[0].As<Napi::Array>();
    uint32_t n = arr.Length();
    std::unique_ptr<Batch> batch(new Batch());
    batch->requests.resize(n);
    batch->stores.reserve(n);
    for (uint32_t i = 0; i < n; i++) ParseRequest(env, arr.Get(i), batch.get(), i);
    batch->cb = Napi::Persistent(info[1].As<Napi::Function>());
    batch->remaining = n;

    Batch* b = batch.release();
    if (outstandingBatches_++ == 0) {
      Ref();  // keep the JS object alive while the kernel or a thread holds work
      uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
    }
    std::vector<Request*> go;
    go.reserve(n);
    for (Request& r : b->requests) {
      if (r.res == 1) {
        go.push_back(&r);
      } else {
        Finish(&r);
      }
    }
    if (n == 0) ready_.push_back(b);
    // Calls back asynchronously even when nothing reached the kernel.
    if (b->remaining == 0) Kick();
    if (!go.empty()) Start(go);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closing_ = true;
    if (outstandingBatches_ == 0 && !delivering_) Teardown();
    return info.Env().Undefined();
  }

  // Wake our own loop: a completion pass runs on the next tick of uv_poll.
  void Kick() {
    uint64_t one = 1;
    ssize_t w = write(poll_->efd, &one, sizeof one);
    (void)w;
  }

  void Finish(Request* r) {
    Batch* b = r->batch;
    if (--b->remaining == 0) ready_.push_back(b);
  }

  void Start(std::vector<Request*>& reqs) {
    outstandingRequests_ += reqs.size();
#ifdef NEXUS_HAVE_LIBURING
    if (uring_) {
      for (Request* r : reqs) pending_.push_back(r);
      Pump();
      return;
    }
#endif
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Request* r : reqs) todo_.push_back(r);
    }
    cv_.notify_all();
  }

#ifdef NEXUS_HAVE_LIBURING
  // Moves software-queued requests into the SQ, up to depth in flight, and
  // submits them with a single io_uring_submit().
  void Pump() {
    unsigned added = 0;
    while (!pending_.empty() && ringInFlight_ < depth_) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) break;
      Request* r = pending_.front();
      pending_.pop_front();
      switch (r->op) {
        case Op::kRead:
          io_uring_prep_read(sqe, r->fd, r->data, static_cast<unsigned>(r->length), static_cast<uint64_t>(r->offset));
          break;
        case Op::kWrite:
          io_uring_prep_write(sqe, r->fd, r->data, static_cast<unsigned>(r->length), static_cast<uint64_t>(r->offset));
          break;
        case Op::kFsync:
          io_uring_prep_fsync(sqe, r->fd, 0);
          break;
        case Op::kFdatasync:
          io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
          break;
      }
      io_uring_sqe_set_data(sqe, r);
      ringInFlight_++;
      added++;
    }
    if (added > 0 || io_uring_sq_ready(&ring_) > 0) {
      int s = io_uring_submit(&ring_);
      // -EAGAIN / -EBUSY: the kernel is short of resources; the SQEs stay in
      // the SQ and go in with the next pass (there is at least one in flight).
      (void)s;
    }
  }

  void ReapRing() {
    io_uring_cqe* cqe;
    unsigned head, count = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      Request* r = static_cast<Request*>(io_uring_cqe_get_data(cqe));
      r->res = cqe->res;
      ringInFlight_--;
      outstandingRequests_--;
      Finish(r);
      count++;
    }
    io_uring_cq_advance(&ring_, count);
  }
#endif

  static int32_t RunBlocking(const Request* r) {
    ssize_t n;
    switch (r->op) {
      case Op::kRead:
        do n = pread(r->fd, r->data, r->length, r->offset);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : static_cast<int32_t>(n);
      case Op::kWrite:
        do n = pwrite(r->fd, r->data, r->length, r->offset);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : static_cast<int32_t>(n);
      case Op::kFsync:
        return fsync(r->fd) < 0 ? -errno : 0;
      case Op::kFdatasync:
        return fdatasync(r->fd) < 0 ? -errno : 0;
    }
    return -EINVAL;
  }

  void WorkerLoop() {
    for (;;) {
      Request* r;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !todo_.empty(); });
        if (stop_) return;
        r = todo_.front();
        todo_.pop_front();
        busy_++;
      }
      r->res = RunBlocking(r);
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(r);
        busy_--;
      }
      uint64_t one = 1;
      ssize_t w = write(poll_->efd, &one, sizeof one);
      (void)w;
      idle_.notify_all();
    }
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    (void)status;
    (void)events;
    static_cast<IoQueue*>(handle->data)->Drain();
  }

  void Drain() {
    uint64_t counter;
    ssize_t rd = read(poll_->efd, &counter, sizeof counter);  // reset; EAGAIN is fine
    (void)rd;
#ifdef NEXUS_HAVE_LIBURING
    if (uring_) {
      ReapRing();
      Pump();
    }
#endif
    if (!uring_) {
      std::vector<Request*> done;
      {
        std::lock_guard<std::mutex> lock(mu_);
        done.swap(done_);
      }
      for (Request* r : done) {
        outstandingRequests_--;
        Finish(r);
      }
    }
    Deliver();
  }

  void Deliver() {
    if (ready_.empty()) return;
    std::vector<Batch*> ready;
    ready.swap(ready_);
    delivering_ = true;
    Napi::Env env = env_;
    Napi::HandleScope outer(env);
    for (Batch* b : ready) {
      std::unique_ptr<Batch> owned(b);
      b->stores.clear();
      outstandingBatches_--;
      // Node-API calls can fail while a worker is being terminated: no C++
      // exception may leave this libuv callback, and nothing is reported then.
      try {
        Napi::HandleScope scope(env);
        Napi::Array results = Napi::Array::New(env, b->requests.size());
        for (size_t i = 0; i < b->requests.size(); i++) {
          Napi::Object o = Napi::Object::New(env);
          int32_t res = b->requests[i].res;
          o.Set("res", res);
          if (res < 0) o.Set("errno", ErrnoName(-res));
          results.Set(static_cast<uint32_t>(i), o);
        }
        DeliverCompletion(env, async_, Value(), b->cb.Value(), results);
      } catch (const Napi::Error&) {
        // Only reachable when the env is going away.
      }
    }
    delivering_ = false;
    if (outstandingBatches_ == 0) {
      if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
      if (closing_) {
        Teardown();
      }
      Unref();
    }
  }

  // Waits for every request the kernel or a thread holds (they write into JS
  // memory), then releases the ring, the threads and the poll handle.
  void Teardown() {
    if (tornDown_) return;
    tornDown_ = true;
    closing_ = true;
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
#ifdef NEXUS_HAVE_LIBURING
    if (uring_) {
      pending_.clear();
      while (ringInFlight_ > 0) {
        io_uring_cqe* cqe;
        if (io_uring_wait_cqe(&ring_, &cqe) != 0) break;
        io_uring_cqe_seen(&ring_, cqe);
        ringInFlight_--;
      }
      io_uring_queue_exit(&ring_);
    }
#endif
    if (!workers_.empty()) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        todo_.clear();
        idle_.wait(lock, [this] { return busy_ == 0; });
        stop_ = true;
      }
      cv_.notify_all();
      for (std::thread& t : workers_) t.join();
      workers_.clear();
    }
    // Batches that never completed (teardown with work outstanding) are
    // dropped without calling back: their env is going away.
    if (poll_ != nullptr) {
      uv_poll_stop(&poll_->poll);
      poll_->poll.data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(&poll_->poll), OnPollClosed);
      poll_ = nullptr;
    }
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Napi::AsyncContext async_;
  uint32_t depth_ = 64;
  bool uring_ = false;
  int initError_ = 0;
  PollHandle* poll_ = nullptr;
  bool closing_ = false;
  bool delivering_ = false;
  bool tornDown_ = false;
  bool hooked_ = false;
  size_t outstandingBatches_ = 0;
  size_t outstandingRequests_ = 0;
  std::vector<Batch*> ready_;

#ifdef NEXUS_HAVE_LIBURING
  io_uring ring_{};
  std::deque<Request*> pending_;
  uint32_t ringInFlight_ = 0;
#endif

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_;
  std::deque<Request*> todo_;
  std::vector<Request*> done_;
  uint32_t busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Per-env constructor, kept as instance data so each worker_thread has its own.
struct AddonData {
  Napi::FunctionReference ioQueueCtor;
};

Napi::Value CreateIoQueue(const Napi::CallbackInfo& info) {
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() >= 1) return data->ioQueueCtor.New({info[0]});
  return data->ioQueueCtor.New({});
}

}  // namespace

void InitIoQueue(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->ioQueueCtor = Napi::Persistent(IoQueue::Define(env));
  napi_add_env_cleanup_hook(
      env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("createIoQueue", Napi::Function::New(env, CreateIoQueue, "createIoQueue", data));
#ifdef NEXUS_HAVE_LIBURING
  exports.Set("haveLiburing", true);
#else
  exports.Set("haveLiburing", false);
#endif
}

}  // namespace nexus

// SCSI pass-through through the sg driver's asynchronous interface (sg(4),
// SG v3 sg_io_hdr) for the passthrough device handler (DESIGN.md 5):
//
//   const q = openSgQueue(path, { depth = 16, readOnly = false })   // or { errno, message }
//   q.submit({ cdb, dir: 'none'|'in'|'out', data?, timeoutMs = 30000, senseMax = 32 }, cb)
//   cb({ status, hostStatus, driverStatus, sense, residual, durationMs, direct })
//   cb({ errno, message })      // the request never reached the device, or the node went away
//   q.reset('device'|'target'|'bus'|'host', cb)  // SG_SCSI_RESET on a pool thread; cb(undefined | { errno })
//   q.depth, q.inFlight, q.queued, q.maxTransferBytes, q.close()
//
// A request is write()n to the sg node (the kernel queues it and returns at
// once); the node's fd is watched by uv_poll on the calling thread's own loop,
// and when it turns readable every finished request is read() back, matched to
// its submission by usr_ptr (pack_id carries a sequence number for the logs).
// No thread per command: the engine thread's loop sees completions as it sees
// sockets. At most `depth` requests are in the kernel (the sg driver takes at
// most SG_MAX_QUEUE per fd, and the device's queue depth bounds it further);
// the rest wait here and go in as completions come back.
//
// Direct I/O (SG_FLAG_DIRECT_IO) is asked for when the buffer is page aligned
// and its length a multiple of 512; the driver falls back to its own bounce
// buffer where it cannot (allow_dio off, alignment the queue refuses), and the
// completion's `direct` says which path the data took.
//
// maxTransferBytes is the largest data transfer the node's request queue takes, as the sg driver
// says (BLKSECTGET, which sg answers in bytes: the queue's max_sectors), 0 when it does not. A
// SCSI device without a block driver (a tape, a changer, a disk with no sd) has no sysfs queue
// directory to read the limit from; this is where it is found.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <poll.h>
#include <scsi/sg.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <uv.h>

#include <deque>
#include <unordered_set>
#include <vector>

#include "common.h"

namespace nexus {

namespace {

// Linux's SCSI_GENERIC_MAJOR (include/uapi/linux/major.h).
constexpr unsigned kScsiGenericMajor = 21;

struct Request {
  sg_io_hdr_t hdr;
  std::vector<uint8_t> cdb;
  std::vector<uint8_t> sense;
  Bytes data;
  Napi::FunctionReference cb;
  int err = 0;  // nonzero: ends with { errno } without (further) reaching the device
  std::string message;
};

uint32_t UintOption(Napi::Env env, Napi::Object opts, const char* key, uint32_t dflt, uint32_t max, bool* bad) {
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) ThrowType(env, std::string("options.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    *bad = true;
    return dflt;
  }
  return static_cast<uint32_t>(d);
}

// SG_SCSI_RESET blocks until the mid-layer's error handler is done: a pool thread runs it.
class ResetWork : public Napi::AsyncWorker {
 public:
  ResetWork(Napi::Function cb, int fd, int what) : Napi::AsyncWorker(cb, "nexus:sgReset"), fd_(fd), what_(what) {}
  void Execute() override {
    int v = what_;
    int r;
    do r = ioctl(fd_, SG_SCSI_RESET, &v);
    while (r < 0 && errno == EINTR);
    if (r < 0) err_ = errno;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) {
      Callback().MakeCallback(Receiver().Value(), {ErrorValue(env, err_)});
    } else {
      Callback().MakeCallback(Receiver().Value(), {env.Undefined()});
    }
  }

 private:
  int fd_, what_, err_ = 0;
};

class SgQueue : public Napi::ObjectWrap<SgQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SgQueue",
                       {InstanceMethod<&SgQueue::Submit>("submit"), InstanceMethod<&SgQueue::Reset>("reset"),
                        InstanceMethod<&SgQueue::Close>("close"), InstanceAccessor<&SgQueue::GetDepth>("depth"),
                        InstanceAccessor<&SgQueue::GetInFlight>("inFlight"),
                        InstanceAccessor<&SgQueue::GetQueued>("queued"),
                        InstanceAccessor<&SgQueue::GetMaxTransferBytes>("maxTransferBytes")});
  }

  // Constructed only by OpenSgQueue with (fd, depth, maxTransferBytes) already checked.
  SgQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SgQueue>(info), async_(info.Env(), "nexus:SgQueue") {
    Napi::Env env = info.Env();
    env_ = env;
    fd_ = info[0].As<Napi::Number>().Int32Value();
    depth_ = info[1].As<Napi::Number>().Uint32Value();
    maxTransferBytes_ = info[2].As<Napi::Number>().Uint32Value();
    poll_ = PollReadable(env, fd_, this, OnReadable, false);
    napi_add_env_cleanup_hook(env, OnEnvCleanup, this);
    hooked_ = true;
  }

  ~SgQueue() override { Teardown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    SgQueue* q = static_cast<SgQueue*>(arg);
    q->hooked_ = false;
    q->Teardown();
  }

  Napi::Value GetDepth(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), depth_); }
  Napi::Value GetInFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), inKernel_); }
  Napi::Value GetMaxTransferBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), maxTransferBytes_);
  }
  Napi::Value GetQueued(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(waiting_.size()));
  }

  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "submit: cb must be a function");
    if (!info[0].IsObject()) ThrowType(env, "submit: request must be an object");
    if (closing_) ThrowClosed(env, "sg queue is closed");
    Napi::Object o = info[0].As<Napi::Object>();
    std::unique_ptr<Request> r(new Request());
    Bytes cdb;
    if (!GetBytes(o.Get("cdb"), &cdb)) ThrowType(env, "submit: request.cdb must be a Uint8Array");
    Napi::Value dirv = o.Get("dir");
    if (!dirv.IsString()) ThrowType(env, "submit: request.dir must be 'none', 'in' or 'out'");
    std::string dirs = dirv.As<Napi::String>().Utf8Value();
    int dir;
    if (dirs == "none") {
      dir = SG_DXFER_NONE;
    } else if (dirs == "in") {
      dir = SG_DXFER_FROM_DEV;
    } else if (dirs == "out") {
      dir = SG_DXFER_TO_DEV;
    } else {
      ThrowType(env, "submit: request.dir must be 'none', 'in' or 'out'");
    }
    Napi::Value datav = o.Get("data");
    bool haveData = !datav.IsUndefined() && !datav.IsNull();
    if (haveData && !GetBytes(datav, &r->data)) ThrowType(env, "submit: request.data must be a Uint8Array");
    bool badTimeout = false, badSense = false;
    uint32_t timeoutMs = UintOption(env, o, "timeoutMs", 30000, 0x7fffffff, &badTimeout);
    // sg_io_hdr.mx_sb_len is an unsigned char.
    uint32_t senseMax = UintOption(env, o, "senseMax", 32, 255, &badSense);
    r->cb = Napi::Persistent(info[1].As<Napi::Function>());

    if (cdb.length == 0 || cdb.length > 255) {
      // sg_io_hdr.cmd_len is an unsigned char; the kernel checks the rest.
      r->err = EINVAL;
      r->message = "submit: cdb must be 1..255 bytes";
    } else if (dir != SG_DXFER_NONE && r->data.length == 0) {
      r->err = EINVAL;
      r->message = "submit: dir 'in'/'out' needs a non-empty data buffer";
    } else if (dir == SG_DXFER_NONE && r->data.length > 0) {
      r->err = EINVAL;
      r->message = "submit: dir 'none' takes no data buffer";
    } else if (r->data.length > 0x7fffffff) {
      r->err = EINVAL;
      r->message = "submit: data buffer too large";
    } else if (badTimeout || badSense) {
      r->err = EINVAL;
      r->message = "submit: timeoutMs and senseMax must be non-negative integers (senseMax <= 255)";
    }
    r->cdb.assign(cdb.data, cdb.data + cdb.length);
    r->sense.assign(senseMax, 0);
    sg_io_hdr_t& h = r->hdr;
    std::memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.dxfer_direction = dir;
    h.cmd_len = static_cast<unsigned char>(r->cdb.size());
    h.mx_sb_len = static_cast<unsigned char>(r->sense.size());
    h.dxfer_len = dir == SG_DXFER_NONE ? 0 : static_cast<unsigned>(r->data.length);
    h.dxferp = dir == SG_DXFER_NONE ? nullptr : r->data.data;
    h.cmdp = r->cdb.data();
    h.sbp = r->sense.empty() ? nullptr : r->sense.data();
    h.timeout = timeoutMs;
    h.pack_id = static_cast<int>(nextPackId_++ & 0x7fffffff);
    h.usr_ptr = r.get();
    uintptr_t addr = reinterpret_cast<uintptr_t>(r->data.data);
    if (dir != SG_DXFER_NONE && addr % pageSize_ == 0 && r->data.length % 512 == 0) h.flags |= SG_FLAG_DIRECT_IO;

    Request* req = r.release();
    Hold();
    if (req->err != 0) {
      done_.push_back(req);
      Kick();
    } else {
      waiting_.push_back(req);
      Pump();
    }
    return env.Undefined();
  }

  // SAM-5 / sg(4): SG_SCSI_RESET with the kind asked; the caller decides when (after its commands end).
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "reset: cb must be a function");
    if (!info[0].IsString()) ThrowType(env, "reset: kind must be 'device', 'target', 'bus' or 'host'");
    if (closing_) ThrowClosed(env, "sg queue is closed");
    std::string kind = info[0].As<Napi::String>().Utf8Value();
    int what;
    if (kind == "device") {
      what = SG_SCSI_RESET_DEVICE;
    } else if (kind == "target") {
#ifdef SG_SCSI_RESET_TARGET
      what = SG_SCSI_RESET_TARGET;
#else
      what = 4;  // SG_SCSI_RESET_TARGET since Linux 3.19
#endif
    } else if (kind == "bus") {
      what = SG_SCSI_RESET_BUS;
    } else if (kind == "host") {
      what = SG_SCSI_RESET_HOST;
    } else {
      ThrowType(env, "reset: kind must be 'device', 'target', 'bus' or 'host'");
    }
    (new ResetWork(info[1].As<Napi::Function>(), fd_, what))->Queue();
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closing_ = true;
    if (outstanding_ == 0 && !delivering_) Teardown();
    return info.Env().Undefined();
  }

  void Hold() {
    if (outstanding_++ == 0) {
      Ref();  // the JS object lives while the kernel holds requests
      uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
    }
  }

  // Requests refused before the kernel saw them complete through a uv_async, so a callback is
  // never called from inside submit().
  void Kick() {
    if (kick_ == nullptr) {
      uv_loop_t* loop = nullptr;
      napi_get_uv_event_loop(env_, &loop);
      kick_ = new uv_async_t();
      kick_->data = this;
      uv_async_init(loop, kick_, OnKick);
      uv_unref(reinterpret_cast<uv_handle_t*>(kick_));
    }
    uv_async_send(kick_);
  }

  static void OnKick(uv_async_t* a) {
    if (a->data != nullptr) static_cast<SgQueue*>(a->data)->Deliver();
  }

  // Moves waiting requests into the kernel, up to depth_.
  void Pump() {
    while (!waiting_.empty() && inKernel_ < depth_) {
      Request* r = waiting_.front();
      ssize_t w;
      do w = write(fd_, &r->hdr, sizeof r->hdr);
      while (w < 0 && errno == EINTR);
      if (w < 0) {
        int e = errno;
        // The driver's own queue is full (EDOM) or short of memory (EAGAIN): the request
        // waits for the next completion, unless nothing is in flight to bring one.
        if ((e == EDOM || e == EAGAIN) && inKernel_ > 0) break;
        waiting_.pop_front();
        r->err = e;
        done_.push_back(r);
        Kick();
        continue;
      }
      waiting_.pop_front();
      inKernel_++;
      kernel_.insert(r);
    }
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    if (handle->data == nullptr) return;
    SgQueue* q = static_cast<SgQueue*>(handle->data);
    if (status < 0) {
      // The node went away (EBADF, ENODEV): every request still in the kernel is lost.
      q->FailAll(-status);
      return;
    }
    q->Reap();
    q->Pump();
    q->Deliver();
  }

  // Reads back every finished request; the fd is non-blocking, so EAGAIN ends the pass.
  void Reap() {
    for (;;) {
      sg_io_hdr_t h;
      std::memset(&h, 0, sizeof h);
      h.interface_id = 'S';
      h.pack_id = -1;  // any finished request
      ssize_t n;
      do n = read(fd_, &h, sizeof h);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno == EAGAIN) return;
        FailAll(errno);
        return;
      }
      Request* r = static_cast<Request*>(h.usr_ptr);
      if (r == nullptr || kernel_.erase(r) == 0) continue;
      r->hdr = h;
      inKernel_--;
      done_.push_back(r);
    }
  }

  // The node failed under us (poll error, read error other than EAGAIN): every request ends with
  // the errno. Those the kernel still holds are called back now but their records (and so the
  // pinned buffers the kernel may still write) live until Teardown closes the node.
  void FailAll(int err) {
    for (Request* r : waiting_) {
      r->err = err;
      done_.push_back(r);
    }
    waiting_.clear();
    for (Request* r : kernel_) {
      Request* copy = new Request();
      copy->cb = std::move(r->cb);
      copy->err = err;
      done_.push_back(copy);
      orphans_.push_back(r);
    }
    kernel_.clear();
    inKernel_ = 0;
    if (poll_ != nullptr) uv_poll_stop(&poll_->poll);
    gone_ = err;
    Deliver();
  }

  void Deliver() {
    if (done_.empty()) return;
    std::vector<Request*> done;
    done.swap(done_);
    delivering_ = true;
    Napi::Env env = env_;
    Napi::HandleScope outer(env);
    for (Request* raw : done) {
      std::unique_ptr<Request> r(raw);
      outstanding_--;
      try {
        Napi::HandleScope scope(env);
        Napi::Object out;
        if (r->err != 0) {
          out = r->message.empty() ? ErrorValue(env, r->err) : ErrorValue(env, r->err, r->message);
        } else {
          const sg_io_hdr_t& h = r->hdr;
          out = Napi::Object::New(env);
          out.Set("status", h.status);
          out.Set("hostStatus", h.host_status);
          out.Set("driverStatus", h.driver_status);
          size_t n = h.sb_len_wr <= r->sense.size() ? h.sb_len_wr : r->sense.size();
          out.Set("sense", Napi::Buffer<uint8_t>::Copy(env, r->sense.data(), n));
          out.Set("residual", h.resid);
          out.Set("durationMs", h.duration);
          out.Set("direct", (h.info & SG_INFO_DIRECT_IO_MASK) == SG_INFO_DIRECT_IO);
        }
        r->data.store.reset();
        DeliverCompletion(env, async_, Value(), r->cb.Value(), out);
      } catch (const Napi::Error&) {
        // Only reachable when the env is going away.
      }
    }
    delivering_ = false;
    if (outstanding_ == 0) {
      if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->poll));
      if (closing_) Teardown();
      Unref();
    }
  }

  // Waits for every request the kernel holds (it writes into JS memory), then closes the node.
  void Teardown() {
    if (tornDown_) return;
    tornDown_ = true;
    closing_ = true;
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    for (Request* r : waiting_) delete r;
    waiting_.clear();
    // Bounded: a command's own timeout ends it; the kernel's error handling adds its time.
    int spins = 0;
    while (inKernel_ > 0 && gone_ == 0 && spins < 1200) {
      struct pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) {
        spins++;
        continue;
      }
      sg_io_hdr_t h;
      std::memset(&h, 0, sizeof h);
      h.interface_id = 'S';
      h.pack_id = -1;
      ssize_t n = read(fd_, &h, sizeof h);
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
      Request* r = static_cast<Request*>(h.usr_ptr);
      if (n > 0 && r != nullptr && kernel_.erase(r) == 1) {
        delete r;
        inKernel_--;
      }
    }
    for (Request* r : done_) delete r;
    done_.clear();
    StopPolledFd(&poll_);
    if (kick_ != nullptr) {
      kick_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(kick_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      kick_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    // After close(2) the driver drops what it still held; the records can go.
    for (Request* r : kernel_) delete r;
    kernel_.clear();
    for (Request* r : orphans_) delete r;
    orphans_.clear();
  }

  Napi::Env env_ = Napi::Env(nullptr);
  Napi::AsyncContext async_;
  int fd_ = -1;
  uint32_t depth_ = 16;
  uint32_t maxTransferBytes_ = 0;
  uint32_t inKernel_ = 0;
  uint32_t nextPackId_ = 1;
  size_t outstanding_ = 0;  // submitted and not yet called back
  int gone_ = 0;
  uintptr_t pageSize_ = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  PolledFd* poll_ = nullptr;
  uv_async_t* kick_ = nullptr;
  bool closing_ = false;
  bool delivering_ = false;
  bool tornDown_ = false;
  bool hooked_ = false;
  std::deque<Request*> waiting_;
  std::vector<Request*> done_;
  std::unordered_set<Request*> kernel_;  // written to the node, not yet read back
  std::vector<Request*> orphans_;        // in the kernel when the node failed
};

struct AddonData {
  Napi::FunctionReference sgQueueCtor;
};

// openSgQueue(path, { depth, readOnly }): the node must be a SCSI generic character device
// (major 21) that answers SG_GET_VERSION_NUM with the v3 interface; anything else is ENOTTY.
Napi::Value OpenSgQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = static_cast<AddonData*>(info.Data());
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "openSgQueue: path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  uint32_t depth = 16;
  bool readOnly = false;
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowType(env, "openSgQueue: options must be an object");
    Napi::Object opts = info[1].As<Napi::Object>();
    bool bad = false;
    depth = UintOption(env, opts, "depth", 16, SG_MAX_QUEUE, &bad);
    if (bad || depth == 0) return ErrorValue(env, EINVAL, "openSgQueue: depth must be an integer in 1..16 (SG_MAX_QUEUE)");
    readOnly = GetBoolOption(env, opts, "readOnly", false);
  }
  int fd;
  do fd = open(path.c_str(), (readOnly ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrorValue(env, errno, std::string("openSgQueue: ") + path + ": " + std::strerror(errno));
  struct stat st;
  int version = 0;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != kScsiGenericMajor ||
      ioctl(fd, SG_GET_VERSION_NUM, &version) != 0 || version < 30000) {
    close(fd);
    return ErrorValue(env, ENOTTY, std::string("openSgQueue: ") + path + " is not a SCSI generic (sg) node");
  }
  // sg(4): several requests per fd queued at once (the v3 interface's default, said outright).
  int one = 1;
  ioctl(fd, SG_SET_COMMAND_Q, &one);
  // sg(4) BLKSECTGET: bytes (a block device answers in sectors; the sg driver in bytes, the
  // queue's max_sectors). Unknown (an error, or a value no queue has) is 0.
  int maxBytes = 0;
  if (ioctl(fd, BLKSECTGET, &maxBytes) != 0 || maxBytes < 0) maxBytes = 0;
  return data->sgQueueCtor.New({Napi::Number::New(env, fd), Napi::Number::New(env, depth),
                                Napi::Number::New(env, static_cast<uint32_t>(maxBytes))});
}

}  // namespace

void InitSgQueue(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  data->sgQueueCtor = Napi::Persistent(SgQueue::Define(env));
  napi_add_env_cleanup_hook(
      env, [](void* p) { delete static_cast<AddonData*>(p); }, data);
  exports.Set("openSgQueue", Napi::Function::New(env, OpenSgQueue, "openSgQueue", data));
}

}  // namespace nexus

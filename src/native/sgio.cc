// SCSI pass-through with the SG_IO ioctl (sg(4), SG v3 interface) for the
// passthrough device handler (DESIGN.md 5). The ioctl blocks for the whole
// command, so it runs as a libuv thread-pool work item and calls back once:
//
//   sgio(fd, { cdb, dir: 'none'|'in'|'out', data?, timeoutMs = 30000, senseMax = 32 }, cb)
//   cb({ status, hostStatus, driverStatus, sense: Buffer, residual, durationMs })
//   cb({ errno, message })   // the ioctl itself failed, or an argument value was wrong
#include <scsi/sg.h>
#include <sys/ioctl.h>

#include <vector>

#include "common.h"

namespace nexus {

namespace {

class SgioWork : public Napi::AsyncWorker {
 public:
  SgioWork(Napi::Function cb) : Napi::AsyncWorker(cb, "nexus:sgio") {}

  int fd = -1;
  int preError = 0;  // argument value rejected before the ioctl
  std::string preMessage;
  std::vector<uint8_t> cdb;
  std::vector<uint8_t> sense;
  Bytes data;
  int dir = SG_DXFER_NONE;
  uint32_t timeoutMs = 30000;

  void Execute() override {
    if (preError != 0) return;
    sg_io_hdr_t h;
    std::memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.dxfer_direction = dir;
    h.cmd_len = static_cast<unsigned char>(cdb.size());
    h.mx_sb_len = static_cast<unsigned char>(sense.size());
    h.dxfer_len = dir == SG_DXFER_NONE ? 0 : static_cast<unsigned>(data.length);
    h.dxferp = dir == SG_DXFER_NONE ? nullptr : data.data;
    h.cmdp = cdb.data();
    h.sbp = sense.empty() ? nullptr : sense.data();
    h.timeout = timeoutMs;
    int r;
    do {
      r = ioctl(fd, SG_IO, &h);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      err_ = errno;
      return;
    }
    status_ = h.status;
    host_ = h.host_status;
    driver_ = h.driver_status;
    senseLen_ = h.sb_len_wr;
    resid_ = h.resid;
    duration_ = h.duration;
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    data.store.reset();
    Napi::Object out;
    if (preError != 0) {
      out = ErrorValue(env, preError, preMessage);
    } else if (err_ != 0) {
      out = ErrorValue(env, err_);
    } else {
      out = Napi::Object::New(env);
      out.Set("status", status_);
      out.Set("hostStatus", host_);
      out.Set("driverStatus", driver_);
      size_t n = senseLen_ <= sense.size() ? senseLen_ : sense.size();
      out.Set("sense", Napi::Buffer<uint8_t>::Copy(env, sense.data(), n));
      out.Set("residual", resid_);
      out.Set("durationMs", duration_);
    }
    Callback().MakeCallback(Receiver().Value(), {out});
  }

 private:
  int err_ = 0;
  uint32_t status_ = 0, host_ = 0, driver_ = 0, senseLen_ = 0, duration_ = 0;
  int32_t resid_ = 0;
};

uint32_t GetUintOption(Napi::Env env, Napi::Object opts, const char* key, uint32_t dflt, uint32_t max, bool* bad) {
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) ThrowType(env, std::string("sgio: options.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    *bad = true;
    return dflt;
  }
  return static_cast<uint32_t>(d);
}

Napi::Value Sgio(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[2].IsFunction()) ThrowType(env, "sgio: cb must be a function");
  if (!info[1].IsObject()) ThrowType(env, "sgio: options must be an object");
  bool badFd;
  int fd = GetFd(env, info[0], "sgio: fd", &badFd);
  Napi::Object opts = info[1].As<Napi::Object>();

  Bytes cdb;
  if (!GetBytes(opts.Get("cdb"), &cdb)) ThrowType(env, "sgio: options.cdb must be a Uint8Array");
  Napi::Value dirv = opts.Get("dir");
  if (!dirv.IsString()) ThrowType(env, "sgio: options.dir must be 'none', 'in' or 'out'");
  std::string dirs = dirv.As<Napi::String>().Utf8Value();
  int dir;
  if (dirs == "none") {
    dir = SG_DXFER_NONE;
  } else if (dirs == "in") {
    dir = SG_DXFER_FROM_DEV;
  } else if (dirs == "out") {
    dir = SG_DXFER_TO_DEV;
  } else {
    ThrowType(env, "sgio: options.dir must be 'none', 'in' or 'out'");
  }
  Napi::Value datav = opts.Get("data");
  Bytes data;
  bool haveData = !datav.IsUndefined() && !datav.IsNull();
  if (haveData && !GetBytes(datav, &data)) ThrowType(env, "sgio: options.data must be a Uint8Array");
  bool badTimeout = false, badSense = false;
  uint32_t timeoutMs = GetUintOption(env, opts, "timeoutMs", 30000, 0x7fffffff, &badTimeout);
  // sg_io_hdr.mx_sb_len is an unsigned char.
  uint32_t senseMax = GetUintOption(env, opts, "senseMax", 32, 255, &badSense);

  SgioWork* work = new SgioWork(info[2].As<Napi::Function>());
  work->fd = fd;
  work->dir = dir;
  work->timeoutMs = timeoutMs;
  if (badFd) {
    work->preError = EBADF;
    work->preMessage = "sgio: fd must be a non-negative integer";
  } else if (cdb.length == 0 || cdb.length > 255) {
    // sg_io_hdr.cmd_len is an unsigned char; the kernel checks the rest.
    work->preError = EINVAL;
    work->preMessage = "sgio: cdb must be 1..255 bytes";
  } else if (dir != SG_DXFER_NONE && (!haveData || data.length == 0)) {
    work->preError = EINVAL;
    work->preMessage = "sgio: dir 'in'/'out' needs a non-empty data buffer";
  } else if (dir == SG_DXFER_NONE && haveData && data.length > 0) {
    work->preError = EINVAL;
    work->preMessage = "sgio: dir 'none' takes no data buffer";
  } else if (data.length > 0x7fffffff) {
    work->preError = EINVAL;
    work->preMessage = "sgio: data buffer too large";
  } else if (badTimeout || badSense) {
    work->preError = EINVAL;
    work->preMessage = "sgio: timeoutMs and senseMax must be non-negative integers (senseMax <= 255)";
  }
  work->cdb.assign(cdb.data, cdb.data + cdb.length);
  work->sense.assign(senseMax, 0);
  work->data = std::move(data);
  work->Queue();
  return env.Undefined();
}

}  // namespace

void InitSgio(Napi::Env env, Napi::Object exports) {
  exports.Set("sgio", Napi::Function::New(env, Sgio, "sgio"));
}

}  // namespace nexus

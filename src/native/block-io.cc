// Synchronous block I/O primitives: open with O_DIRECT, close, the page-cache
// fast path (preadv2 RWF_NOWAIT, DESIGN.md 10), thin provisioning (punch hole,
// SEEK_DATA / SEEK_HOLE) and device geometry. Each call does one system call
// and returns its outcome as a value; policy stays in TypeScript.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

namespace nexus {

namespace {

// openBlock(path, { direct, readOnly }) -> { fd } | { errno, message }
Napi::Value OpenBlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "openBlock: path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool direct = false;
  bool readOnly = false;
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowType(env, "openBlock: options must be an object");
    Napi::Object opts = info[1].As<Napi::Object>();
    direct = GetBoolOption(env, opts, "direct", false);
    readOnly = GetBoolOption(env, opts, "readOnly", false);
  }
  if (path.empty() || path.find('\0') != std::string::npos) return ErrorValue(env, EINVAL, "openBlock: bad path");
  int flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  if (direct) flags |= O_DIRECT;
  int fd;
  do {
    fd = open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrorValue(env, errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", fd);
  return out;
}

// closeBlock(fd) -> undefined | { errno, message }
Napi::Value CloseBlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool bad;
  int fd = GetFd(env, info[0], "closeBlock: fd", &bad);
  if (bad) return ErrorValue(env, EBADF);
  // Linux closes the fd even when close() reports EINTR: never retry.
  if (close(fd) != 0 && errno != EINTR) return ErrorValue(env, errno);
  return env.Undefined();
}

struct RwArgs {
  int fd;
  Bytes bytes;
  int64_t offset;
  size_t length;
  bool nowait;
};

// (fd, buf, offset, length?, { nowait }?) -> error value or nullptr when valid.
Napi::Value ParseRw(const Napi::CallbackInfo& info, const char* name, RwArgs* a) {
  Napi::Env env = info.Env();
  std::string n(name);
  bool badFd, badOff;
  a->fd = GetFd(env, info[0], (n + ": fd").c_str(), &badFd);
  if (info.Length() < 2 || !GetBytes(info[1], &a->bytes)) ThrowType(env, n + ": buf must be an ArrayBufferView");
  a->offset = GetOffset(env, info[2], (n + ": offset").c_str(), &badOff);
  a->length = a->bytes.length;
  a->nowait = false;
  Napi::Value opts;
  if (info.Length() >= 4 && !info[3].IsUndefined()) {
    if (info[3].IsObject() && !info[3].IsBigInt()) {
      opts = info[3];
    } else {
      bool badLen;
      int64_t len = GetOffset(env, info[3], (n + ": length").c_str(), &badLen);
      if (badLen || static_cast<uint64_t>(len) > a->bytes.length) {
        return ErrorValue(env, EINVAL, n + ": length past the end of buf");
      }
      a->length = static_cast<size_t>(len);
      if (info.Length() >= 5 && !info[4].IsUndefined()) opts = info[4];
    }
  }
  if (!opts.IsEmpty()) {
    if (!opts.IsObject()) ThrowType(env, n + ": options must be an object");
    a->nowait = GetBoolOption(env, opts.As<Napi::Object>(), "nowait", false);
  }
  if (badFd) return ErrorValue(env, EBADF);
  if (badOff) return ErrorValue(env, EINVAL, n + ": offset must be a non-negative integer");
  return Napi::Value();
}

// preadSync(fd, buf, offset, length?, { nowait }?) -> bytes read | { errno }
// With nowait, RWF_NOWAIT makes the kernel answer EAGAIN instead of blocking
// when the data is not in the page cache: the caller then queues async I/O.
Napi::Value PreadSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RwArgs a;
  Napi::Value err = ParseRw(info, "preadSync", &a);
  if (!err.IsEmpty()) return err;
  struct iovec iov = {a.bytes.data, a.length};
  ssize_t r;
  do {
    r = preadv2(a.fd, &iov, 1, a.offset, a.nowait ? RWF_NOWAIT : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrorValue(env, errno);
  return Napi::Number::New(env, static_cast<double>(r));
}

// pwriteSync(fd, buf, offset, length?) -> bytes written | { errno }
Napi::Value PwriteSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RwArgs a;
  Napi::Value err = ParseRw(info, "pwriteSync", &a);
  if (!err.IsEmpty()) return err;
  struct iovec iov = {a.bytes.data, a.length};
  ssize_t r;
  do {
    r = pwritev2(a.fd, &iov, 1, a.offset, a.nowait ? RWF_NOWAIT : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrorValue(env, errno);
  return Napi::Number::New(env, static_cast<double>(r));
}

// punchHole(fd, offset, length) -> undefined | { errno }
// Deallocates the range, keeping the file size (SBC-4 UNMAP / WRITE SAME with UNMAP).
Napi::Value PunchHole(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool badFd, badOff, badLen;
  int fd = GetFd(env, info[0], "punchHole: fd", &badFd);
  int64_t off = GetOffset(env, info[1], "punchHole: offset", &badOff);
  int64_t len = GetOffset(env, info[2], "punchHole: length", &badLen);
  if (badFd) return ErrorValue(env, EBADF);
  if (badOff || badLen || len == 0) return ErrorValue(env, EINVAL, "punchHole: offset and length must be integers, length > 0");
  int r;
  do {
    r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return ErrorValue(env, errno);
  return env.Undefined();
}

// lseek SEEK_DATA / SEEK_HOLE: the next data (hole) offset at or after `offset`,
// null when there is none (ENXIO: offset at or past end of file).
Napi::Value Seek(const Napi::CallbackInfo& info, int whence, const char* name) {
  Napi::Env env = info.Env();
  std::string n(name);
  bool badFd, badOff;
  int fd = GetFd(env, info[0], (n + ": fd").c_str(), &badFd);
  int64_t off = GetOffset(env, info[1], (n + ": offset").c_str(), &badOff);
  if (badFd) return ErrorValue(env, EBADF);
  if (badOff) return ErrorValue(env, EINVAL, n + ": offset must be a non-negative integer");
  off_t r = lseek(fd, off, whence);
  if (r < 0) {
    if (errno == ENXIO) return env.Null();
    return ErrorValue(env, errno);
  }
  return Napi::Number::New(env, static_cast<double>(r));
}

Napi::Value SeekData(const Napi::CallbackInfo& info) { return Seek(info, SEEK_DATA, "seekData"); }
Napi::Value SeekHole(const Napi::CallbackInfo& info) { return Seek(info, SEEK_HOLE, "seekHole"); }

// blockInfo(fd) -> { size, logicalBlockSize, physicalBlockSize, isBlockDevice } | { errno }
// For a regular file the block sizes are the file system's preferred I/O size.
Napi::Value BlockInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool badFd;
  int fd = GetFd(env, info[0], "blockInfo: fd", &badFd);
  if (badFd) return ErrorValue(env, EBADF);
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrorValue(env, errno);
  Napi::Object out = Napi::Object::New(env);
  if (S_ISBLK(st.st_mode)) {
    uint64_t size = 0;
    int logical = 0;
    unsigned int physical = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) return ErrorValue(env, errno);
    if (ioctl(fd, BLKSSZGET, &logical) != 0) return ErrorValue(env, errno);
    if (ioctl(fd, BLKPBSZGET, &physical) != 0) physical = static_cast<unsigned>(logical);
    out.Set("size", Napi::Number::New(env, static_cast<double>(size)));
    out.Set("logicalBlockSize", logical);
    out.Set("physicalBlockSize", physical);
    out.Set("isBlockDevice", true);
  } else {
    out.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
    out.Set("logicalBlockSize", 512);
    out.Set("physicalBlockSize", static_cast<double>(st.st_blksize));
    out.Set("isBlockDevice", false);
  }
  return out;
}

}  // namespace

void InitBlockIo(Napi::Env env, Napi::Object exports) {
  exports.Set("openBlock", Napi::Function::New(env, OpenBlock, "openBlock"));
  exports.Set("closeBlock", Napi::Function::New(env, CloseBlock, "closeBlock"));
  exports.Set("preadSync", Napi::Function::New(env, PreadSync, "preadSync"));
  exports.Set("pwriteSync", Napi::Function::New(env, PwriteSync, "pwriteSync"));
  exports.Set("punchHole", Napi::Function::New(env, PunchHole, "punchHole"));
  exports.Set("seekData", Napi::Function::New(env, SeekData, "seekData"));
  exports.Set("seekHole", Napi::Function::New(env, SeekHole, "seekHole"));
  exports.Set("blockInfo", Napi::Function::New(env, BlockInfo, "blockInfo"));
}

}  // namespace nexus

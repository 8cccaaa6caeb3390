// errno numbers -> the symbolic names JS callers compare against ("EBADF"),
// the same spelling Node uses in err.code for fs errors.
#include <cerrno>
#include <cstdio>

#include "common.h"

namespace nexus {

namespace {
struct ErrnoRow {
  int number;
  const char* name;
};

#define ROW(e) {e, #e}
const ErrnoRow kErrnoTable[] = {
    ROW(EPERM),     ROW(ENOENT),    ROW(ESRCH),      ROW(EINTR),     ROW(EIO),
    ROW(ENXIO),     ROW(E2BIG),     ROW(ENOEXEC),    ROW(EBADF),     ROW(ECHILD),
    ROW(EAGAIN),    ROW(ENOMEM),    ROW(EACCES),     ROW(EFAULT),    ROW(ENOTBLK),
    ROW(EBUSY),     ROW(EEXIST),    ROW(EXDEV),      ROW(ENODEV),    ROW(ENOTDIR),
    ROW(EISDIR),    ROW(EINVAL),    ROW(ENFILE),     ROW(EMFILE),    ROW(ENOTTY),
    ROW(ETXTBSY),   ROW(EFBIG),     ROW(ENOSPC),     ROW(ESPIPE),    ROW(EROFS),
    ROW(EMLINK),    ROW(EPIPE),     ROW(EDOM),       ROW(ERANGE),    ROW(EDEADLK),
    ROW(ENAMETOOLONG), ROW(ENOLCK), ROW(ENOSYS),     ROW(ENOTEMPTY), ROW(ELOOP),
    ROW(ENODATA),   ROW(ETIME),     ROW(EOVERFLOW),  ROW(EBADFD),    ROW(EOPNOTSUPP),
    ROW(ECANCELED), ROW(ETIMEDOUT), ROW(ECONNRESET), ROW(ENOMEDIUM), ROW(EMEDIUMTYPE),
    ROW(EREMOTEIO), ROW(EDQUOT),    ROW(ENOLINK),    ROW(ECOMM),     ROW(EPROTO),
    ROW(ENOTSOCK),
    ROW(EILSEQ), ROW(ESHUTDOWN) /* Ceph's EBLOCKLISTED */, ROW(ENOTCONN), ROW(ECONNREFUSED), ROW(EHOSTUNREACH),
    ROW(ENOTSUP) /* == EOPNOTSUPP on Linux; the first row wins */,
};
#undef ROW
}  // namespace

const char* ErrnoName(int err) {
  for (const ErrnoRow& row : kErrnoTable) {
    if (row.number == err) return row.name;
  }
  static thread_local char buf[16];
  std::snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

void InitErrno(Napi::Env env, Napi::Object exports) {
  // errnoNames: { EBADF: 9, ... } so JS can turn a negative io result into a name.
  Napi::Object names = Napi::Object::New(env);
  for (const ErrnoRow& row : kErrnoTable) {
    if (!names.Has(row.name)) names.Set(row.name, row.number);
  }
  exports.Set("errnoNumbers", names);
}

}  // namespace nexus

// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the iSCSI
// header and data digest (RFC 7143 13.1, RFC 3385; test vectors RFC 3720 B.4).
//
// crc32c(buf, seed = 0): returns the finished digest of buf. To continue over
// several buffers pass the previous return value as seed:
//   crc32c(b, crc32c(a)) === crc32c(concat(a, b))
// i.e. seed is a finished (post-xor) digest; 0 is the digest of nothing.
// Internally the register starts at ~seed (0xffffffff for the first buffer)
// and the result is xor'ed with 0xffffffff again.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>
#define NEXUS_X86 1
#endif

namespace nexus {

namespace {

uint32_t g_table[256];

void BuildTable() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    g_table[i] = c;
  }
}

uint32_t UpdateTable(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) crc = g_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#ifdef NEXUS_X86
__attribute__((target("sse4.2"))) uint32_t UpdateSse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    n--;
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    n--;
  }
  return static_cast<uint32_t>(c);
}

bool CpuHasSse42() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}
#endif

using UpdateFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);
UpdateFn g_update = UpdateTable;
const char* g_impl = "table";

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes bytes;
  if (info.Length() < 1 || !GetBytes(info[0], &bytes)) {
    ThrowType(env, "crc32c: buf must be an ArrayBufferView or (Shared)ArrayBuffer");
  }
  uint32_t seed = 0;
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    if (!info[1].IsNumber()) ThrowType(env, "crc32c: seed must be a number");
    double d = info[1].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
      Napi::RangeError e = Napi::RangeError::New(env, "crc32c: seed must be a uint32");
      e.Set("code", "ERR_OUT_OF_RANGE");
      throw e;
    }
    seed = static_cast<uint32_t>(d);
  }
  uint32_t crc = g_update(~seed, bytes.data, bytes.length) ^ 0xffffffffu;
  return Napi::Number::New(env, crc);
}

}  // namespace

void InitCrc32c(Napi::Env env, Napi::Object exports) {
  // Every worker thread loads the addon; the table and the choice are process-wide.
  static std::once_flag once;
  std::call_once(once, [] {
    BuildTable();
#ifdef NEXUS_X86
    // NEXUS_CRC32C=table keeps the portable path, so tests can cover it here.
    const char* force = std::getenv("NEXUS_CRC32C");
    bool table = force != nullptr && std::strcmp(force, "table") == 0;
    if (!table && CpuHasSse42()) {
      g_update = UpdateSse42;
      g_impl = "sse4.2";
    }
#endif
  });
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("crc32cImpl", Napi::String::New(env, g_impl));
}

}  // namespace nexus

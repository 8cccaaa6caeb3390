// Entry point of the Nexus native addon (build/Release/nexus_native.node).
// Context-aware: every worker_thread gets its own exports and per-env state;
// the only process-wide state is the CRC32C table, built once.
#include "common.h"

namespace nexus {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitErrno(env, exports);
  InitCrc32c(env, exports);
  InitSharedMemory(env, exports);
  InitBlockIo(env, exports);
  InitIoQueue(env, exports);
  InitSgQueue(env, exports);
  InitFd(env, exports);
  InitPeerCredentials(env, exports);
  InitUioRing(env, exports);
  InitNetlink(env, exports);
#ifdef NEXUS_HAVE_LIBRBD
  InitRbdImage(env, exports);
  InitRadosObject(env, exports);
#else
  exports.Set("haveLibrbd", false);
#endif
  return exports;
}

}  // namespace nexus

static Napi::Object InitNexusNative(Napi::Env env, Napi::Object exports) { return nexus::Init(env, exports); }

NODE_API_MODULE(nexus_native, InitNexusNative)

// A connection to a Ceph cluster as the rbd image and the RADOS object of the native addon both
// open one (rbd-image.cc, rados-object.cc): the options they take from JavaScript and the steps
// from rados_create2 to an I/O context on the pool. Built only with librbd (binding.gyp).
#pragma once

#include <rados/librados.h>

#include <string>
#include <utility>
#include <vector>

#include "common.h"

namespace nexus {

struct ClusterOptions {
  std::string pool, conf, user, keyring;
  // rados_connect waits up to connectTimeoutMs for the monitors; 0: librados's own (for ever).
  uint32_t connectTimeoutMs = 20000;
  // Each OSD operation; 0: wait for ever (an OSD that comes back completes it).
  uint32_t opTimeoutMs = 0;
};

// options.<key> as a string ("" when absent and not required); `fn` names the call in errors.
std::string ClusterStringOption(Napi::Env env, Napi::Object o, const char* fn, const char* key, bool required);

// pool, cephConf, cephUser, keyring, connectTimeoutMs, opTimeoutMs of `o`, checked.
ClusterOptions ReadClusterOptions(Napi::Env env, Napi::Object o, const char* fn);

// Connects (off the event loop: it blocks) and opens an I/O context on the pool, with `extra`
// configuration set before connecting. 0, or a positive errno with `what` saying which step.
// On failure the caller releases whatever of *cluster / *io is set.
int ConnectCluster(const ClusterOptions& o, const std::vector<std::pair<const char*, const char*>>& extra,
                   rados_t* cluster, rados_ioctx_t* io, std::string* what);

}  // namespace nexus

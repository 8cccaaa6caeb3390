// See rados-cluster.h.
#include "rados-cluster.h"

namespace nexus {

namespace {

uint32_t MsOption(Napi::Env env, Napi::Object o, const char* fn, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) ThrowType(env, std::string(fn) + ": options." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 86400000)) ThrowType(env, std::string(fn) + ": options." + key + " out of range");
  return static_cast<uint32_t>(d);
}

// librados takes its timeouts in whole seconds; 0 means "wait for ever".
std::string Seconds(uint32_t ms) { return std::to_string(ms == 0 ? 0 : (ms + 999) / 1000); }

}  // namespace

std::string ClusterStringOption(Napi::Env env, Napi::Object o, const char* fn, const char* key, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return std::string();
  if (!v.IsString()) ThrowType(env, std::string(fn) + ": options." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

ClusterOptions ReadClusterOptions(Napi::Env env, Napi::Object o, const char* fn) {
  ClusterOptions c;
  c.pool = ClusterStringOption(env, o, fn, "pool", true);
  c.conf = ClusterStringOption(env, o, fn, "cephConf", false);
  c.user = ClusterStringOption(env, o, fn, "cephUser", false);
  c.keyring = ClusterStringOption(env, o, fn, "keyring", false);
  c.connectTimeoutMs = MsOption(env, o, fn, "connectTimeoutMs", 20000);
  c.opTimeoutMs = MsOption(env, o, fn, "opTimeoutMs", 0);
  return c;
}

int ConnectCluster(const ClusterOptions& o, const std::vector<std::pair<const char*, const char*>>& extra,
                   rados_t* cluster, rados_ioctx_t* io, std::string* what) {
  const std::string user = o.user.empty() ? "client.admin" : o.user;
  int r = rados_create2(cluster, "ceph", user.c_str(), 0);
  if (r < 0) { *what = "rados_create2 " + user; return -r; }
  r = rados_conf_read_file(*cluster, o.conf.empty() ? nullptr : o.conf.c_str());
  if (r < 0) {
    *what = "reading ceph configuration " + (o.conf.empty() ? std::string("(default search path)") : o.conf);
    return -r;
  }
  if (!o.keyring.empty()) rados_conf_set(*cluster, "keyring", o.keyring.c_str());
  rados_conf_set(*cluster, "client_mount_timeout", Seconds(o.connectTimeoutMs).c_str());
  rados_conf_set(*cluster, "rados_mon_op_timeout", Seconds(o.connectTimeoutMs).c_str());
  rados_conf_set(*cluster, "rados_osd_op_timeout", Seconds(o.opTimeoutMs).c_str());
  for (const auto& kv : extra) rados_conf_set(*cluster, kv.first, kv.second);
  r = rados_connect(*cluster);
  if (r < 0) { *what = "connecting to the Ceph cluster as " + user; return -r; }
  r = rados_ioctx_create(*cluster, o.pool.c_str(), io);
  if (r < 0) { *what = "opening pool " + o.pool; return -r; }
  return 0;
}

}  // namespace nexus

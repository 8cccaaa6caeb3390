{
  "variables": {
    # io_uring is compiled in only when liburing's header is installed
    # (Debian: liburing-dev); otherwise the I/O queue uses its thread pool.
    # Override with `node-gyp rebuild -- -Dnexus_have_liburing=0`.
    "nexus_have_liburing%": "<!(test -f /usr/include/liburing.h && echo 1 || echo 0)",
    # The rbd backstore links librbd/librados only when their headers are installed (Debian:
    # librbd-dev); otherwise the addon reports haveLibrbd false and the rbd handler says so.
    # Override with `node-gyp rebuild -- -Dnexus_have_librbd=0`.
    "nexus_have_librbd%": "<!(test -f /usr/include/rbd/librbd.h && test -f /usr/include/rados/librados.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "nexus_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/errno.cc",
        "src/native/crc32c.cc",
        "src/native/shared-memory.cc",
        "src/native/block-io.cc",
        "src/native/io-queue.cc",
        "src/native/sg-queue.cc",
        "src/native/fd.cc",
        "src/native/peer-credentials.cc",
        "src/native/uio-ring.cc",
        "src/native/netlink.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_CPP_EXCEPTIONS",
        "_GNU_SOURCE"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "conditions": [
        ["nexus_have_liburing==1", {
          "defines": ["NEXUS_HAVE_LIBURING"],
          "libraries": ["-luring"]
        }],
        ["nexus_have_librbd==1", {
          "defines": ["NEXUS_HAVE_LIBRBD"],
          "sources": ["src/native/rados-cluster.cc", "src/native/rbd-image.cc", "src/native/rados-object.cc"],
          "libraries": ["-lrbd", "-lrados"]
        }]
      ]
    }
  ]
}

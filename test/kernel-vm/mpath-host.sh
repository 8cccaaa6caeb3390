# mpath-host.sh - sourced by run.sh: the host's side of the multipath steps (guest/multipath.sh).
# The guest asks on the console for an implicit ALUA transition ("KVMTEST: mpath host-request N
# <states JSON>"); the host sends alua.set for disk0 to the daemon's control socket (JSON-RPC, one
# line each way, docs/control.md) and writes the answer, its exit status and stderr to
# MPATH_REQ/N.out, N.rc, N.err, which the guest reads through its 9p view. Each request once.
MPATH_REQ=""
MPATH_DONE=" "
mpath_request() { # $1 console log, $2 control socket
  [ -n "$MPATH_REQ" ] || return 0
  local line n states rc
  while read -r line; do
    line=${line%$'\r'}; n=${line#*host-request }; states=${n#* }; n=${n%% *}
    case "$states" in "{"*"}") ;; *) continue ;; esac   # a line qemu has not finished writing
    case "$MPATH_DONE" in *" $n "*) continue ;; esac
    MPATH_DONE="$MPATH_DONE$n "
    timeout 20 node -e '
      const [sock, states] = process.argv.slice(1);
      const c = require("node:net").connect(sock);
      let buf = "";
      c.on("data", (d) => {
        buf += d;
        const i = buf.indexOf("\n");
        if (i < 0) return;
        const r = JSON.parse(buf.slice(0, i));
        console.log(JSON.stringify(r.error ?? r.result));
        process.exitCode = r.error ? 1 : 0;
        c.end();
      });
      c.on("error", (e) => { console.error(e.message); process.exitCode = 2; });
      c.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "alua.set", params: { device: "disk0", states: JSON.parse(states) } }) + "\n");
    ' "$2" "$states" >"$MPATH_REQ/$n.out" 2>"$MPATH_REQ/$n.err"; rc=$?
    echo "kernel-vm: host alua.set $states: exit $rc $(cat "$MPATH_REQ/$n.out" "$MPATH_REQ/$n.err" | tr '\n' ' ')"
    echo "$rc" >"$MPATH_REQ/$n.rc.tmp" && mv "$MPATH_REQ/$n.rc.tmp" "$MPATH_REQ/$n.rc"
  done < <(grep -a 'KVMTEST: mpath host-request ' "$1")
}

# steps.sh - sourced by run.sh, run-passthrough.sh and run-tcmu.sh: how a guest step ended, from the console,
# The guest prints "KVMTEST: PASS <step>" or "KVMTEST: FAIL <step> <why>"; a step it never reached
# has neither line.

# step_verdict CONSOLE STEP: prints PASS, "FAIL <why>" or "MISSING" for STEP.
step_verdict() {
  local line
  line=$(tr -d '\r' <"$1" 2>/dev/null | grep -a -m1 -E "KVMTEST: (PASS|FAIL) $2( |\$)")
  case "$line" in
    *"KVMTEST: PASS $2"*) echo PASS ;;
    *"KVMTEST: FAIL $2"*) echo "FAIL${line#*"FAIL $2"}" ;;
    *) echo MISSING ;;
  esac
}

# count_steps CONSOLE PREFIX STEP...: "PASS PREFIX<step>" / "FAIL PREFIX<step> <why>" per step (a
# step never reached is a FAIL); sets STEPS_PASSED and STEPS_FAILED.
count_steps() {
  local console=$1 prefix=$2 s v
  shift 2
  STEPS_PASSED=0; STEPS_FAILED=0
  for s in "$@"; do
    v=$(step_verdict "$console" "$s")
    case "$v" in
      PASS) echo "PASS $prefix$s"; STEPS_PASSED=$((STEPS_PASSED + 1)) ;;
      MISSING) echo "FAIL $prefix$s (not reached)"; STEPS_FAILED=$((STEPS_FAILED + 1)) ;;
      *) echo "FAIL $prefix$s${v#FAIL}"; STEPS_FAILED=$((STEPS_FAILED + 1)) ;;
    esac
  done
}

# The runs whose target lives in the guest (run-passthrough.sh, run-tcmu.sh) share their start and
# their boot. Both read the caller's ROOT, HERE, CACHE, RUN, VM_TO and its summary function.

# guest_run_prepare NAME STEPS TOOL...: the prerequisites (missing: every step skipped, or with
# CI=true failed), the VM's kernel and initramfs, and the compiled checkout the guest runs (tsx
# compiling the sources under TCG costs minutes). Exits the caller when one of them fails.
guest_run_prepare() {
  local name=$1 steps=$2
  shift 2
  "$ROOT/node_modules/.bin/tsx" "$ROOT/test/helpers/prereq.ts" kernel-vm tool:qemu-system-x86_64 tool:cpio tool:mkfs.ext4 "$@"
  case $? in
    0) ;;
    3) echo "0 passed, 0 failed, $(echo "$steps" | wc -w) skipped"; exit 0 ;;
    *) summary /dev/null; exit 1 ;;
  esac
  if ! timeout 1500 bash "$HERE/setup.sh" "$CACHE"; then
    echo "kernel-vm $name: setup failed"; summary /dev/null; exit 1
  fi
  if ! (cd "$ROOT" && timeout 600 node_modules/.bin/tsc -p tsconfig.json >"$RUN/build.log" 2>&1); then
    echo "kernel-vm $name: build failed: $(tail -3 "$RUN/build.log")"; summary /dev/null; exit 1
  fi
}

# guest_run_boot NAME GUEST_SCRIPT APPEND FILTER: boots the VM without a network (the guest is its
# own target and initiator) to run GUEST_SCRIPT, with APPEND added to the kernel command line;
# prints the console lines matching the KVMTEST FILTER and sets CONSOLE.
guest_run_boot() {
  local name=$1 script=$2 append=$3 filter=$4 kv t rc
  kv=$(ls "$CACHE/kroot/lib/modules" | head -1)
  CONSOLE=$RUN/console.log
  t=$(date +%s)
  timeout -k 10 "$VM_TO" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
    -kernel "$CACHE/kroot/boot/vmlinuz-$kv" -initrd "$CACHE/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 guest_script=$HERE/guest/init.sh kvm_cache=$CACHE kvm_test=$HERE/guest/$script kvm_root=$ROOT $append kvm_timeout=$((VM_TO - 30))" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -display none -serial stdio -monitor none -no-reboot -nic none >"$CONSOLE" 2>&1 </dev/null
  rc=$?
  echo "kernel-vm $name: VM ran $(( $(date +%s) - t ))s, qemu rc=$rc"
  grep -a "KVMTEST: \\($filter\\)" "$CONSOLE" | tr -d '\r' | sed 's/^/  /'
}

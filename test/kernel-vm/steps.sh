# steps.sh - sourced by run.sh and run-passthrough.sh: how a guest step ended, from the console.
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

# Quiet steps for the environment builders (scripts/setup.sh, scripts/vllm_env.sh): each step prints one
# line with the time elapsed since the start (in brackets) and the time the step took; what the tools
# themselves print (pip's warnings, setuptools, cmake) goes to a log file. On a failure the log's last 40
# lines and its path are printed, and the script exits non-zero.
#
# Source it after setting STEP_PREFIX (e.g. "setup") and STEP_LOG (the log file), then:
#   step "training stack" pip install -r requirements/train.txt     # a failure ends the script
#   run_logged "optional part" some-command || echo "...: WARNING"   # a failure is the caller's to handle
#   echo "$STEP_PREFIX: done in $(duration $((SECONDS - STEPS_STARTED)))"

STEPS_STARTED=$SECONDS

# 2m41s, or 41s under a minute.
duration() {
  local seconds=$1
  if ((seconds >= 60)); then
    echo "$((seconds / 60))m$((seconds % 60))s"
  else
    echo "${seconds}s"
  fi
}

# run_logged LABEL COMMAND...: runs COMMAND with its output appended to the log; prints LABEL, then
# the time it took or "failed". Returns COMMAND's exit status.
run_logged() {
  local label=$1 began=$SECONDS
  shift
  printf '%s: [%s] %s ... ' "$STEP_PREFIX" "$(duration $((SECONDS - STEPS_STARTED)))" "$label"
  printf '\n=== %s\n$ %s\n' "$label" "$*" >>"$STEP_LOG"
  if "$@" >>"$STEP_LOG" 2>&1; then
    duration $((SECONDS - began))
  else
    local status=$?
    echo "failed after $(duration $((SECONDS - began))) (exit $status)"
    return "$status"
  fi
}

# step LABEL COMMAND...: run_logged, and on a failure show the end of the log and exit with its status.
step() {
  run_logged "$@" || show_failure "$1" $?
}

show_failure() {
  local label=$1 status=$2
  {
    echo "$STEP_PREFIX: $label failed. The last 40 lines of $STEP_LOG:"
    tail -n 40 "$STEP_LOG" | sed 's/^/    /'
    echo "$STEP_PREFIX: the whole log: $STEP_LOG"
  } >&2
  exit "$status"
}

# start_step LABEL COMMAND...: starts COMMAND in the background, in a process group of its own, with its
# output in a log of its own (appended to STEP_LOG when it ends); finish_step waits for it, prints its
# line and returns its exit status. One at a time. If the script stops first (a failed step, Ctrl-C,
# SIGTERM), the whole group is killed: nothing outlives setup.
start_step() {
  BACKGROUND_LABEL=$1 BACKGROUND_BEGAN=$SECONDS BACKGROUND_LOG="$STEP_LOG.background"
  shift
  printf '\n=== %s (in the background)\n$ %s\n' "$BACKGROUND_LABEL" "$*" >>"$STEP_LOG"
  # bash -c times the command itself (a cache hit takes a second, however long setup takes to come back).
  setsid --wait bash -c 'began=$SECONDS; "$@"; status=$?; echo $((SECONDS - began)) >"$0"; exit $status' \
    "$BACKGROUND_LOG.seconds" "$@" >"$BACKGROUND_LOG" 2>&1 &
  BACKGROUND_PID=$!
  trap 'kill -- -"$BACKGROUND_PID" 2>/dev/null || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "$STEP_PREFIX: [$(duration $((SECONDS - STEPS_STARTED)))] $BACKGROUND_LABEL: started in the background"
}

finish_step() {
  local status=0 took
  printf '%s: [%s] %s ... ' "$STEP_PREFIX" "$(duration $((SECONDS - STEPS_STARTED)))" "$BACKGROUND_LABEL"
  wait "$BACKGROUND_PID" || status=$?
  trap - EXIT INT TERM
  took=$(cat "$BACKGROUND_LOG.seconds" 2>/dev/null || echo $((SECONDS - BACKGROUND_BEGAN)))
  cat "$BACKGROUND_LOG" >>"$STEP_LOG" && rm -f "$BACKGROUND_LOG" "$BACKGROUND_LOG.seconds"
  if ((status == 0)); then
    echo "$(duration "$took") (in the background)"
  else
    echo "failed after $(duration "$took") (exit $status)"
  fi
  return "$status"
}

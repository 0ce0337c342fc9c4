# Sourced by the benchmark scripts (after tools/lib/jdk.sh and tools/lib/test-classpath.sh).
# run_jmh LOG JMH_ARGS...: runs JMH (InferenceBenchmark and friends) with the project's JVM options, its output teed to
# stderr and LOG. JMH allows one benchmark per machine (/tmp/jmh.lock): on a shared machine, wait for the other one to
# finish rather than measure two benchmarks fighting over the cores.
run_jmh() {
  local log="$1" tries=0
  shift
  while true; do
    if "$java_bin" "${java_opts[@]}" -cp "$test_cp" org.openjdk.jmh.Main "$@" 2>&1 \
        | tee "$log" >&2; then  # pipefail: the status is java's
      return 0
    fi
    if grep -q "Unable to acquire the JMH lock" "$log" && (( ++tries < 60 )); then
      echo "another JMH benchmark is running; retrying in 15 s ($tries/60)" >&2
      sleep 15
    else
      return 1
    fi
  done
}

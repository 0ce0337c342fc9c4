# Sourced by tools/run-local and tools/soak-lifecycle: the pieces of the local stack (Kafka, Apicurio Registry, the
# service), each started in the background with its pid in a variable. Needs, set by the caller: repo, java_bin and
# java_opts (tools/lib/jdk.sh), data (the data folder), kafka_port, controller_port, registry_port,
# registry_management_port, service_port, and stack_name (the prefix of messages).

say() { printf '\033[1m[%s]\033[0m %s\n' "${stack_name:-stack}" "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_get() { # port path: the raw HTTP response, with no curl needed
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3 && cat <&3 ) 2>/dev/null
}
await_port() { # name port pid log
  for _ in $(seq 1 600); do
    port_open "$2" && return 0
    kill -0 "$3" 2>/dev/null || { say "$1 exited; last lines of $4:"; tail -n 30 "$4" >&2; return 1; }
    sleep 0.2
  done
  say "$1 did not open port $2 within 120 s; see $4"; return 1
}

# Kafka (KRaft, broker + controller in one process); formats the storage on first use. Sets kafka_pid.
start_kafka() {
  mkdir -p "$data/kafka" "$data/logs"
  cat > "$data/kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://localhost:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=16778240
# A client asking for a missing topic must not get one with the broker's default partition count (1): clipguard's
# topics are created on purpose (tools/clipguard create-topics) or by clipguard itself (its internal topics).
auto.create.topics.enable=false
PROPS
  local kafka_cp; kafka_cp="$(cat "$repo/target/test-classpath.txt")"
  # Kafka runs from the test classpath, which also carries Quarkus's JBoss LogManager: it takes over the JDK's
  # System.Logger, and unless it is also the JUL log manager from the start it prints a bogus "ERROR: The LogManager
  # accessed before the java.util.logging.manager system property was set". Log4j2 (Kafka's log-level controller) gets
  # a valid quiet configuration: "none" made it log "ERROR Reconfiguration failed" into kafka.log.
  printf 'status=warn\nrootLogger.level=warn\n' > "$data/kafka/log4j2.properties"
  local kafka_java=("$java_bin" -cp "$kafka_cp" -Djava.util.logging.manager=org.jboss.logmanager.LogManager
    "-Dlog4j2.configurationFile=$data/kafka/log4j2.properties")
  if [[ ! -f "$data/kafka/data/meta.properties" ]]; then
    say "formatting Kafka storage in $data/kafka/data"
    "${kafka_java[@]}" kafka.tools.StorageTool format --standalone -t "$("${kafka_java[@]}" kafka.tools.StorageTool random-uuid)" \
      -c "$data/kafka/server.properties" > "$data/logs/kafka-format.log" 2>&1
  fi
  say "starting Kafka on localhost:$kafka_port (log: $data/logs/kafka.log)"
  "${kafka_java[@]}" -Xmx1g kafka.Kafka "$data/kafka/server.properties" >> "$data/logs/kafka.log" 2>&1 &
  kafka_pid=$!
}

# Apicurio Registry with H2 file storage in the data folder. Sets registry_pid.
start_registry() {
  mkdir -p "$data/registry" "$data/logs"
  say "starting Apicurio Registry on localhost:$registry_port (log: $data/logs/registry.log)"
  (cd "$repo/target/apicurio-registry" && \
    QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$registry_port" \
    QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$registry_management_port" \
    APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=h2 \
    APICURIO_DATASOURCE_URL="jdbc:h2:file:$data/registry/apicurio;DB_CLOSE_ON_EXIT=FALSE" \
    APICURIO_DATASOURCE_USERNAME=sa APICURIO_DATASOURCE_PASSWORD=sa \
    exec "$java_bin" -Xmx512m -jar quarkus-run.jar) >> "$data/logs/registry.log" 2>&1 &
  registry_pid=$!
}

# Waits until the registry answers its API (its port opens well before that, and the service registers its schemas at
# start with a short timeout).
await_registry() {
  await_port "Apicurio Registry" "$registry_port" "$registry_pid" "$data/logs/registry.log" || return 1
  for _ in $(seq 1 600); do
    http_get "$registry_port" /apis/ccompat/v7/subjects | head -n1 | grep -q ' 200' && return 0
    kill -0 "$registry_pid" 2>/dev/null || { say "Apicurio Registry exited; see $data/logs/registry.log"; return 1; }
    sleep 0.2
  done
  say "Apicurio Registry did not answer within 120 s; see $data/logs/registry.log"; return 1
}

# The service with models/tiny-clip-test; $1: its Kafka Streams state folder (default $data/streams), $2: its log.
# Sets service_pid and service_log.
start_service() {
  local state="${1:-$data/streams}"; service_log="${2:-$data/logs/service.log}"
  mkdir -p "$state" "$(dirname "$service_log")"
  # clipguard.detectors.* pass through from the environment, e.g. CLIPGUARD_DETECTORS_EXTRA_MODEL_DIRS (docs/operations.md)
  say "starting clipguard on localhost:$service_port with models/tiny-clip-test${CLIPGUARD_DETECTORS_EXTRA_MODEL_DIRS:+ + $CLIPGUARD_DETECTORS_EXTRA_MODEL_DIRS (${CLIPGUARD_DETECTORS_FUSION:-soft_or_prob})} (log: $service_log)"
  QUARKUS_HTTP_PORT="$service_port" CLIPGUARD_STATE_DIR="$state" CLIPGUARD_FETCH_FILE_ROOTS="${CLIPGUARD_FETCH_FILE_ROOTS:-$repo/samples/uploads}" \
    CLIPGUARD_ENGINE_MODEL_DIR="$repo/models/tiny-clip-test" \
    "$java_bin" "${java_opts[@]}" -jar "$repo/target/quarkus-app/quarkus-run.jar" >> "$service_log" 2>&1 &
  service_pid=$!
}

# Why the service's liveness is DOWN (its health's "reason"), or nothing while it is UP or not answering.
service_down_reason() {
  local live; live="$(http_get "$service_port" /q/health/live)"
  grep -q '"status": "DOWN"' <<<"$live" || return 1
  sed -n 's/.*"reason": "\(.*\)".*/\1/p' <<<"$live" | sed 's/\\n/\n/g; s/\\"/"/g'
}

# Waits until the service is ready. Returns 1, saying why, when it exits or reports itself DOWN first.
await_service_ready() {
  local reason
  for i in $(seq 1 600); do
    http_get "$service_port" /q/health/ready | grep -q '"status": "UP"' && return 0
    kill -0 "$service_pid" 2>/dev/null || { say "clipguard exited; last lines of its log:"; tail -n 40 "$service_log" >&2; return 1; }
    if reason="$(service_down_reason)" && [[ -n "$reason" ]]; then say "clipguard refused to start:"; printf '%s\n' "$reason" >&2; return 1; fi
    ((i == 600)) && { say "clipguard not ready after 120 s; see $service_log"; return 1; }
    sleep 0.2
  done
}

# Stops the processes whose pids are given one at a time, newest first: SIGTERM, then SIGKILL after 20 s (the
# service's own SIGTERM bound is 15 s by default). One at a time so that the service commits and closes while the
# registry and broker it talks to are still up, instead of being halted by its shutdown deadline.
stop_pids() {
  local pids=("$@") p
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    p="${pids[i]}"
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

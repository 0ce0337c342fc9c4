# Sourced by the tools/ scripts and .ci/run: sets java_home to a JDK >= 21, or explains and exits.
# Order: $JAVA_HOME if it is >= 21, then the Temurin 25 JDK of the build machines, then `java` on the PATH.
java_major() { # feature version of the java binary $1 (empty if unknown)
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
java_home=""
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" && "$(java_major "$JAVA_HOME/bin/java")" -ge 21 ]]; then
  java_home="$JAVA_HOME"
elif [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  java_home=/usr/lib/jvm/temurin-25-jdk-amd64
elif command -v java >/dev/null && [[ "$(java_major "$(command -v java)")" -ge 21 ]]; then
  java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
else
  echo "needs a JDK 21 or newer: set JAVA_HOME to one (found: ${JAVA_HOME:-no JAVA_HOME}, $(command -v java || echo 'no java on PATH'))" >&2
  exit 3
fi
export JAVA_HOME="$java_home"
java_bin="$java_home/bin/java"
# JDK 24+ warns when Netty (inside the Kafka and registry clients) uses sun.misc.Unsafe; allow it quietly there.
java_opts=(--enable-native-access=ALL-UNNAMED)
# SIMD for the bicubic resampler (io.clipguard.image.ResamplePasses falls back to scalar without it); the JVM prints
# one "WARNING: Using incubator modules" line on stderr at start.
java_opts+=(--add-modules=jdk.incubator.vector)
(( $(java_major "$java_bin") >= 24 )) && java_opts+=(--sun-misc-unsafe-memory-access=allow)

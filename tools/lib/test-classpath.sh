# Sourced by the benchmark scripts (after tools/lib/jdk.sh): compiles main and test classes and sets test_cp to the
# classpath that runs them (test classes, classes, every test-scope dependency).
./mvnw -q -B test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
test_cp="target/test-classes:target/classes:$(cat target/test-classpath.txt)"

package io.clipguard.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One service instance in its own JVM, so that a test can kill it abruptly (SIGKILL: no close, no commit, no flush).
 * Args: bootstrap registryUrl applicationId stateDir topicSuffix maxBatchSize partitionBatchMaxWaitMs.
 */
public final class StreamsWorker {
    public static void main(String[] args) throws Exception {
        QuietLogging.apply();
        ModerationPipeline pipeline = new ModerationPipeline(args[0], args[1], args[2], Path.of(args[3]),
                ModerationPipeline.settings(args[4], Integer.parseInt(args[5]), Duration.ofMillis(Long.parseLong(args[6])), 0.5),
                ModerationPipeline.fetchPolicy(List.of()));
        pipeline.start(Duration.ofSeconds(60));
        System.out.println("WORKER RUNNING, restored pending uploads: " + pipeline.metrics().pending());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** Starts a worker JVM on this test run's classpath and waits until its streams run. */
    public static Process start(Path log, String... args) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                StreamsWorker.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Waits.await("worker running (log: " + log + ")").failFast("worker exited", () -> !p.isAlive())
                    .until(() -> Files.readString(log).contains("WORKER RUNNING"));
        } catch (Exception | Error e) { // Awaitility rethrows the condition's checked exceptions as they are
            p.destroyForcibly();
            throw new IllegalStateException("worker did not start (" + e.getMessage() + "); its log:\n" + Files.readString(log), e);
        }
        return p;
    }
}

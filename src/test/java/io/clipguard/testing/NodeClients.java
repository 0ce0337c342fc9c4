package io.clipguard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The scripts of {@code src/test/node}: third-party clients (kafkajs and @kafkajs/confluent-schema-registry, pinned in
 * its package-lock.json) run by {@code node}, each printing one JSON value. {@code npm ci} installs the packages when
 * {@code node_modules} is missing. Without {@code node} and {@code npm} on the PATH a test using them is skipped, unless
 * {@code CLIPGUARD_NODE_TESTS=required} (set by {@code .ci/run}, which installs them), where it fails.
 */
public final class NodeClients {
    public static final Path DIR = Path.of("src/test/node");
    private static final long RUN_SECONDS = 90; // longer than each script's own bound, so the script reports first

    private NodeClients() {}

    /** Skips (or, where required, fails) the calling test without node and npm; installs the packages if missing. */
    public static synchronized void install() throws Exception {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("node", "npm")) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            String why = missing + " not on the PATH: the kafkajs interop checks need Node.js (apt-get install nodejs npm)";
            if ("required".equals(System.getenv("CLIPGUARD_NODE_TESTS"))) {
                throw new AssertionError(why + ", and CLIPGUARD_NODE_TESTS=required");
            }
            Assumptions.abort(why);
        }
        // Surefire runs two test JVMs: a file lock keeps them from running npm ci in the same folder at once.
        Files.createDirectories(Path.of("target"));
        try (FileChannel lock = FileChannel.open(Path.of("target/npm-ci.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = lock.lock()) {
            if (!Files.isDirectory(DIR.resolve("node_modules"))) {
                Result r = exec(List.of("npm", "ci", "--no-audit", "--no-fund"), 300);
                if (r.exit != 0) {
                    throw new AssertionError("npm ci in " + DIR + " failed (" + r.exit + "): " + r.stderr);
                }
            }
        }
    }

    /** Runs {@code node <script> <args>} in {@link #DIR}; its stdout parsed as JSON, or an error with its stderr. */
    public static JsonNode run(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        Result r = exec(command, RUN_SECONDS);
        if (r.exit != 0) {
            throw new AssertionError(script + " exited with " + r.exit + ": " + r.stderr);
        }
        return new ObjectMapper().readTree(r.stdout);
    }

    private record Result(int exit, String stdout, String stderr) {}

    private static Result exec(List<String> command, long seconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile("node-out", ".txt");
        Path err = Files.createTempFile("node-err", ".txt");
        try {
            Process p = new ProcessBuilder(command).directory(DIR.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(command + " did not end within " + seconds + " s: " + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    }
}

package io.clipguard.inference;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Says why ONNX Runtime's CUDA execution provider did not start, beyond ORT's own "failed to load" message: which
 * shared libraries the provider library this JVM extracted cannot find.
 */
final class CudaDiagnosis {
    private CudaDiagnosis() {}

    /**
     * ORT's exception only says the CUDA provider library failed to load; {@code ldd} on the library this JVM's ORT
     * extracted names the missing dependencies (e.g. libcublasLt.so.12). Run in a child process: loading the library
     * here would map CUDA code into the service for nothing.
     */
    static Optional<String> missingLibraries() {
        Optional<Path> library = extractedCudaProvider();
        if (library.isEmpty()) {
            return Optional.empty();
        }
        try {
            Process ldd = new ProcessBuilder("ldd", library.get().toString()).redirectErrorStream(true).start();
            String output;
            try (var in = ldd.getInputStream()) {
                output = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            if (!ldd.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                ldd.destroyForcibly();
                return Optional.empty();
            }
            List<String> missing = output.lines().filter(line -> line.contains("=> not found"))
                    .map(line -> line.trim().split("\\s+")[0]).distinct().toList();
            return missing.isEmpty() ? Optional.empty()
                    : Optional.of("missing libraries: " + String.join(", ", missing));
        } catch (IOException e) {
            return Optional.empty(); // no ldd here: the ORT message alone must do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The CUDA provider library of this JVM's ORT: onnxruntime.native.path, or the folder ORT extracted it to. */
    private static Optional<Path> extractedCudaProvider() {
        Path dir;
        String nativePath = System.getProperty("onnxruntime.native.path");
        if (nativePath != null) {
            dir = Path.of(nativePath);
        } else {
            try { // ORT keeps its per-JVM extraction folder in a private static field
                Field field = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("tempDirectory");
                field.setAccessible(true);
                dir = (Path) field.get(null);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return Optional.empty();
            }
        }
        Path library = dir == null ? null : dir.resolve("libonnxruntime_providers_cuda.so");
        return library != null && Files.isRegularFile(library) ? Optional.of(library) : Optional.empty();
    }
}

package io.clipguard.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary folders that tests and benchmarks made themselves. */
public final class TempFiles {
    private TempFiles() {}

    /** Deletes a folder and everything in it, deepest first; what cannot be deleted stays, without an error. */
    public static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

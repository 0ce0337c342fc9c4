package io.clipguard.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The bundled test model and helpers to make broken copies of it in a temp folder. */
public final class TestModels {
    /** models/tiny-clip-test: random-init tiny CLIP tower (64-d features), made by tools/export_clip_onnx.py. */
    public static final Path TINY = Path.of("models", "tiny-clip-test");
    /** models/tiny-res50nodown-test: random-init narrow res50nodown (a logit model at native resolution). */
    public static final Path TINY_RES50 = Path.of("models", "tiny-res50nodown-test");
    public static final Path GOLDEN_IMAGES = Path.of("src", "test", "resources", "golden", "images");
    public static final Path GOLDEN_BAD = Path.of("src", "test", "resources", "golden", "bad");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestModels() {}

    /** Copies the tiny model folder (manifest, model.onnx, head.json) into {@code target}. */
    public static Path copyTiny(Path target) {
        return copyModel(TINY, target);
    }

    /** Copies a model folder into {@code target}. */
    public static Path copyModel(Path model, Path target) {
        try {
            Files.createDirectories(target);
            try (Stream<Path> files = Files.list(model)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, target.resolve(f.getFileName()));
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites a JSON file in place. */
    public static void editJson(Path file, Consumer<ObjectNode> edit) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
            edit.accept(root);
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the tiny model's head to {@code file} under another version, with {@code dim} weights (the head's own,
     * repeated past its 64) scaled by {@code scale}: a head that fits the backbone when {@code dim} is 64, one that
     * does not otherwise.
     */
    public static Path scaledHead(Path file, String version, int dim, double scale) {
        try {
            ObjectNode head = (ObjectNode) JSON.readTree(TINY.resolve("head.json").toFile());
            var weights = JSON.createArrayNode();
            for (int i = 0; i < dim; i++) {
                weights.add(head.get("weights").get(i % head.get("weights").size()).asDouble() * scale);
            }
            head.set("weights", weights);
            head.put("version", version);
            JSON.writeValue(file.toFile(), head);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

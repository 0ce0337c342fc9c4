package io.clipguard.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.model.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A features folder read back whose features.json is broken: the message names the field, not Jackson's internals. */
class FeaturesFolderTest {
    @TempDir
    Path tmp;

    @Test
    void aBrokenDescriptionNamesTheField() throws Exception {
        Path dir = copy(LinearTrainerTest.FIXTURES.resolve("features-train"));
        Path info = dir.resolve(FeaturesFolder.INFO);
        assertThat(FeaturesFolder.read(dir).info().dim()).isPositive();

        TestModels.editJson(info, j -> j.remove("dim"));
        assertThatThrownBy(() -> FeaturesFolder.read(dir)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(info + " is not a features description: field 'dim' is missing (a number)")
                .hasMessageContaining("tools/clipguard embed writes it");
        TestModels.editJson(info, j -> j.put("dim", "64x"));
        assertThatThrownBy(() -> FeaturesFolder.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("field 'dim' is \"64x\" (a number expected)");
        TestModels.editJson(info, j -> j.put("format", "clipguard-features/v0"));
        assertThatThrownBy(() -> FeaturesFolder.read(dir)).isInstanceOf(IOException.class)
                .hasMessage(info + ": unknown format \"clipguard-features/v0\"; expected 'clipguard-features/v1'."
                        + " Recompute the features with tools/clipguard embed.");
        Files.writeString(info, "[]");
        assertThatThrownBy(() -> FeaturesFolder.read(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("is not a features description: it holds a JSON array, not an object");
    }

    private Path copy(Path from) throws IOException {
        Path to = Files.createDirectories(tmp.resolve(from.getFileName()));
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }
}

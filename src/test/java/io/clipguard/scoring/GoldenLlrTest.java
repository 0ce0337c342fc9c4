package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clipguard.model.TestModels;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/**
 * End to end against the reference pipeline: every golden image's LLR from our engine (decode, PIL-exact resize and
 * crop, ONNX Runtime, head) equals {@code tools/reference_llr.py}'s (PIL 9.4 + torchvision 0.14 + PyTorch, same
 * weights and head) in src/test/resources/golden/reference-llr.csv.
 */
class GoldenLlrTest {
    static final Path REFERENCE = Path.of("src", "test", "resources", "golden", "reference-llr.csv");
    static final Path GOLDEN_MANIFEST = Path.of("src", "test", "resources", "golden", "manifest.csv");
    /** Same pixels ⇒ same LLR up to float32 accumulation order. */
    static final double TOLERANCE = 1e-4;
    /**
     * Lossy WebP: our decoder and libwebp (PIL) reconstruct slightly different pixels (measured by the image package's
     * tests), so the LLR only agrees approximately.
     */
    static final double LOSSY_WEBP_TOLERANCE = 0.05;

    @Test
    void engineLlrEqualsTheReferencePipeline() throws Exception {
        assumeTrue(Files.exists(REFERENCE), REFERENCE + " not generated yet (tools/reference_llr.py)");
        Map<String, Double> reference = new HashMap<>();
        for (CSVRecord r : csv(REFERENCE)) {
            reference.put(r.get("name"), Double.parseDouble(r.get("llr")));
        }
        Map<String, String> formats = new HashMap<>();
        for (CSVRecord r : csv(GOLDEN_MANIFEST)) {
            formats.put(r.get("name"), r.get("format"));
        }
        List<String> names = new ArrayList<>(reference.keySet());
        List<byte[]> images = new ArrayList<>();
        for (String name : names) {
            images.add(TestModels.read(TestModels.GOLDEN_IMAGES.resolve(name)));
        }
        assertThat(names).hasSizeGreaterThanOrEqualTo(30);
        List<ScoreOutcome> outcomes;
        try (ScoringEngine engine = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                .intraOpThreads(1).decodeThreads(2).build())) {
            outcomes = engine.scoreAll(images);
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            double tolerance = "WEBP-LOSSY".equals(formats.get(name)) ? LOSSY_WEBP_TOLERANCE : TOLERANCE;
            assertThat(outcomes.get(i)).as(name).isInstanceOfSatisfying(ScoreOutcome.Scored.class,
                    s -> assertThat(s.llr()).as(name).isCloseTo(reference.get(name), within(tolerance)));
        }
    }

    private static List<CSVRecord> csv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file)) {
            return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r).getRecords();
        }
    }
}

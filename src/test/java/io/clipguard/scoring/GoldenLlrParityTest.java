package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.inference.Device;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our LLR equals the reference pipeline's: src/test/resources/golden/reference-llr.csv holds what PIL 9.4 +
 * torchvision 0.14 + PyTorch (tools/reference_llr.py) compute with models/tiny-clip-test's weights and head on every
 * golden image; the engine scores the same files through ONNX Runtime.
 */
class GoldenLlrParityTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    static ScoringEngine engine;

    @BeforeAll
    static void open() throws Exception {
        engine = ScoringEngine.open(EngineConfig.builder(Path.of("models/tiny-clip-test")).device(Device.CPU).build());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void everyGoldenImageScoresLikeTheReferencePipeline() throws IOException {
        Map<String, Double> reference = new LinkedHashMap<>();
        try (Reader in = Files.newBufferedReader(GOLDEN.resolve("reference-llr.csv"))) {
            for (CSVRecord r : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(in)) {
                reference.put(r.get("name"), Double.parseDouble(r.get("llr")));
            }
        }
        assertThat(reference).hasSizeGreaterThanOrEqualTo(30);
        List<String> names = new ArrayList<>(reference.keySet());
        List<byte[]> bytes = new ArrayList<>();
        for (String name : names) {
            bytes.add(Files.readAllBytes(GOLDEN.resolve("images").resolve(name)));
        }
        List<ScoreOutcome> outcomes = engine.scoreAll(bytes);

        double maxDelta = 0;
        String worst = "";
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            assertThat(outcomes.get(i)).as(name).isInstanceOf(ScoreOutcome.Scored.class);
            double delta = Math.abs(((ScoreOutcome.Scored) outcomes.get(i)).llr() - reference.get(name));
            if (delta > maxDelta) {
                maxDelta = delta;
                worst = name;
            }
        }
        System.out.printf(Locale.ROOT, "LLR parity over %d images: max |Δ| = %.3g (%s)%n", names.size(), maxDelta, worst);
        assertThat(maxDelta).as("max |LLR - reference LLR|, worst " + worst).isLessThanOrEqualTo(1e-4);
    }
}

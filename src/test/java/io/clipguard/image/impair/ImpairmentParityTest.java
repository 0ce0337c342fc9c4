package io.clipguard.image.impair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every impairment against Pillow 9.4's output of the same call (tools/reference_robustness.py, committed under
 * src/test/resources/robustness/): codecs byte for byte (so the decoded pixels are Pillow's too), pixel operations
 * with max |Δ| = 0.
 */
class ImpairmentParityTest {
    static final Path FIXTURES = Path.of("src/test/resources/robustness");
    static final Path GOLDEN = Path.of("src/test/resources/golden/images");
    static final List<String> IMAGES = List.of("jpeg422_225x301.jpg", "jpeg444_97x61.jpg");
    static final List<String> EXTRA = List.of("resize:0.5+jpeg:70", "crop:0.5+blur:2");

    private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.DEFAULT);

    static ImageContext context(String name, long seed) {
        return new ImageContext(name, seed, DECODER, ImageLimits.DEFAULT);
    }

    static RgbImage original(String image) throws Exception {
        return DECODER.decode(Files.readAllBytes(GOLDEN.resolve(image)));
    }

    static Stream<Arguments> fixtures() {
        List<Arguments> cases = new ArrayList<>();
        for (String image : IMAGES) {
            for (String spec : Stream.concat(Impairments.DEFAULT_SPECS.stream(), EXTRA.stream()).toList()) {
                if (!spec.equals("dmid")) {
                    cases.add(Arguments.of(image, spec));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{1} of {0}")
    @MethodSource("fixtures")
    void equalsPillow(String image, String spec) throws Exception {
        Impairment impairment = Impairments.parse(spec);
        Impaired ours = impairment.apply(original(image), context(image, 0));
        Path folder = FIXTURES.resolve(image.substring(0, image.lastIndexOf('.')));
        assertPillow(folder, impairment.fileName(), ours);
    }

    @Test
    void dmidWithEitherFilterEqualsPillow() throws Exception {
        RgbImage original = original("jpeg422_225x301.jpg");
        Path folder = FIXTURES.resolve("jpeg422_225x301");
        Impaired lanczos = Operation.Dmid.operations(original, 217, 3, 41, 83, context("x", 0), Map.of());
        assertThat(lanczos.drawn()).containsEntry("dmid_filter", "lanczos");
        assertPillow(folder, "dmid-lanczos", lanczos);
        Impaired bicubic = Operation.Dmid.operations(original, 180, 20, 100, 65, context("x", 0), Map.of());
        assertThat(bicubic.drawn()).containsEntry("dmid_filter", "bicubic");
        assertPillow(folder, "dmid-bicubic", bicubic);
    }

    /** The draws equal those the script made with its own java.util.Random, for every sample and seed 0. */
    @Test
    void dmidDrawsAreSeededByNameAndReproducible() throws Exception {
        Map<String, String> pythonDraws = new HashMap<>();
        for (String line : Files.readAllLines(FIXTURES.resolve("reference-robustness-llr.csv"))) {
            String[] cells = line.split(",", -1);
            if (cells[0].equals("dmid")) {
                pythonDraws.put(cells[1], cells[3]);
            }
        }
        assertThat(pythonDraws).hasSize(36);
        Impairment dmid = Impairments.parse("dmid");
        for (Map.Entry<String, String> sample : pythonDraws.entrySet()) {
            RgbImage image = DECODER.decode(Files.readAllBytes(Path.of("samples/training").resolve(sample.getKey())));
            Impaired first = dmid.apply(image, context(sample.getKey(), 0));
            Impaired again = dmid.apply(image, context(sample.getKey(), 0));
            List<String> drawn = new ArrayList<>();
            first.drawn().forEach((k, v) -> drawn.add(k + "=" + v));
            assertThat(String.join(" ", drawn)).as(sample.getKey()).isEqualTo(sample.getValue());
            assertThat(again.drawn()).isEqualTo(first.drawn());
            assertThat(again.encoded()).isEqualTo(first.encoded());
        }
        RgbImage image = original("jpeg422_225x301.jpg");
        assertThat(dmid.apply(image, context("a.jpg", 1)).drawn())
                .isNotEqualTo(dmid.apply(image, context("a.jpg", 2)).drawn());
    }

    @Test
    void tooSmallImagesAreTypedErrors() throws Exception {
        RgbImage small = original("jpeg444_97x61.jpg");
        assertThatThrownBy(() -> Impairments.parse("dmid").apply(small, context("s", 0)))
                .isInstanceOfSatisfying(ImpairmentException.class, e -> assertThat(e.reason()).isEqualTo("TOO_SMALL"))
                .hasMessageContaining("97x61");
        assertThatThrownBy(() -> Impairments.parse("crop:0.001").apply(small, context("s", 0)))
                .isInstanceOfSatisfying(ImpairmentException.class, e -> assertThat(e.reason()).isEqualTo("TOO_SMALL"))
                .hasMessageContaining("0x0");
        assertThatThrownBy(() -> Impairments.parse("resize:0.001").apply(small, context("s", 0)))
                .isInstanceOfSatisfying(ImpairmentException.class, e -> assertThat(e.reason()).isEqualTo("TOO_SMALL"));
        // The script's rows for the small image say the same.
        assertThat(Files.readAllLines(FIXTURES.resolve("reference-llr.csv")))
                .anyMatch(l -> l.startsWith("jpeg444_97x61.jpg,dmid,,TOO_SMALL"));
    }

    @Test
    void specsParseAndBadOnesSayWhy() throws Exception {
        Impairment chain = Impairments.parse(" Resize:0.5 + jpeg:70 ");
        assertThat(chain.spec()).isEqualTo("resize:0.5+jpeg:70");
        assertThat(chain.family()).isEqualTo("resize+jpeg");
        assertThat(chain.fileName()).isEqualTo("resize-0.5+jpeg-70");
        assertThat(Impairments.parse("social").spec()).isEqualTo("social:1");
        assertThat(Impairments.DEFAULT).hasSize(21);
        for (String bad : List.of("jpeg", "jpeg:0", "jpeg:101", "jpeg:7.5", "resize:-1", "crop:1.5", "blur:-1",
                "social:3", "dmid:5", "sharpen:2", "", "jpeg:70+")) {
            assertThatThrownBy(() -> Impairments.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("syntax");
        }
        Path file = Files.createTempFile("impairments", ".txt");
        try {
            Files.writeString(file, "# mine\njpeg:70\n\nresize:0.5+jpeg:70  # a chain\njpeg:70\n");
            assertThat(Impairments.read(file.toString())).extracting(Impairment::spec)
                    .containsExactly("jpeg:70", "resize:0.5+jpeg:70");
            Files.writeString(file, "jpeg:70\nblurr:2\n");
            assertThatThrownBy(() -> Impairments.read(file.toString())).isInstanceOf(IOException.class)
                    .hasMessageContaining("line 2").hasMessageContaining("blurr");
        } finally {
            Files.delete(file);
        }
    }

    private static void assertPillow(Path folder, String name, Impaired ours) throws Exception {
        Path png = folder.resolve(name + ".png");
        if (Files.exists(png)) {
            assertThat(ours.pixels()).as(name + " gives pixels").isNotNull();
            RgbImage pillow = io.clipguard.image.GoldenFixturesAccess.readReferencePng(png);
            assertThat(ours.pixels().width()).as(name).isEqualTo(pillow.width());
            assertThat(ours.pixels().height()).as(name).isEqualTo(pillow.height());
            assertThat(maxAbsDifference(ours.pixels(), pillow)).as(name + " max |Δ|").isZero();
            return;
        }
        Path encoded = Stream.of(".jpg", ".webp").map(e -> folder.resolve(name + e)).filter(Files::exists).findFirst()
                .orElseThrow(() -> new AssertionError("no Pillow fixture for " + name + " in " + folder));
        assertThat(ours.encoded()).as(name + " gives encoded bytes").isNotNull();
        // Same bytes as Pillow's, hence the same pixels once decoded.
        byte[] pillow = Files.readAllBytes(encoded);
        assertThat(java.util.Arrays.mismatch(ours.encoded(), pillow)).as(name + ": first byte that differs from"
                + " Pillow's (" + ours.encoded().length + " vs " + pillow.length + " bytes)").isEqualTo(-1);
    }

    static int maxAbsDifference(RgbImage a, RgbImage b) {
        int max = 0;
        for (int i = 0; i < a.rgb().length; i++) {
            max = Math.max(max, Math.abs((a.rgb()[i] & 0xFF) - (b.rgb()[i] & 0xFF)));
        }
        return max;
    }

    static Map<String, String> ordered(Map<String, String> map) {
        return new LinkedHashMap<>(map);
    }
}

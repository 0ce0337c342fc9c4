package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.inference.BatchListener;
import io.clipguard.inference.Device;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.TestModels;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's detector set as {@code clipguard.engine.model-dir} and {@code clipguard.detectors.*} open it
 * ({@link EngineProducer#openDetectors}): the default is the CLIP detector alone; a set that cannot work is refused at
 * start with the setting to fix named.
 */
class DetectorSetConfigTest {
    static final EngineConfig CLIP = EngineConfig.builder(TestModels.TINY).device(Device.CPU).build();

    @TempDir
    Path tmp;

    private static DetectorSet open(EngineConfig clip, List<Path> extra, String fusion, List<String> maxPixels)
            throws ModelLoadException {
        return EngineProducer.openDetectors(clip, extra, fusion, 0, maxPixels, null, id -> BatchListener.NONE);
    }

    @Test
    void byDefaultTheClipDetectorAloneAndWithExtraFoldersTheReferencesSet() throws Exception {
        try (DetectorSet alone = open(CLIP, List.of(), "soft_or_prob", List.of())) {
            assertThat(alone.detectors()).extracting(DetectorSet.Detector::id).containsExactly("tiny-clip-test");
            assertThat(alone.featuresEngine()).isNotNull();
        }
        try (DetectorSet pair = open(CLIP, List.of(TestModels.TINY_RES50), "MEAN_PROB",
                List.of("tiny-res50nodown-test=50000"))) {
            assertThat(pair.detectors()).extracting(DetectorSet.Detector::id)
                    .containsExactly("tiny-clip-test", "tiny-res50nodown-test");
            assertThat(pair.fusion()).isEqualTo(Fusion.MEAN_PROB);
            assertThat(pair.detectors().get(1).engine().config().maxPixels()).isEqualTo(50_000L);
            assertThat(pair.detectors().get(1).engine().config().device()).as("the engine settings apply to each")
                    .isEqualTo(Device.CPU);
        }
    }

    @Test
    void anUnknownFusionRuleIsRefusedNamingTheSettingAndTheRules() {
        assertThatThrownBy(() -> open(CLIP, List.of(TestModels.TINY_RES50), "soft_or", List.of()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clipguard.detectors.fusion (CLIPGUARD_DETECTORS_FUSION)")
                .hasMessageContaining("unknown fusion rule 'soft_or'").hasMessageContaining("soft_or_prob");
    }

    @Test
    void aFolderThatDoesNotLoadIsRefusedNamingTheSetting() {
        Path missing = tmp.resolve("no-such-model");
        assertThatThrownBy(() -> open(CLIP, List.of(missing), "soft_or_prob", List.of()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clipguard.detectors.extra-model-dirs (CLIPGUARD_DETECTORS_EXTRA_MODEL_DIRS) names "
                        + missing + ", which cannot be loaded");
        assertThatThrownBy(() -> open(EngineConfig.builder(missing).build(), List.of(), "soft_or_prob", List.of()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clipguard.engine.model-dir (CLIPGUARD_ENGINE_MODEL_DIR) names " + missing);
    }

    @Test
    void twoClipDetectorsOrALogitModelAsTheClipDetectorAreRefused() {
        Path secondClip = TestModels.copyTiny(tmp.resolve("second-clip"));
        assertThatThrownBy(() -> open(CLIP, List.of(secondClip), "soft_or_prob", List.of()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("outputs features for a head: a detector set holds one CLIP detector")
                .hasMessageContaining("Remove it from clipguard.detectors.extra-model-dirs");
        assertThatThrownBy(() -> open(EngineConfig.builder(TestModels.TINY_RES50).build(), List.of(), "soft_or_prob", List.of()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("which outputs its logit: that setting is the CLIP detector")
                .hasMessageContaining("put this one in clipguard.detectors.extra-model-dirs");
    }

    @Test
    void aBadPixelCapIsRefusedNamingTheSetting() {
        assertThatThrownBy(() -> open(CLIP, List.of(TestModels.TINY_RES50), "soft_or_prob", List.of("lots")))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("clipguard.detectors.max-pixels")
                .hasMessageContaining("'lots' is not N or ID=N");
        assertThatThrownBy(() -> open(CLIP, List.of(TestModels.TINY_RES50), "soft_or_prob", List.of("corvi=1000")))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clipguard.detectors.max-pixels names detector 'corvi'");
    }
}

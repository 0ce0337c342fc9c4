package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clipguard.image.GoldenFixtures.Difference;
import io.clipguard.image.GoldenFixtures.Fixture;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fast mode against exact mode on the 224 crop: every golden image plus phone-sized JPEGs. Large JPEGs are decoded at
 * reduced scale in the IDCT and drift by at most 2 levels on the golden set. The phone-sized ones carry strong
 * per-pixel grain (σ = 4 levels), which the reduced IDCT aliases: single samples drift up to 9 levels at 1/2 scale,
 * the mean stays below 1 level. Everything else is identical.
 */
class FastDecodePixelDriftTest {
    private static final ClipPreprocessor PREPROCESSOR = new ClipPreprocessor(PreprocessSpec.CLIP_224);
    private static final int MIN_SHORTER_SIDE = 2 * PreprocessSpec.CLIP_224.resizeShorterSide();

    @Test
    void reductionIsTheSmallestScaleKeepingTheShorterSideAtLeastTwiceTheResize() {
        assertThat(NativePlan.idctReduction(4032, 3024, 448)).isEqualTo(4); // 756 ≥ 448, 378 < 448
        assertThat(NativePlan.idctReduction(1920, 1080, 448)).isEqualTo(2); // 540
        assertThat(NativePlan.idctReduction(1200, 896, 448)).isEqualTo(2);
        assertThat(NativePlan.idctReduction(1200, 895, 448)).isEqualTo(2); // libjpeg rounds up: 448
        assertThat(NativePlan.idctReduction(1200, 894, 448)).isEqualTo(1);
        assertThat(NativePlan.idctReduction(640, 427, 448)).isEqualTo(1);
        assertThat(NativePlan.idctReduction(20000, 10000, 448)).isEqualTo(8);
    }

    @Test
    void fastCropsDriftAtMostTwoLevelsAndOnlyLargeJpegsAreScaled() throws Exception {
        assumeTrue(ImageDecoder.nativeDecoderAvailable(), "fast mode needs the native JPEG decoder");
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (Fixture f : GoldenFixtures.all()) {
            images.put(f.name(), f.bytes());
        }
        int golden = images.size();
        images.putAll(LargeJpegs.all());
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        int worst = 0;
        int index = 0;
        org.assertj.core.api.SoftAssertions soft = new org.assertj.core.api.SoftAssertions();
        for (Map.Entry<String, byte[]> e : images.entrySet()) {
            long scaledBefore = decoder.counters().scaledDecodes();
            RgbImage exact = decoder.decode(e.getValue(), DecodeMode.EXACT, MIN_SHORTER_SIDE, PREPROCESSOR::resizeAndCrop);
            RgbImage fast = decoder.decode(e.getValue(), DecodeMode.FAST, MIN_SHORTER_SIDE, PREPROCESSOR::resizeAndCrop);
            boolean scaled = decoder.counters().scaledDecodes() > scaledBefore;
            Difference d = Difference.between(fast, exact);
            System.out.printf(Locale.ROOT, "fast vs exact %-28s scaled %-5s max |diff| %d  mean %.3f  identical %.4f%n",
                    e.getKey(), scaled, d.maxAbs(), (double) d.sumAbs() / d.samples(), d.identicalFraction());
            if (scaled) {
                soft.assertThat(d.maxAbs()).as(e.getKey()).isLessThanOrEqualTo(index < golden ? 2 : 10);
                soft.assertThat((double) d.sumAbs() / d.samples()).as(e.getKey() + " mean").isLessThan(index < golden ? 0.3 : 1.0);
                worst = Math.max(worst, d.maxAbs());
            } else {
                soft.assertThat(d.maxAbs()).as(e.getKey() + " (not scaled: must be exact)").isZero();
            }
            index++;
        }
        soft.assertAll();
        // photo_4096x3072 and the four phone-sized JPEGs decode scaled; pano_3000x400's shorter side is too short.
        assertThat(decoder.counters().scaledDecodes()).isEqualTo(5);
        assertThat(worst).as("scaled decodes really differ from exact ones").isGreaterThan(0);
    }
}

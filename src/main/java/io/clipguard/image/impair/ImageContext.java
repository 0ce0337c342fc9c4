package io.clipguard.image.impair;

import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import java.util.Random;

/**
 * What an impairment may need besides the pixels: the image's name and the run's seed (for the seeded DMID draws),
 * the decoder that decodes a codec's output inside a chain (as uploads are decoded), and the pixel limit.
 *
 * @param name the image's name as listed in the input (the filename cell), which seeds its random draws
 */
public record ImageContext(String name, long seed, ImageDecoder decoder, ImageLimits limits) {
    /**
     * The image's random source: {@code java.util.Random(31 * seed + name.hashCode())}, both fully specified by the
     * JDK, so the draws depend only on the seed and the name (not on the input order or the threads).
     */
    public Random random() {
        return new Random(31L * seed + name.hashCode());
    }
}

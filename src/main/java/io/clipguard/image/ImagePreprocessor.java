package io.clipguard.image;

import java.nio.FloatBuffer;

/**
 * Turns a decoded image into a model's input: {@link #prepare} makes the image the model sees (resize and crop, or a
 * pixel-cap crop, or the image itself) and {@link #normalizeInto} writes it, normalised, into the input tensor.
 * Thread-safe.
 */
public sealed interface ImagePreprocessor permits ClipPreprocessor, NativeResolutionPreprocessor {
    /** The image the model sees, from the decoded image (uint8 RGB). */
    RgbImage prepare(RgbImage decoded) throws ImageDecodeException;

    /**
     * ÷255, (x-mean)/std, CHW, written into {@code tensor} at element offset {@code index × 3 × width × height}; every
     * image of one tensor has the same size.
     */
    void normalizeInto(RgbImage prepared, FloatBuffer tensor, int index);

    /**
     * The shorter side a {@link DecodeMode#FAST} JPEG decode must keep; 0 when the model needs the exact pixels
     * at full scale (native resolution: a reduced-scale decode would be another image).
     */
    int fastDecodeShorterSide();

    /** A preprocessor whose model takes images at their own size ({@link NativeResolutionPreprocessor})? */
    default boolean nativeResolution() {
        return this instanceof NativeResolutionPreprocessor;
    }
}

package io.clipguard.image;

/**
 * An 8-bit RGB image, pixels interleaved row-major (r, g, b, r, g, b, ...), as PIL's mode "RGB" holds them.
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0 || rgb.length != Math.multiplyExact(Math.multiplyExact(width, height), 3)) {
            throw new IllegalArgumentException("RGB buffer of " + rgb.length + " bytes does not hold " + width + "x" + height);
        }
    }
}

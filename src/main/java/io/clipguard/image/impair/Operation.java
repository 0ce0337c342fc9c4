package io.clipguard.image.impair;

import io.clipguard.image.ImageDecodeException;
import io.clipguard.image.ImageEncoder;
import io.clipguard.image.PilResample;
import io.clipguard.image.RgbImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One impairment step, each the Pillow 9.4 call in its documentation, applied to {@code img} (mode RGB, {@code w}
 * × {@code h}). Python's {@code round} is half-to-even ({@link Math#rint}).
 */
public sealed interface Operation {
    /** The step as written in the spec syntax, e.g. {@code jpeg:70}. */
    String spec();

    /** The family a report groups it under: the name before the colon. */
    default String family() {
        String spec = spec();
        int colon = spec.indexOf(':');
        return colon < 0 ? spec : spec.substring(0, colon);
    }

    /** Its strength as written after the colon ("" for none). */
    default String strength() {
        String spec = spec();
        int colon = spec.indexOf(':');
        return colon < 0 ? "" : spec.substring(colon + 1);
    }

    /** Names of the parameters drawn at random per image (the score CSV's extra columns); none for most. */
    default List<String> drawnColumns() {
        return List.of();
    }

    /** Applies the step; {@code drawn} receives the parameters drawn for this image. */
    Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException;

    /** {@code img.save(f, "JPEG", quality=Q)}, then read back as an upload. */
    record Jpeg(int quality, String spec) implements Operation {
        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            return new Impaired(null, jpeg(img, quality), drawn);
        }
    }

    /** {@code img.save(f, "WEBP", quality=Q)} (lossy, method 4), then read back as an upload. */
    record Webp(int quality, String spec) implements Operation {
        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            try {
                return new Impaired(null, ImageEncoder.webp(img, quality), drawn);
            } catch (ImageDecodeException e) {
                throw new ImpairmentException(e.error().name(), e.getMessage(), e);
            }
        }
    }

    /** {@code img.resize((round(w * S), round(h * S)), Image.BICUBIC)}. */
    record Resize(double scale, String spec) implements Operation {
        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            int w = (int) Math.rint(img.width() * scale);
            int h = (int) Math.rint(img.height() * scale);
            return new Impaired(resize(img, w, h, PilResample.Filter.BICUBIC, context, spec), null, drawn);
        }
    }

    /**
     * {@code img.crop((l, t, l + cw, t + ch))} with {@code cw = round(w * F)}, {@code ch = round(h * F)},
     * {@code l = (w - cw) // 2}, {@code t = (h - ch) // 2}: a centre crop keeping F of each side.
     */
    record Crop(double fraction, String spec) implements Operation {
        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            int cw = (int) Math.rint(img.width() * fraction);
            int ch = (int) Math.rint(img.height() * fraction);
            if (cw < 1 || ch < 1) {
                throw tooSmall(spec, img, cw + "x" + ch);
            }
            return new Impaired(crop(img, (img.width() - cw) / 2, (img.height() - ch) / 2, cw, ch), null, drawn);
        }
    }

    /** {@code img.filter(ImageFilter.GaussianBlur(R))}: Pillow's extended box blur, 3 passes. */
    record Blur(double radius, String spec) implements Operation {
        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) {
            return new Impaired(PilGaussianBlur.blur(img, (float) radius), null, drawn);
        }
    }

    /**
     * What sharing platforms do. Level 1: the long side down to at most 2048, then JPEG 85; level 2: 1024 and JPEG 75.
     * The resize, only where the long side is longer: {@code s = L / max(w, h)},
     * {@code img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)}.
     */
    record Social(int level, String spec) implements Operation {
        public int longSide() {
            return level == 1 ? 2048 : 1024;
        }

        public int quality() {
            return level == 1 ? 85 : 75;
        }

        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            int longest = Math.max(img.width(), img.height());
            RgbImage resized = img;
            if (longest > longSide()) {
                double s = (double) longSide() / longest;
                int w = Math.max(1, (int) Math.rint(img.width() * s));
                int h = Math.max(1, (int) Math.rint(img.height() * s));
                resized = resize(img, w, h, PilResample.Filter.BICUBIC, context, spec);
            }
            return new Impaired(null, jpeg(resized, quality()), drawn);
        }
    }

    /**
     * The test-set operations of DMimageDetection (Corvi et al., ICASSP 2023), drawn per image from
     * {@link ImageContext#random()} in this order: the side of a square crop uniform in [160, min(w, h, 2048)], its
     * left x uniform in [0, w - side], its top y uniform in [0, h - side], a JPEG quality uniform in [65, 100]. Then
     * {@code img.crop((x, y, x + side, y + side)).resize((200, 200), Image.LANCZOS if side > 200 else
     * Image.BICUBIC).save(f, "JPEG", quality=q)}. The drawn values go into the score CSV, so that any row can be
     * reproduced with those lines of Python.
     */
    record Dmid(String spec) implements Operation {
        public static final int MIN_SIDE = 160;
        public static final int MAX_SIDE = 2048;
        public static final int OUTPUT_SIDE = 200;
        public static final int MIN_QUALITY = 65;
        public static final int MAX_QUALITY = 100;

        @Override
        public List<String> drawnColumns() {
            return List.of("dmid_side", "dmid_x", "dmid_y", "dmid_quality", "dmid_filter");
        }

        @Override
        public Impaired apply(RgbImage img, ImageContext context, Map<String, String> drawn) throws ImpairmentException {
            int largest = Math.min(Math.min(img.width(), img.height()), MAX_SIDE);
            if (largest < MIN_SIDE) {
                throw tooSmall(spec, img, "no " + MIN_SIDE + "-pixel square");
            }
            Random random = context.random();
            int side = MIN_SIDE + random.nextInt(largest - MIN_SIDE + 1);
            int x = random.nextInt(img.width() - side + 1);
            int y = random.nextInt(img.height() - side + 1);
            int quality = MIN_QUALITY + random.nextInt(MAX_QUALITY - MIN_QUALITY + 1);
            return operations(img, side, x, y, quality, context, drawn);
        }

        /** The operations with given draws (what a row of the score CSV lists), recording them into {@code drawn}. */
        public static Impaired operations(RgbImage img, int side, int x, int y, int quality, ImageContext context,
                                          Map<String, String> drawn) throws ImpairmentException {
            String spec = "dmid";
            if (side < 1 || x < 0 || y < 0 || x + side > img.width() || y + side > img.height()) {
                throw tooSmall(spec, img, "no " + side + "-pixel square at (" + x + ", " + y + ")");
            }
            PilResample.Filter filter = side > OUTPUT_SIDE ? PilResample.Filter.LANCZOS : PilResample.Filter.BICUBIC;
            Map<String, String> withDraws = new LinkedHashMap<>(drawn);
            withDraws.put("dmid_side", Integer.toString(side));
            withDraws.put("dmid_x", Integer.toString(x));
            withDraws.put("dmid_y", Integer.toString(y));
            withDraws.put("dmid_quality", Integer.toString(quality));
            withDraws.put("dmid_filter", filter.name().toLowerCase(java.util.Locale.ROOT));
            RgbImage resized = resize(crop(img, x, y, side, side), OUTPUT_SIDE, OUTPUT_SIDE, filter, context, spec);
            return new Impaired(null, jpeg(resized, quality), withDraws);
        }
    }

    private static byte[] jpeg(RgbImage img, int quality) throws ImpairmentException {
        try {
            return ImageEncoder.jpeg(img, quality);
        } catch (ImageDecodeException e) {
            throw new ImpairmentException(e.error().name(), e.getMessage(), e);
        }
    }

    private static RgbImage resize(RgbImage img, int w, int h, PilResample.Filter filter, ImageContext context,
                                   String spec) throws ImpairmentException {
        if (w < 1 || h < 1) {
            throw tooSmall(spec, img, w + "x" + h);
        }
        if ((long) w * h > context.limits().maxPixels() || (long) w * h * 3 > Integer.MAX_VALUE - 16) {
            throw new ImpairmentException(ImpairmentException.TOO_LARGE, spec + " of a " + img.width() + "x"
                    + img.height() + " image would be " + w + "x" + h + ", over the limit of "
                    + context.limits().maxPixels() + " pixels");
        }
        if (w == img.width() && h == img.height()) {
            return img; // PIL returns a copy: same pixels
        }
        return PilResample.resize(img, w, h, filter);
    }

    /** {@code img.crop((x, y, x + w, y + h))}, inside the image. */
    private static RgbImage crop(RgbImage img, int x, int y, int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int row = 0; row < h; row++) {
            System.arraycopy(img.rgb(), ((y + row) * img.width() + x) * 3, out, row * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }

    private static ImpairmentException tooSmall(String spec, RgbImage img, String result) {
        return new ImpairmentException(ImpairmentException.TOO_SMALL, spec + " of a " + img.width() + "x"
                + img.height() + " image leaves " + result);
    }
}

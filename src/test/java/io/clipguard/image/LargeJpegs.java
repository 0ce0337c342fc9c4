package io.clipguard.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Phone-sized JPEGs for the fast-mode tests, made at test time from the committed golden photos (too large to commit):
 * upscaled bicubic, with seeded grain so that they carry the high frequencies a camera's sensor noise has, encoded
 * at quality 90 with the JDK's encoder (4:2:0).
 */
public final class LargeJpegs {
    private LargeJpegs() {
    }

    /** name → JPEG bytes: 4032x3024, 3024x4032, 1920x1080 and 1200x900 (the latter decodes at 1/2 in fast mode). */
    public static Map<String, byte[]> all() {
        Map<String, byte[]> jpegs = new LinkedHashMap<>();
        jpegs.put("china_4032x3024.jpg", make("china.jpg", 4032, 3024, 1));
        jpegs.put("flower_3024x4032.jpg", make("flower.jpg", 3024, 4032, 2));
        jpegs.put("grace_1920x1080.jpg", make("grace_hopper.jpg", 1920, 1080, 3));
        jpegs.put("china_1200x900.jpg", make("china.jpg", 1200, 900, 4));
        return jpegs;
    }

    /** Made once per build folder (encoding 12 MP in Java takes seconds), then read back. */
    public static byte[] make(String golden, int width, int height, long seed) {
        Path cached = Path.of("target", "test-images", golden.replace(".jpg", "") + "_" + width + "x" + height + "_"
                + seed + ".jpg");
        try {
            if (java.nio.file.Files.isRegularFile(cached)) {
                return java.nio.file.Files.readAllBytes(cached);
            }
            byte[] jpeg = encode(golden, width, height, seed);
            java.nio.file.Files.createDirectories(cached.getParent());
            Path partial = java.nio.file.Files.createTempFile(cached.getParent(), "partial", ".jpg");
            java.nio.file.Files.write(partial, jpeg);
            java.nio.file.Files.move(partial, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return jpeg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] encode(String golden, int width, int height, long seed) {
        try {
            BufferedImage source = ImageIO.read(Path.of("src/test/resources/golden/images", golden).toFile());
            BufferedImage big = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = big.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.drawImage(source, 0, 0, width, height, null);
            g.dispose();
            byte[] pixels = ((java.awt.image.DataBufferByte) big.getRaster().getDataBuffer()).getData();
            Random random = new Random(seed);
            for (int i = 0; i < pixels.length; i++) {
                int v = (pixels[i] & 0xFF) + (int) Math.round(random.nextGaussian() * 4);
                pixels[i] = (byte) Math.max(0, Math.min(255, v));
            }
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.9f);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
                writer.setOutput(stream);
                writer.write(null, new IIOImage(big, null, null), param);
            } finally {
                writer.dispose();
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.clipguard.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

/** The golden fixtures written by tools/make_golden_fixtures.py (PIL 9.4 + torchvision 0.14 reference outputs). */
final class GoldenFixtures {
    static final Path ROOT = Path.of("src/test/resources/golden");

    record Fixture(String name, String format, String mode, int width, int height, String note) {
        Path image() {
            return ROOT.resolve("images").resolve(name);
        }

        Path crop() {
            return ROOT.resolve("crops").resolve(name + ".png");
        }

        Path fullSize() {
            return ROOT.resolve("full").resolve(name + ".png");
        }

        byte[] bytes() {
            try {
                return Files.readAllBytes(image());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String toString() {
            return name + " (" + format + " " + mode + " " + width + "x" + height + ")";
        }
    }

    private GoldenFixtures() {
    }

    static List<Fixture> all() {
        try (Reader in = Files.newBufferedReader(ROOT.resolve("manifest.csv"))) {
            List<Fixture> fixtures = new ArrayList<>();
            for (CSVRecord r : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(in)) {
                fixtures.add(new Fixture(r.get("name"), r.get("format"), r.get("mode"), Integer.parseInt(r.get("width")),
                        Integer.parseInt(r.get("height")), r.get("note")));
            }
            return fixtures;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An 8-bit RGB PNG written by PIL, read with the JDK's reader (independent of the decoder under test). PIL carries a
     * palette's transparent index over as an RGB tRNS colour, which the JDK reads as a fourth band: ignored.
     */
    static RgbImage readReferencePng(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        Raster raster = image.getRaster();
        int bands = raster.getNumBands();
        if (bands < 3 || bands > 4 || raster.getSampleModel().getSampleSize(0) != 8) {
            throw new IOException(png + " is not an 8-bit RGB PNG");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        int[] samples = raster.getPixels(0, 0, w, h, (int[]) null);
        byte[] rgb = new byte[w * h * 3];
        for (int p = 0; p < w * h; p++) {
            for (int c = 0; c < 3; c++) {
                rgb[p * 3 + c] = (byte) samples[p * bands + c];
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** How two same-size uint8 images differ. */
    record Difference(long samples, long identical, int maxAbs, long sumAbs) {
        double identicalFraction() {
            return (double) identical / samples;
        }

        static Difference between(RgbImage a, RgbImage b) {
            if (a.width() != b.width() || a.height() != b.height()) {
                throw new AssertionError("size " + a.width() + "x" + a.height() + " != " + b.width() + "x" + b.height());
            }
            byte[] x = a.rgb();
            byte[] y = b.rgb();
            long same = 0;
            long sum = 0;
            int max = 0;
            for (int i = 0; i < x.length; i++) {
                int d = Math.abs((x[i] & 0xFF) - (y[i] & 0xFF));
                if (d == 0) {
                    same++;
                }
                max = Math.max(max, d);
                sum += d;
            }
            return new Difference(x.length, same, max, sum);
        }
    }
}

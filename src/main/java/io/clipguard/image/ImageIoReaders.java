package io.clipguard.image;

import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * The ImageIO reader for each {@link ImageFormat}, looked up once per decoder: the preferred plugin where it is on the
 * class path (several may claim a format, and they differ in fidelity to PIL), else any reader for the format.
 * Holds providers, not readers: every decode creates its own reader, so one lookup serves all threads.
 */
final class ImageIoReaders {
    private final Map<ImageFormat, ImageReaderSpi> readers;

    private ImageIoReaders(Map<ImageFormat, ImageReaderSpi> readers) {
        this.readers = readers;
    }

    static ImageIoReaders find() {
        Map<ImageFormat, ImageReaderSpi> found = lookUp();
        if (found.size() < ImageFormat.values().length) {
            // Plugins on the class path are registered by the context class loader of whoever first touched ImageIO;
            // under another loader (e.g. an application server) ask ImageIO to look again.
            ImageIO.scanForPlugins();
            found = lookUp();
        }
        return new ImageIoReaders(found);
    }

    /** The reader provider for {@code format}, or null where no plugin reads it. */
    ImageReaderSpi get(ImageFormat format) {
        return readers.get(format);
    }

    private static Map<ImageFormat, ImageReaderSpi> lookUp() {
        Map<ImageFormat, ImageReaderSpi> found = new EnumMap<>(ImageFormat.class);
        IIORegistry registry = IIORegistry.getDefaultInstance();
        for (ImageFormat format : ImageFormat.values()) {
            Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class,
                    spi -> List.of(((ImageReaderSpi) spi).getFormatNames()).stream()
                            .anyMatch(n -> n.equalsIgnoreCase(format.imageIoName)), true);
            ImageReaderSpi fallback = null;
            while (it.hasNext()) {
                ImageReaderSpi spi = it.next();
                if (spi.getClass().getName().startsWith(format.preferredReaderPackage)) {
                    fallback = spi;
                    break;
                }
                if (fallback == null) {
                    fallback = spi;
                }
            }
            if (fallback != null) {
                found.put(format, fallback);
            }
        }
        return found;
    }
}

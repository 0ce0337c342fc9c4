package io.clipguard.image;

import java.io.IOException;
import java.nio.file.Path;

/** GoldenFixtures' PNG reader for tests of other packages (the JDK's reader, independent of ours). */
public final class GoldenFixturesAccess {
    private GoldenFixturesAccess() {}

    public static RgbImage readReferencePng(Path png) throws IOException {
        return GoldenFixtures.readReferencePng(png);
    }
}

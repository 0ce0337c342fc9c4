package io.clipguard.streams.metrics;

import io.clipguard.image.DecodeCounters;
import io.clipguard.image.DecodeFallback;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Exports one engine's decode counters: clipguard_decode_native_total{detector,scaled},
 * clipguard_decode_fallback_total{detector,reason} (each detector of a set decodes the image itself).
 */
public final class DecodeMeters {
    private DecodeMeters() {
    }

    public static void register(MeterRegistry registry, DecodeCounters counters, String detector) {
        FunctionCounter.builder("clipguard.decode.native", counters, c -> c.nativeDecodes() - c.scaledDecodes())
                .description("Images decoded by libjpeg-turbo/libpng/libwebp at full scale").tag("detector", detector).tag("scaled", "false").register(registry);
        FunctionCounter.builder("clipguard.decode.native", counters, DecodeCounters::scaledDecodes)
                .description("JPEGs decoded at reduced scale in the IDCT (fast mode)").tag("detector", detector).tag("scaled", "true").register(registry);
        for (DecodeFallback reason : DecodeFallback.values()) {
            FunctionCounter.builder("clipguard.decode.fallback", counters, c -> c.fallbacks(reason))
                    .description("Images decoded by ImageIO instead of the native decoder, by reason")
                    .tag("detector", detector).tag("reason", reason.name()).register(registry);
        }
    }
}

package io.clipguard.streams.metrics;

import io.clipguard.image.DecodeCounters;
import io.clipguard.image.DecodeFallback;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

/** Exports the engine's decode counters: clipguard_decode_native_total{scaled}, clipguard_decode_fallback_total{reason}. */
public final class DecodeMeters {
    private DecodeMeters() {
    }

    public static void register(MeterRegistry registry, DecodeCounters counters) {
        FunctionCounter.builder("clipguard.decode.native", counters, c -> c.nativeDecodes() - c.scaledDecodes())
                .description("Images decoded by libjpeg-turbo/libpng/libwebp at full scale").tag("scaled", "false").register(registry);
        FunctionCounter.builder("clipguard.decode.native", counters, DecodeCounters::scaledDecodes)
                .description("JPEGs decoded at reduced scale in the IDCT (fast mode)").tag("scaled", "true").register(registry);
        for (DecodeFallback reason : DecodeFallback.values()) {
            FunctionCounter.builder("clipguard.decode.fallback", counters, c -> c.fallbacks(reason))
                    .description("Images decoded by ImageIO instead of the native decoder, by reason")
                    .tag("reason", reason.name()).register(registry);
        }
    }
}

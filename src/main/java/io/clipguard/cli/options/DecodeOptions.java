package io.clipguard.cli.options;

import io.clipguard.image.DecodeMode;
import io.clipguard.scoring.EngineConfig;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * The decoding options every command that scores or embeds images shares ({@code @Mixin DecodeOptions decode;} then
 * {@code decode.applyTo(builder)}): decode mode and decode budget, the same settings as the service's
 * {@code clipguard.engine.decode} and {@code clipguard.engine.decode-budget-pixels}.
 */
public final class DecodeOptions {
    @Option(names = "--decode", defaultValue = "exact", paramLabel = "exact|fast", converter = ModeConverter.class,
            description = "exact: decode as PIL does (the reference's scores); fast: JPEGs at least 896 px on the"
                    + " shorter side decode at 1/2, 1/4 or 1/8 scale in the IDCT (about 3.5x faster on 12 MP photos;"
                    + " crop samples move by a few levels, up to 9 on grainy images at 1/2 scale; LLRs within 0.1 %% of"
                    + " their spread in our tests). Default: ${DEFAULT-VALUE}.")
    DecodeMode mode = DecodeMode.EXACT;

    @Option(names = "--decode-budget-pixels", defaultValue = "0", paramLabel = "N",
            description = "Decoded pixels all decode threads may hold at once; a larger image waits, one larger than"
                    + " the whole budget fails as TOO_LARGE. 0 = half the heap at 3 bytes a pixel (default: ${DEFAULT-VALUE}).")
    long budgetPixels;

    public DecodeMode mode() {
        return mode;
    }

    public EngineConfig.Builder applyTo(EngineConfig.Builder config) {
        return config.decodeMode(mode).decodeBudgetPixels(budgetPixels);
    }

    static final class ModeConverter implements ITypeConverter<DecodeMode> {
        @Override
        public DecodeMode convert(String value) {
            return DecodeMode.parse(value);
        }
    }
}

package io.clipguard.cli.options;

import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.Fusion;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** How the detectors of a set (--model-dir more than once) are fused: score, evaluate, robustness and rescore's re-inference. */
public final class FusionOptions {
    @Option(names = "--fusion", defaultValue = "soft_or_prob", paramLabel = "RULE", converter = RuleConverter.class,
            description = "How the detectors' logits become llr when --model-dir is given more than once: mean_logit,"
                    + " max_logit, median_logit, lse_logit, mean_prob or soft_or_prob, the reference's rules"
                    + " (default: ${DEFAULT-VALUE}, the reference's default; see docs/scoring.md). Ignored with one"
                    + " detector.")
    public Fusion fusion;

    @Option(names = "--fusion-threshold", defaultValue = "0", paramLabel = "T",
            description = "With several detectors, label = synthetic when the fused llr > T (default: ${DEFAULT-VALUE},"
                    + " the reference's; soft_or_prob of two logits of 0 is ln 3 ≈ 1.10). With one detector its head's"
                    + " threshold applies.")
    public double threshold = DetectorSet.DEFAULT_FUSED_THRESHOLD;

    public static final class RuleConverter implements ITypeConverter<Fusion> {
        @Override
        public Fusion convert(String value) {
            return Fusion.byName(value);
        }
    }
}

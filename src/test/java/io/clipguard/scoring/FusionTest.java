package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.math.BigDecimal;
import java.math.MathContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FusionTest {
    private static final double EPS = 1e-12;

    @Test
    void namesAreTheReferenceNames() {
        assertThat(Fusion.values()).extracting(Fusion::ruleName).containsExactly("mean_logit", "max_logit",
                "median_logit", "lse_logit", "mean_prob", "soft_or_prob");
        assertThat(Fusion.byName("soft_or_prob")).isEqualTo(Fusion.SOFT_OR_PROB);
        assertThat(Fusion.byName(" MEAN_PROB ")).isEqualTo(Fusion.MEAN_PROB);
        assertThat(Fusion.REFERENCE_DEFAULT).isEqualTo(Fusion.SOFT_OR_PROB);
        assertThatThrownBy(() -> Fusion.byName("or")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown fusion rule 'or'").hasMessageContaining("soft_or_prob");
    }

    /** The textbook formulas in plain double, where they do not overflow. */
    @Test
    void ordinaryValuesFollowTheFormulas() {
        double[] x = {1.5, -0.25, 3.0};
        double s1 = 1 / (1 + Math.exp(-1.5));
        double s2 = 1 / (1 + Math.exp(0.25));
        double s3 = 1 / (1 + Math.exp(-3.0));
        assertThat(Fusion.MEAN_LOGIT.apply(x)).isCloseTo((1.5 - 0.25 + 3.0) / 3, within(EPS));
        assertThat(Fusion.MAX_LOGIT.apply(x)).isEqualTo(3.0);
        assertThat(Fusion.MEDIAN_LOGIT.apply(x)).isEqualTo(1.5);
        assertThat(Fusion.MEDIAN_LOGIT.apply(4, 1, 2, 3)).isEqualTo(2.5);
        assertThat(Fusion.LSE_LOGIT.apply(x)).isCloseTo(Math.log(Math.exp(1.5) + Math.exp(-0.25) + Math.exp(3)),
                within(EPS));
        double mean = (s1 + s2 + s3) / 3;
        assertThat(Fusion.MEAN_PROB.apply(x)).isCloseTo(Math.log(mean / (1 - mean)), within(EPS));
        double or = 1 - (1 - s1) * (1 - s2) * (1 - s3);
        assertThat(Fusion.SOFT_OR_PROB.apply(x)).isCloseTo(Math.log(or / (1 - or)), within(1e-10));
    }

    @Test
    void softOrOfTwoZerosIsLn3() {
        assertThat(Fusion.SOFT_OR_PROB.apply(0, 0)).isCloseTo(Math.log(3), within(EPS));
        assertThat(Fusion.MEAN_PROB.apply(0, 0)).isEqualTo(0.0);
        assertThat(Fusion.LSE_LOGIT.apply(0, 0)).isCloseTo(Math.log(2), within(EPS));
    }

    @ParameterizedTest
    @EnumSource(Fusion.class)
    void oneLogitIsItself(Fusion rule) {
        for (double x : new double[] {-700, -37.5, -1e-9, 0, 0.3, 12, 700}) {
            assertThat(rule.apply(x)).as("%s of %s", rule, x).isCloseTo(x, within(1e-12 * Math.max(1, Math.abs(x))));
        }
    }

    /**
     * At |x| = 700 and beyond σ leaves double's range (e^-700 ≈ 1e-304, e^-1000 = 0): every rule stays finite, and the
     * probability rules keep their asymptotes, checked against 60-digit arithmetic where it matters.
     */
    @ParameterizedTest
    @EnumSource(Fusion.class)
    void extremesStayFiniteAndNeverNaN(Fusion rule) {
        double[][] cases = {{700, 700}, {-700, -700}, {700, -700}, {1000, -1000}, {-1000, -1000}, {1e6, 3},
                {-745.5, -800, 0}, {709.9, 709.9, 709.9}, {-1e300, 1e300}};
        for (double[] x : cases) {
            double fused = rule.apply(x);
            assertThat(Double.isFinite(fused)).as("%s of %s = %s", rule, java.util.Arrays.toString(x), fused).isTrue();
        }
    }

    @Test
    void probabilityRulesKeepTheirAsymptotes() {
        // two equal logits a: soft-or = logit(1 - (1-σ(a))²); for a → -∞ that is a + ln 2, for a → +∞ it is 2a.
        assertThat(Fusion.SOFT_OR_PROB.apply(-700, -700)).isCloseTo(-700 + Math.log(2), within(1e-9));
        assertThat(Fusion.SOFT_OR_PROB.apply(-1000, -1000)).isCloseTo(-1000 + Math.log(2), within(1e-9));
        assertThat(Fusion.SOFT_OR_PROB.apply(700, 700)).isCloseTo(1400, within(1e-9));
        assertThat(Fusion.SOFT_OR_PROB.apply(700, -700)).isCloseTo(700, within(1e-9));
        // mean_prob: logit(mean σ) of ±a is 0; of (a, a) is a; of (-a, -b) with b ≫ a it is -a - ln 2.
        assertThat(Fusion.MEAN_PROB.apply(700, -700)).isCloseTo(0, within(1e-9));
        assertThat(Fusion.MEAN_PROB.apply(700, 700)).isCloseTo(700, within(1e-9));
        assertThat(Fusion.MEAN_PROB.apply(-700, -1000)).isCloseTo(-700 - Math.log(2), within(1e-9));
        assertThat(Fusion.MEAN_PROB.apply(1000, 700)).isCloseTo(700 + Math.log(2), within(1e-9));
        assertThat(Fusion.LSE_LOGIT.apply(700, 700)).isCloseTo(700 + Math.log(2), within(1e-9));
        assertThat(Fusion.LSE_LOGIT.apply(-1000, -1000)).isCloseTo(-1000 + Math.log(2), within(1e-9));
    }

    /** soft_or_prob at moderate logits, against 50-digit arithmetic (plain double loses digits in 1 - Π). */
    @Test
    void softOrMatchesHighPrecisionArithmetic() {
        double[] x = {-20, -35.5};
        MathContext mc = new MathContext(50);
        BigDecimal product = BigDecimal.ONE;
        for (double v : x) {
            // 1 - σ(v) = 1 / (1 + e^v)
            product = product.multiply(BigDecimal.ONE.divide(BigDecimal.ONE.add(new BigDecimal(Math.exp(v))), mc), mc);
        }
        BigDecimal p = BigDecimal.ONE.subtract(product, mc);
        double expected = Math.log(p.doubleValue()) - Math.log(product.doubleValue());
        assertThat(Fusion.SOFT_OR_PROB.apply(x)).isCloseTo(expected, within(1e-9));
    }

    @Test
    void refusesNothingAndNonFinite() {
        assertThatThrownBy(() -> Fusion.MEAN_LOGIT.apply()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no detector scored");
        assertThatThrownBy(() -> Fusion.MAX_LOGIT.apply(1, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sigmoidIsStable() {
        assertThat(Fusion.sigmoid(0)).isEqualTo(0.5);
        assertThat(Fusion.sigmoid(800)).isEqualTo(1.0);
        assertThat(Fusion.sigmoid(-800)).isEqualTo(0.0);
        assertThat(Fusion.sigmoid(-700)).isCloseTo(Math.exp(-700), within(1e-310));
    }
}

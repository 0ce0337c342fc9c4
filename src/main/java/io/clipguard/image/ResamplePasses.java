package io.clipguard.image;

import java.util.logging.Logger;

/**
 * The two passes of {@link PilResample}, behind one interface so that a SIMD implementation can stand in for the scalar
 * one. Both give the same bytes: integer arithmetic with PIL's rounding and clipping, only the lanes differ.
 *
 * <p>Chosen once, at class init, the way Lucene's VectorizationProvider does: the Panama implementation
 * ({@code jdk.incubator.vector}) when the module is in the boot layer (the JVM was started with
 * {@code --add-modules jdk.incubator.vector}) and its preferred int species has at least 8 lanes (AVX2 or wider); otherwise the scalar
 * one. One log line names the choice and why.
 */
interface ResamplePasses {
    /** See {@link PilResample#horizontal}. */
    void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, int[] out);

    /** See {@link PilResample#vertical}. */
    void vertical(int[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out);

    /** The implementation this JVM uses. */
    static ResamplePasses chosen() {
        return Choice.CHOSEN;
    }

    /** PIL's loops as {@link PilResample} writes them. */
    ResamplePasses SCALAR = new ResamplePasses() {
        @Override
        public void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, int[] out) {
            PilResample.horizontal(in, inWidth, rowFirst, rowCount, c, out);
        }

        @Override
        public void vertical(int[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out) {
            PilResample.vertical(in, rowLength, inRowFirst, c, out);
        }

        @Override
        public String toString() {
            return "scalar";
        }
    };

    /** Holder: the choice is made, and logged, on first use only. */
    final class Choice {
        static final String MODULE = "jdk.incubator.vector";
        static final ResamplePasses CHOSEN = choose();

        private Choice() {
        }

        private static ResamplePasses choose() {
            Logger log = Logger.getLogger(ResamplePasses.class.getName());
            if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
                log.info("bicubic resampling: scalar (module " + MODULE + " not present; start the JVM with"
                        + " --add-modules " + MODULE + " for SIMD)");
                return SCALAR;
            }
            try {
                // By name, so that without the module this class never links against jdk.incubator.vector.
                ResamplePasses panama = (ResamplePasses) Class.forName(ResamplePasses.class.getPackageName()
                        + ".PanamaResamplePasses").getDeclaredConstructor().newInstance();
                int lanes = ((PanamaResamplePasses) panama).lanes();
                if (lanes < 8) {
                    log.info("bicubic resampling: scalar (preferred int vector has " + lanes + " lanes, fewer than 8)");
                    return SCALAR;
                }
                log.info("bicubic resampling: " + panama + " (" + MODULE + " present)");
                return panama;
            } catch (ReflectiveOperationException | LinkageError e) {
                log.warning("bicubic resampling: scalar (" + MODULE + " present but unusable: " + e + ")");
                return SCALAR;
            }
        }
    }
}

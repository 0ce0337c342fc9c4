package io.clipguard.image;

/**
 * The two passes of {@link PilResample}, behind one interface so that a SIMD implementation can stand in for the scalar
 * one. Both give the same bytes: integer arithmetic with PIL's rounding and clipping, only the lanes differ.
 * Chosen once, at first use, by {@link VectorizationChoice}.
 */
interface ResamplePasses {
    /** See {@link PilResample#horizontal}. */
    void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, byte[] out);

    /** See {@link PilResample#vertical}. */
    void vertical(byte[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out);

    /** The implementation this JVM uses. */
    static ResamplePasses chosen() {
        return Choice.CHOSEN;
    }

    /** PIL's loops as {@link PilResample} writes them. */
    ResamplePasses SCALAR = new ResamplePasses() {
        @Override
        public void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, byte[] out) {
            PilResample.horizontal(in, inWidth, rowFirst, rowCount, c, out);
        }

        @Override
        public void vertical(byte[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out) {
            PilResample.vertical(in, rowLength, inRowFirst, c, out);
        }

        @Override
        public String toString() {
            return "scalar";
        }
    };

    /** Holder: the choice is made, and logged, on first use only. */
    final class Choice {
        static final ResamplePasses CHOSEN = VectorizationChoice.choose("bicubic resampling", SCALAR,
                () -> (ResamplePasses) Class.forName(ResamplePasses.class.getPackageName() + ".PanamaResamplePasses")
                        .getDeclaredConstructor().newInstance());

        private Choice() {
        }
    }
}

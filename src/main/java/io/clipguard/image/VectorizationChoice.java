package io.clipguard.image;

import java.util.concurrent.Callable;
import java.util.logging.Logger;

/**
 * The choice between a Vector API ({@code jdk.incubator.vector}) implementation and its scalar twin, made once per
 * use, the way Lucene's VectorizationProvider does: the Panama one when the module is in the boot layer (the JVM was
 * started with {@code --add-modules jdk.incubator.vector}) and its preferred int species has at least 8 lanes (AVX2
 * or wider); otherwise the scalar one. One log line names the choice and why. Both give the same bytes; only the
 * lanes differ.
 */
public final class VectorizationChoice {
    public static final String MODULE = "jdk.incubator.vector";
    private static final Logger LOG = Logger.getLogger(VectorizationChoice.class.getName());

    private VectorizationChoice() {
    }

    /** What a Panama implementation tells the choice: its preferred int vector's lanes. */
    public interface Vectorized {
        int lanes();
    }

    /**
     * The implementation for {@code what} (the log line's subject, e.g. "bicubic resampling").
     *
     * @param panama makes the Panama implementation; it must load the class by name (Class.forName), so that without
     *               the module nothing links against jdk.incubator.vector, and the instance must be {@link Vectorized}
     */
    public static <T> T choose(String what, T scalar, Callable<? extends T> panama) {
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            LOG.info(what + ": scalar (module " + MODULE + " not present; start the JVM with --add-modules " + MODULE
                    + " for SIMD)");
            return scalar;
        }
        try {
            T chosen = panama.call();
            int lanes = ((Vectorized) chosen).lanes();
            if (lanes < 8) {
                LOG.info(what + ": scalar (preferred int vector has " + lanes + " lanes, fewer than 8)");
                return scalar;
            }
            LOG.info(what + ": " + chosen + " (" + MODULE + " present)");
            return chosen;
        } catch (Exception | LinkageError e) {
            LOG.warning(what + ": scalar (" + MODULE + " present but unusable: " + e + ")");
            return scalar;
        }
    }
}

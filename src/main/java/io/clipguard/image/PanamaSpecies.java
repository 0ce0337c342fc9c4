package io.clipguard.image;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes every Panama implementation chosen by {@link VectorizationChoice} uses, set up in one place: the
 * preferred int vector, and bytes with as many lanes (for widening loads and narrowing stores). Only the Panama
 * classes touch it, so, like them, it is only loaded when {@code jdk.incubator.vector} is in the boot layer.
 */
public final class PanamaSpecies {
    /** The preferred int vector: 16 lanes on AVX-512, 8 on AVX2. */
    public static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    /** Bytes with as many lanes as {@link #INT} (null below 8 lanes: the narrowest byte vector is 64 bits). */
    public static final VectorSpecies<Byte> BYTE = INT.length() >= 8
            ? ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(INT.length() * 8)) : null;

    private PanamaSpecies() {
    }

    /** What a Panama implementation's {@code toString} says in the choice's log line. */
    public static String describe() {
        return "Panama SIMD (" + INT.length() + " int lanes, " + INT.vectorBitSize() + "-bit)";
    }
}

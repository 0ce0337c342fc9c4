package io.clipguard.image.impair;

import io.clipguard.image.RgbImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One impairment as a report lists it: a chain of {@link Operation}s joined by {@code +}, applied left to right to
 * the decoded original; a codec inside a chain is decoded again before the next step. {@link #ORIGINAL} is the empty
 * chain, the unimpaired image.
 */
public record Impairment(String spec, List<Operation> operations) {
    public static final Impairment ORIGINAL = new Impairment("original", List.of());

    public Impairment {
        operations = List.copyOf(operations);
    }

    /** The family a report draws it in: the operations' families joined by {@code +} ("original" for none). */
    public String family() {
        return operations.isEmpty() ? spec
                : operations.stream().map(Operation::family).collect(Collectors.joining("+"));
    }

    /** Its strength within the family, as written: the operations' strengths joined by {@code +}. */
    public String strength() {
        return operations.stream().map(Operation::strength).collect(Collectors.joining("+"));
    }

    /** A name usable as a file name: the spec with {@code :} as {@code -}. */
    public String fileName() {
        return spec.replace(':', '-');
    }

    /** The random draws' columns of every step, in order. */
    public List<String> drawnColumns() {
        List<String> columns = new ArrayList<>();
        operations.forEach(o -> columns.addAll(o.drawnColumns()));
        return columns;
    }

    /** Applies every step to {@code original}; the result may be encoded bytes (a codec came last). */
    public Impaired apply(RgbImage original, ImageContext context) throws ImpairmentException {
        Impaired current = new Impaired(original, null, Map.of());
        for (Operation operation : operations) {
            current = operation.apply(current.decoded(context), context, new LinkedHashMap<>(current.drawn()));
        }
        return current;
    }

    @Override
    public String toString() {
        return spec;
    }
}

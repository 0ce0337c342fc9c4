package io.clipguard.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON that is byte-identical for equal content: keys sorted, nulls left out, numbers in Java's shortest round-trip
 * form, two-space indent and '\n' line ends on every platform. Written files can be compared and hashed.
 */
public final class CanonicalJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();
    private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private CanonicalJson() {}

    public static String toString(Object value) throws IOException {
        return WRITER.writeValueAsString(value) + "\n";
    }

    public static void write(Path file, Object value) throws IOException {
        Files.writeString(file, toString(value), StandardCharsets.UTF_8);
    }

    /** The mapper behind it, for reading files written with it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}

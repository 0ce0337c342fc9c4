package io.clipguard.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A kind of JSON file this project reads (head file, model manifest, features description), read so that a file that
 * does not fit says which field is missing or wrong and what the file should look like, instead of Jackson's
 * internals (its type names, its configuration flags).
 *
 * @param kind   what the file is, for messages: "head file", "model manifest"
 * @param format the value its {@code "format"} field must have
 * @param shape  what such a file looks like and where it is documented, appended to structural complaints
 * @param advice what to do about a file of another format (e.g. re-export), appended to that complaint
 */
public record JsonDocument<T>(Class<T> type, String kind, String format, String shape, String advice) {

    // Duplicate keys (STRICT_DUPLICATE_DETECTION) and trailing text (checked in read) are refused: either would make the
    // file mean something other than it shows.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * Parses {@code text} as this kind of file: JSON, an object, of {@link #format}, every field of the right type.
     * What the fields must further hold (non-empty, finite) is the caller's to check.
     *
     * @param origin where the text came from, for messages (a path, a topic key)
     */
    public T read(String text, String origin) throws ModelLoadException {
        JsonNode tree;
        try (JsonParser parser = JSON.createParser(text)) {
            tree = JSON.readTree(parser);
            if (tree != null && parser.nextToken() != null) {
                throw unfit(origin, "there is more text after its JSON value (line "
                        + parser.currentTokenLocation().getLineNr() + ")", null);
            }
        } catch (JsonProcessingException e) {
            throw unfit(origin, "it is not valid JSON (" + (e.getLocation() == null ? ""
                    : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ")
                    + e.getOriginalMessage() + ")", e);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a String source never fails to read
        }
        if (tree == null || tree.isMissingNode()) {
            throw unfit(origin, "it is empty", null);
        }
        if (!tree.isObject()) {
            throw unfit(origin, "it holds " + describe(tree) + ", not an object", null);
        }
        JsonNode formatNode = tree.get("format");
        if (formatNode == null) {
            throw unfit(origin, "field 'format' is missing (\"" + format + "\")", null);
        }
        if (!format.equals(formatNode.asText())) {
            throw new ModelLoadException(origin + ": unknown format " + describe(formatNode) + "; expected '" + format
                    + "'" + (advice.isEmpty() ? "" : ". " + advice));
        }
        try {
            return JSON.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            throw unfit(origin, fieldProblem(tree, e), e);
        } catch (JsonProcessingException e) {
            throw unfit(origin, e.getOriginalMessage(), e);
        }
    }

    private ModelLoadException unfit(String origin, String problem, Throwable cause) {
        return new ModelLoadException(origin + " is not a " + kind + ": " + problem + ". " + shape, cause);
    }

    /** "field 'bias' is missing (a number)", "field 'weights[3]' is "a" (a number expected)". */
    private static String fieldProblem(JsonNode tree, JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        StringBuilder name = new StringBuilder();
        JsonPointer pointer = JsonPointer.empty();
        for (JsonMappingException.Reference ref : path) {
            if (ref.getFieldName() != null) {
                name.append(name.isEmpty() ? "" : ".").append(ref.getFieldName());
                pointer = pointer.appendProperty(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                name.append('[').append(ref.getIndex()).append(']');
                pointer = pointer.appendIndex(ref.getIndex());
            }
        }
        if (e instanceof ValueInstantiationException) {
            // Our own creators (e.g. TensorDType) refuse a value with a message that already says what is accepted.
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return "field '" + name + "': " + root.getMessage();
        }
        Class<?> target = e instanceof MismatchedInputException m ? m.getTargetType() : null;
        // An element of an array is reported with the array as target: describe what one element must be.
        if (target != null && target.isArray() && !path.isEmpty() && path.getLast().getFieldName() == null) {
            target = target.getComponentType();
        }
        String expected = target == null ? "another value" : expected(target);
        JsonNode node = tree.at(pointer);
        if (node.isMissingNode()) {
            return "field '" + name + "' is missing (" + expected + ")";
        }
        return "field '" + name + "' is " + describe(node) + " (" + expected + " expected)";
    }

    private static String expected(Class<?> type) {
        if (type == String.class) {
            return "a string";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type.isPrimitive() || Number.class.isAssignableFrom(type)) {
            return "a number";
        }
        if (type.isEnum()) {
            return "one of " + Arrays.stream(type.getEnumConstants()).map(c -> {
                try {
                    return JSON.writeValueAsString(c);
                } catch (JsonProcessingException e) {
                    return String.valueOf(c);
                }
            }).toList();
        }
        if (type.isArray()) {
            Class<?> element = type.getComponentType();
            return element.isPrimitive() || Number.class.isAssignableFrom(element) ? "an array of numbers" : "an array";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    /** A JSON value as a user sees it: short scalars verbatim, containers by kind. */
    private static String describe(JsonNode node) {
        if (node.isNull()) {
            return "null";
        }
        if (node.isArray()) {
            return "a JSON array";
        }
        if (node.isObject()) {
            return "an object";
        }
        String text = node.toString();
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }
}

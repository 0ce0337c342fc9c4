package io.clipguard.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Element type of the model's input and output tensors, as written in manifest.json. */
public enum TensorDType {
    FLOAT32("float32"),
    FLOAT16("float16");

    private final String manifestName;

    TensorDType(String manifestName) {
        this.manifestName = manifestName;
    }

    @JsonValue
    public String manifestName() {
        return manifestName;
    }

    @JsonCreator
    public static TensorDType fromManifest(String name) {
        for (TensorDType t : values()) {
            if (t.manifestName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported dtype '" + name + "' (expected float32 or float16)");
    }

    @Override
    public String toString() {
        return manifestName;
    }
}

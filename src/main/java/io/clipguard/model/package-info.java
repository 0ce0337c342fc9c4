/**
 * Model folders: the manifest that says what a model is and how its input is prepared, and linear-head files.
 *
 * <p>May import {@code image} (preprocessing settings). Knows nothing of ONNX Runtime or Kafka.
 */
package io.clipguard.model;

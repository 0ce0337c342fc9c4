/**
 * The ONNX Runtime image encoder (CUDA when present, CPU otherwise) and the dynamic batcher shared by every caller
 * in the JVM.
 *
 * <p>May import {@code image} and {@code model}. Knows nothing of topics.
 */
package io.clipguard.inference;

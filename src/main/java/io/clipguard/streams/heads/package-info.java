/**
 * Live head versions: the active head per model, switched by records on {@code detector-heads}, and its readiness.
 *
 * <p>May import {@code contracts}, {@code model}, {@code scoring} and {@code streams.config}; not the topology.
 */
package io.clipguard.streams.heads;

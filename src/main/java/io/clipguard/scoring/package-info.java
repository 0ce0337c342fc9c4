/**
 * {@code ScoringEngine}: encoded bytes to a score or a typed failure; the embedding cache; engine settings.
 *
 * <p>May import {@code image}, {@code inference} and {@code model}. Knows nothing of Kafka.
 */
package io.clipguard.scoring;

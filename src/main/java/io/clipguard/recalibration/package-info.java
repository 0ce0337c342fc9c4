/**
 * Rescoring by replay: the stored embeddings re-scored with another head version, written transactionally.
 *
 * <p>May import {@code moderation}, {@code contracts}, {@code scoring} and {@code model}.
 */
package io.clipguard.recalibration;

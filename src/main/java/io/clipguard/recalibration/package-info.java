/**
 * Rescoring by replay: the stored embeddings re-scored with another head version, written transactionally.
 * {@code Rescorer} runs a rescore (reads the ledger and the embeddings, rescores from embeddings), {@code ReInference}
 * scores the uploads without a usable embedding through the backbone, {@code Outcomes} counts what each upload came to
 * and {@code TransactionalVerdictWriter} writes it; {@code Compression} is the codec it writes with.
 *
 * <p>May import {@code moderation}, {@code contracts}, {@code scoring} and {@code model}.
 */
package io.clipguard.recalibration;

/**
 * The moderators' decisions as labelled data: {@code DecisionLog} folds {@code moderation-decisions} into the latest
 * decision per upload (the history stays on the topic), {@code ReviewedUploads} joins the decided uploads with their
 * stored vectors in {@code image-embeddings} (no image decoded, no backbone run) and with their verdicts, for
 * {@code train --decisions}, {@code evaluate --decisions} and the console.
 *
 * <p>May import {@code contracts}, {@code model}, {@code evaluation} and the generated Avro classes; nothing that
 * uses it.
 */
package io.clipguard.review;

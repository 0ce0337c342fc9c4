/**
 * Scoring one upload record, shared by the topology and {@code rescore}: an {@code ImageUploaded} record in, a
 * verdict (with its embedding) or a dead letter out ({@code UploadScorer}, {@code ModerationOutcome}); where a
 * record sits in the input topic ({@code PendingUpload}) and reading it back ({@code SourceRecordReader}).
 *
 * <p>May import {@code contracts}, {@code scoring}, {@code fetch} and {@code model}. Knows nothing of Kafka Streams.
 */
package io.clipguard.moderation;

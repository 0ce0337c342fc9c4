/**
 * The {@code tools/clipguard} commands that talk to Kafka: {@code create-topics}, {@code publish}, {@code watch},
 * {@code head} and {@code rescore}, and the {@code --decisions} options of {@code train} and {@code evaluate}
 * ({@code DecisionsOptions}). Topic names, serdes and schemas come from {@code contracts}.
 *
 * <p>May import {@code cli.options}, {@code contracts}, {@code recalibration}, {@code moderation}, {@code review} and the library
 * packages; never {@code cli} itself.
 */
package io.clipguard.cli.kafka;

/**
 * The Kafka Streams service: the topology ({@code ModerationTopology}), the batching processor, and the CDI wiring
 * of the engine. Subpackages hold its other jobs: {@code config} (settings), {@code metrics}, {@code heads} (live head
 * versions), {@code alerting} (burst alerts) and {@code lifecycle} (topic check and guard, failure policy, bounded
 * shutdown, health).
 *
 * <p>The top of the service: may import every package below it; nothing outside {@code streams} imports it.
 */
package io.clipguard.streams;

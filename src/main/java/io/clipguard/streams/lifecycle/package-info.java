/**
 * Start, failure and shutdown as features: the topic check derived from the topology and the guard that refuses a
 * wrong one, the stream-thread failure policy, the bounded shutdown, and the health checks that report them.
 *
 * <p>May import {@code moderation}, {@code model}, {@code scoring}, {@code streams.config} and
 * {@code streams.metrics}; not the topology.
 */
package io.clipguard.streams.lifecycle;

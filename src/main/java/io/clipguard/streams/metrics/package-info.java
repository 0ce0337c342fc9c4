/**
 * The service's Micrometer meters (Prometheus at {@code /q/metrics}).
 *
 * <p>May import {@code moderation} and {@code image} (decode counters); not the topology.
 */
package io.clipguard.streams.metrics;

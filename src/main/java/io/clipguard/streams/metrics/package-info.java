/**
 * The service's Micrometer meters (Prometheus at {@code /q/metrics}).
 *
 * <p>May import {@code moderation}, {@code scoring} (a detector's part of a verdict) and {@code image} (decode counters); not the topology.
 */
package io.clipguard.streams.metrics;

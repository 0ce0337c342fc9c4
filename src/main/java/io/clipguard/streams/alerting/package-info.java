/**
 * Burst alerts: an uploader's high-score verdicts counted in windows, one alert when a count is reached.
 *
 * <p>May import {@code contracts}, {@code streams.config} and {@code streams.metrics}; not the topology.
 */
package io.clipguard.streams.alerting;

/**
 * The service's settings ({@code clipguard.*}), with renamed settings still read under their old names.
 *
 * <p>May import settings types of {@code image} and {@code inference}; nothing else of the service.
 */
package io.clipguard.streams.config;

package io.clipguard.fetch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What an {@link ImageFetcher} may read.
 *
 * @param fileRoots       folders under which {@code file:} URIs may point; empty refuses every {@code file:} URI
 * @param connectTimeout  HTTP connect timeout
 * @param readTimeout     HTTP timeout for the whole response
 * @param maxBytes        largest body accepted; longer responses are refused before they are buffered whole
 * @param allowPrivateNetworks whether loopback, site-local, link-local and other non-public addresses may be fetched
 *                        (off by default: an upload event must not make the service probe the internal network)
 * @param maxRedirects    redirects followed, each target checked again against this policy
 */
public record FetchPolicy(List<Path> fileRoots, Duration connectTimeout, Duration readTimeout, long maxBytes,
                          boolean allowPrivateNetworks, int maxRedirects) {
    public FetchPolicy {
        fileRoots = fileRoots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }
}

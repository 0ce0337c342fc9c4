package io.clipguard.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * Reads the encoded bytes an image reference points at: {@code file:} under configured roots, or {@code http(s):}
 * with timeouts, a size cap and a refusal of non-public addresses. Knows nothing of Kafka or of image formats.
 *
 * <p>The address check runs inside the HTTP client's resolver ({@link CheckedResolver}), and the client connects to
 * exactly the addresses that resolver returned: a host name cannot answer a public address to the check and a private
 * one to the connection (DNS rebinding). Every redirect hop and every new connection goes through it again. No proxy is
 * used (a proxy would resolve the host itself, out of the check's sight).
 */
public final class ImageFetcher implements AutoCloseable {
    /** Resolves a host name to its addresses: the system's resolver, or in tests one that answers what they need. */
    @FunctionalInterface
    public interface HostResolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final FetchPolicy policy;
    private final CloseableHttpClient http;
    /** Aborts a request whose whole response has not arrived within the read timeout (a trickling server). */
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("clipguard-fetch-deadline").factory());

    public ImageFetcher(FetchPolicy policy) {
        this(policy, InetAddress::getAllByName);
    }

    public ImageFetcher(FetchPolicy policy, HostResolver resolver) {
        this.policy = policy;
        Timeout readTimeout = Timeout.of(policy.readTimeout());
        this.http = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(new CheckedResolver(resolver, policy.allowPrivateNetworks()))
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(policy.connectTimeout()))
                                .setSocketTimeout(readTimeout)
                                .build())
                        .setMaxConnTotal(64)
                        .setMaxConnPerRoute(16)
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(readTimeout).setRedirectsEnabled(false).build())
                // Redirects are followed by hand (each hop's URI checked again); a retry would hide the first failure.
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .build();
    }

    public byte[] fetch(String location) throws FetchException {
        URI uri;
        try {
            uri = new URI(location);
        } catch (Exception e) {
            throw FetchException.refused("not a valid URI: " + location);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        return switch (scheme) {
            case "file" -> readFile(uri);
            case "http", "https" -> readHttp(uri, 0);
            default -> throw FetchException.refused("unsupported URI scheme '" + scheme + "' (use file:, http: or https:)");
        };
    }

    private byte[] readFile(URI uri) throws FetchException {
        Path path;
        try {
            path = Path.of(uri).toAbsolutePath().normalize();
        } catch (Exception e) {
            throw FetchException.refused("not a usable file URI: " + uri);
        }
        Path real;
        try {
            real = path.toRealPath(); // resolves symlinks, so a link cannot lead out of a root
        } catch (NoSuchFileException e) {
            throw FetchException.failed("no such file: " + path, e);
        } catch (IOException e) {
            throw FetchException.failed("cannot read " + path + ": " + e.getMessage(), e);
        }
        if (policy.fileRoots().stream().noneMatch(root -> real.startsWith(realOrSelf(root)))) {
            throw FetchException.refused("file " + path + " is outside the allowed roots " + policy.fileRoots());
        }
        try {
            long size = Files.size(real);
            if (size > policy.maxBytes()) {
                throw FetchException.refused("file is " + size + " bytes, over the limit of " + policy.maxBytes());
            }
            try (InputStream in = Files.newInputStream(real)) {
                return readCapped(in, uri);
            }
        } catch (IOException e) {
            throw FetchException.failed("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static Path realOrSelf(Path root) {
        try {
            return root.toRealPath();
        } catch (IOException e) {
            return root;
        }
    }

    private byte[] readHttp(URI uri, int redirects) throws FetchException {
        if (uri.getHost() == null) {
            throw FetchException.refused("no host in " + uri);
        }
        HttpGet request = new HttpGet(uri);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> deadline = deadlines.schedule(() -> {
            timedOut.set(true);
            request.cancel();
        }, policy.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
        URI redirect;
        try (ClassicHttpResponse response = http.executeOpen(null, request, null)) {
            try {
                int status = response.getCode();
                if (status >= 300 && status < 400) {
                    Header next = response.getFirstHeader("Location");
                    if (next == null || redirects >= policy.maxRedirects()) {
                        throw FetchException.failed("HTTP " + status + " from " + uri + " (redirects followed: " + redirects + ")", null);
                    }
                    redirect = uri.resolve(next.getValue());
                } else if (status != 200) {
                    throw FetchException.failed("HTTP " + status + " from " + uri, null);
                } else {
                    return readBody(response.getEntity(), uri);
                }
            } catch (FetchException | IOException | RuntimeException e) {
                // Drop the connection instead of letting close() drain whatever the server still sends.
                request.cancel();
                throw e;
            }
        } catch (IOException e) {
            RefusedAddress refused = refusal(e);
            if (refused != null) {
                throw FetchException.refused(refused.getMessage());
            }
            if (timedOut.get()) {
                throw FetchException.failed("no complete response from " + uri + " within " + policy.readTimeout().toMillis() + " ms", e);
            }
            throw FetchException.failed("cannot fetch " + uri + ": " + e, e);
        } finally {
            deadline.cancel(false);
        }
        return readHttp(redirect, redirects + 1);
    }

    private byte[] readBody(HttpEntity entity, URI uri) throws IOException, FetchException {
        if (entity == null) {
            return new byte[0];
        }
        long declared = entity.getContentLength();
        if (declared > policy.maxBytes()) {
            throw FetchException.refused("response of " + declared + " bytes from " + uri + " is over the limit of " + policy.maxBytes());
        }
        try (InputStream body = entity.getContent()) {
            return readCapped(body, uri);
        }
    }

    private static RefusedAddress refusal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RefusedAddress r) {
                return r;
            }
        }
        return null;
    }

    /** Reads at most maxBytes; one byte more means the source is too large, whatever it declared. */
    private byte[] readCapped(InputStream in, URI uri) throws IOException, FetchException {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, policy.maxBytes() + 1));
        if (bytes.length > policy.maxBytes()) {
            throw FetchException.refused(uri + " is over the limit of " + policy.maxBytes() + " bytes");
        }
        return bytes;
    }

    /**
     * The client's only resolver: resolves through {@code delegate} and refuses the whole answer when any address is
     * not public (unless private networks are allowed). The client connects to what this returns, nothing else.
     */
    private record CheckedResolver(HostResolver delegate, boolean allowPrivateNetworks) implements DnsResolver {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            InetAddress[] addresses = delegate.resolve(host);
            if (addresses == null || addresses.length == 0) {
                throw new UnknownHostException("no address for " + host);
            }
            if (!allowPrivateNetworks) {
                for (InetAddress address : addresses) {
                    if (isNonPublic(address)) {
                        throw new RefusedAddress("address " + address.getHostAddress() + " of " + host
                                + " is loopback/private/link-local; set clipguard.fetch.allow-private-networks=true to allow it");
                    }
                }
            }
            return addresses;
        }

        @Override
        public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
            return Arrays.stream(resolve(host)).map(a -> new InetSocketAddress(a, port)).toList();
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            return host; // never used for connecting; no second lookup
        }
    }

    /** The resolver's refusal; an UnknownHostException so it travels through the client's connect path. */
    private static final class RefusedAddress extends UnknownHostException {
        RefusedAddress(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        deadlines.shutdownNow();
        try {
            http.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    static boolean isNonPublic(InetAddress a) {
        if (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int first = b[0] & 0xff, second = b[1] & 0xff;
            return first == 0 || (first == 100 && second >= 64 && second < 128) // carrier-grade NAT
                    || (first == 198 && (second == 18 || second == 19))          // benchmarking
                    || first >= 240;                                              // reserved, broadcast
        }
        return (b[0] & 0xfe) == 0xfc; // IPv6 unique local fc00::/7
    }
}

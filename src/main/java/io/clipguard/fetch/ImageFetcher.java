package io.clipguard.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads the encoded bytes an image reference points at: {@code file:} under configured roots, or {@code http(s):}
 * with timeouts, a size cap and a refusal of non-public addresses. Knows nothing of Kafka or of image formats.
 */
public final class ImageFetcher {
    private final FetchPolicy policy;
    private final HttpClient http;

    public ImageFetcher(FetchPolicy policy) {
        this.policy = policy;
        // Redirects are followed by hand so that every hop is checked against the address policy.
        this.http = HttpClient.newBuilder()
                .connectTimeout(policy.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
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
        checkAddress(uri);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(policy.readTimeout()).GET().build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw FetchException.failed("interrupted while fetching " + uri, e);
        } catch (IOException e) {
            throw FetchException.failed("cannot fetch " + uri + ": " + e, e);
        }
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            if (status >= 300 && status < 400) {
                String next = response.headers().firstValue("location").orElse(null);
                if (next == null || redirects >= policy.maxRedirects()) {
                    throw FetchException.failed("HTTP " + status + " from " + uri + " (redirects followed: " + redirects + ")", null);
                }
                return readHttp(uri.resolve(next), redirects + 1);
            }
            if (status != 200) {
                throw FetchException.failed("HTTP " + status + " from " + uri, null);
            }
            long declared = response.headers().firstValueAsLong("content-length").orElse(-1);
            if (declared > policy.maxBytes()) {
                throw FetchException.refused("response of " + declared + " bytes from " + uri + " is over the limit of " + policy.maxBytes());
            }
            return readCapped(body, uri);
        } catch (IOException e) {
            throw FetchException.failed("cannot read the response from " + uri + ": " + e, e);
        }
    }

    /** Reads at most maxBytes; one byte more means the source is too large, whatever it declared. */
    private byte[] readCapped(InputStream in, URI uri) throws IOException, FetchException {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, policy.maxBytes() + 1));
        if (bytes.length > policy.maxBytes()) {
            throw FetchException.refused(uri + " is over the limit of " + policy.maxBytes() + " bytes");
        }
        return bytes;
    }

    private void checkAddress(URI uri) throws FetchException {
        String host = uri.getHost();
        if (host == null) {
            throw FetchException.refused("no host in " + uri);
        }
        if (policy.allowPrivateNetworks()) {
            return;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw FetchException.failed("unknown host " + host, e);
        }
        for (InetAddress address : addresses) {
            if (isNonPublic(address)) {
                throw FetchException.refused("address " + address.getHostAddress() + " of " + host
                        + " is loopback/private/link-local; set clipguard.fetch.allow-private-networks=true to allow it");
            }
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

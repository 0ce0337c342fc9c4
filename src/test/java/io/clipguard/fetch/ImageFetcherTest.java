package io.clipguard.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetching by reference against a real HTTP server on loopback and real files. */
class ImageFetcherTest {
    static final byte[] PHOTO_HEAD = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 1, 2, 3};

    @TempDir
    Path tmp;
    HttpServer server;
    String base;
    final AtomicInteger photoRequests = new AtomicInteger();

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/photo.jpg", ex -> {
            photoRequests.incrementAndGet();
            ex.sendResponseHeaders(200, PHOTO_HEAD.length);
            ex.getResponseBody().write(PHOTO_HEAD);
            ex.close();
        });
        server.createContext("/big", ex -> {
            ex.sendResponseHeaders(200, 0); // chunked: no declared length, the cap must still hold
            for (int i = 0; i < 64; i++) {
                ex.getResponseBody().write(new byte[1024]);
            }
            ex.close();
        });
        server.createContext("/moved", ex -> {
            ex.getResponseHeaders().add("Location", "/photo.jpg");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/loop", ex -> {
            ex.getResponseHeaders().add("Location", "/loop");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    ImageFetcher fetcher(boolean allowPrivate, long maxBytes, Path... roots) {
        return new ImageFetcher(new FetchPolicy(List.of(roots), Duration.ofSeconds(1), Duration.ofSeconds(2), maxBytes, allowPrivate, 2));
    }

    @Test
    void loopbackIsRefusedByDefault() {
        assertThatThrownBy(() -> fetcher(false, 1 << 20).fetch(base + "/photo.jpg"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.refused()).isTrue())
                .hasMessageContaining("127.0.0.1").hasMessageContaining("allow-private-networks");
    }

    @Test
    void allowedHttpFetchReturnsTheBodyAndFollowsRedirects() throws Exception {
        assertThat(fetcher(true, 1 << 20).fetch(base + "/photo.jpg")).isEqualTo(PHOTO_HEAD);
        assertThat(fetcher(true, 1 << 20).fetch(base + "/moved")).isEqualTo(PHOTO_HEAD);
    }

    @Test
    void bodiesOverTheCapAreRefusedEvenWithoutContentLength() {
        assertThatThrownBy(() -> fetcher(true, 10_000).fetch(base + "/big"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.refused()).isTrue())
                .hasMessageContaining("over the limit");
    }

    @Test
    void httpErrorsAndRedirectLoopsFail() {
        assertThatThrownBy(() -> fetcher(true, 1 << 20).fetch(base + "/missing"))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.refused()).isFalse())
                .hasMessageContaining("404");
        assertThatThrownBy(() -> fetcher(true, 1 << 20).fetch(base + "/loop"))
                .isInstanceOf(FetchException.class).hasMessageContaining("redirects followed: 2");
    }

    @Test
    void filesOnlyUnderTheRootsAndNotThroughSymlinksOut() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outside = Files.write(tmp.resolve("secret.jpg"), PHOTO_HEAD);
        Path inside = Files.write(root.resolve("ok.jpg"), PHOTO_HEAD);
        Path link = Files.createSymbolicLink(root.resolve("link.jpg"), outside);
        ImageFetcher f = fetcher(false, 1 << 20, root);

        assertThat(f.fetch(inside.toUri().toString())).isEqualTo(PHOTO_HEAD);
        assertThatThrownBy(() -> f.fetch(outside.toUri().toString())).hasMessageContaining("outside the allowed roots");
        assertThatThrownBy(() -> f.fetch(link.toUri().toString())).hasMessageContaining("outside the allowed roots");
        assertThatThrownBy(() -> f.fetch(root.resolve("../secret.jpg").toUri().toString())).hasMessageContaining("outside");
        assertThatThrownBy(() -> f.fetch(root.resolve("none.jpg").toUri().toString()))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.refused()).isFalse());
    }

    @Test
    void otherSchemesAndNonPublicAddressesAreRefused() throws Exception {
        assertThatThrownBy(() -> fetcher(false, 1 << 20).fetch("ftp://example.org/x.jpg")).hasMessageContaining("scheme");
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("169.254.169.254"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("100.64.0.1"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("fd00::1"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("93.184.216.34"))).isFalse();
    }

    /** A resolver that answers {@code first} to the first lookup and {@code then} to every later one. */
    static ImageFetcher.HostResolver rebinding(AtomicInteger lookups, byte[] first, byte[] then) {
        return host -> new InetAddress[] {InetAddress.getByAddress(host, lookups.getAndIncrement() == 0 ? first : then)};
    }

    static final byte[] PUBLIC = {(byte) 203, 0, 113, 7}; // TEST-NET-3: public by the policy, unreachable from here
    static final byte[] LOOPBACK = {127, 0, 0, 1};

    @Test
    void theClientConnectsThroughTheCheckingResolver() throws Exception {
        // Sanity for the rebinding test below: a made-up host name reaches the loopback server only through our resolver.
        AtomicInteger lookups = new AtomicInteger();
        ImageFetcher allowed = new ImageFetcher(new FetchPolicy(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(2), 1 << 20, true, 2),
                rebinding(lookups, LOOPBACK, LOOPBACK));
        String port = String.valueOf(server.getAddress().getPort());
        assertThat(allowed.fetch("http://images.example:" + port + "/photo.jpg")).isEqualTo(PHOTO_HEAD);
        assertThat(photoRequests).hasValue(1);
        assertThat(lookups).hasValue(1);
    }

    @Test
    void aHostThatRebindsToLoopbackAfterTheCheckIsNeverConnectedTo() {
        // DNS rebinding: public to the check, loopback afterwards. The address checked is the one connected to, so the
        // fetch goes to the public address (and fails here, where nothing is reachable) and never to loopback.
        AtomicInteger lookups = new AtomicInteger();
        ImageFetcher fetcher = new ImageFetcher(new FetchPolicy(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(2), 1 << 20, false, 2),
                rebinding(lookups, PUBLIC, LOOPBACK));
        String url = "http://rebind.example:" + server.getAddress().getPort() + "/photo.jpg";
        assertThatThrownBy(() -> fetcher.fetch(url)).isInstanceOf(FetchException.class);
        assertThat(photoRequests).as("requests that reached the loopback server").hasValue(0);
        assertThat(lookups).as("one resolution, checked and connected to").hasValue(1);

        // Asked again, the host now answers loopback: refused before any connection.
        assertThatThrownBy(() -> fetcher.fetch(url))
                .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.refused()).isTrue())
                .hasMessageContaining("127.0.0.1").hasMessageContaining("rebind.example");
        assertThat(photoRequests).hasValue(0);
    }
}

package io.clipguard.scoring;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dedupe in front of the encoder: the feature vectors of recently embedded content, by (model id, SHA-256 of the
 * encoded bytes), bounded to a number of entries. Reposts and memes are common; the same bytes give the same vector, so
 * a hit skips decoding and inference and the caller applies its head to the stored vector exactly as to a fresh one.
 *
 * <p>Concurrent requests for the same content share one encoder run (Caffeine's async cache coalesces loads), so a
 * duplicate inside one batch is a hit too. Only vectors are kept: a failed decode or an engine failure is answered to
 * the requests that shared the run, then dropped, and the next request for that content tries again.
 */
public final class EmbeddingCache {
    private final ScoringEngine engine;
    private final AsyncCache<Key, EmbedOutcome> outcomes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    private record Key(String modelId, String sha256) {}

    /** @param maxEntries vectors kept; 0 = no cache (every request reaches the encoder) */
    public EmbeddingCache(ScoringEngine engine, long maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("cache size must be 0 (off) or more, not " + maxEntries);
        }
        this.engine = engine;
        this.outcomes = maxEntries == 0 ? null : Caffeine.newBuilder().maximumSize(maxEntries).buildAsync();
    }

    /** The vector of {@code image}, whose SHA-256 is {@code sha256}: from the cache, or from the engine (then kept). */
    public CompletableFuture<EmbedOutcome> embed(String sha256, byte[] image) {
        if (outcomes == null) {
            misses.increment();
            return engine.embed(image);
        }
        Key key = new Key(engine.info().modelId(), sha256);
        boolean[] loaded = {false};
        CompletableFuture<EmbedOutcome> outcome = outcomes.get(key, (k, executor) -> {
            loaded[0] = true; // Caffeine runs this in the calling thread, inside get
            return engine.embed(image);
        });
        if (loaded[0]) {
            misses.increment();
            // Keep vectors only: a failure (bad bytes, engine down) is answered to whoever shared this run, then dropped.
            outcome.thenAccept(o -> {
                if (!(o instanceof EmbedOutcome.Embedded)) {
                    outcomes.asMap().remove(key, outcome);
                }
            });
        } else {
            hits.increment();
        }
        return outcome;
    }

    /** Requests answered without the encoder (including those that joined a run already under way). */
    public long hits() {
        return hits.sum();
    }

    /** Requests that ran the encoder. */
    public long misses() {
        return misses.sum();
    }
}

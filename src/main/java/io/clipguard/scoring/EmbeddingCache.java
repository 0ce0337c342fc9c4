package io.clipguard.scoring;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dedupe in front of the detectors: what every detector of a {@link DetectorSet} output for recently seen content (the
 * CLIP detector's feature vector, each logit model's logit), by (the set's model ids, SHA-256 of the encoded bytes),
 * bounded to a number of entries. Reposts and memes are common; the same bytes give the same outputs, so a hit skips
 * decoding and inference of every detector, and the caller applies its head and the fusion exactly as to fresh ones.
 *
 * <p>An entry holds all detectors' outputs of one image or nothing: it is kept only when every detector embedded the
 * image, so that no verdict ever mixes a cached CLIP vector with a missing logit of another detector. Concurrent
 * requests for the same content share one run (Caffeine's async cache coalesces loads), so a duplicate inside one
 * batch is a hit too. A failure of any detector (bad bytes, its own size limit, an engine down) is answered to the
 * requests that shared the run, then dropped, and the next request for that content runs every detector again.
 */
public final class EmbeddingCache {
    private final DetectorSet detectors;
    private final String modelIds;
    private final AsyncCache<Key, List<EmbedOutcome>> outcomes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    private record Key(String modelIds, String sha256) {}

    /** @param maxEntries images kept; 0 = no cache (every request reaches the detectors) */
    public EmbeddingCache(DetectorSet detectors, long maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("cache size must be 0 (off) or more, not " + maxEntries);
        }
        this.detectors = detectors;
        this.modelIds = detectors.modelIds();
        this.outcomes = maxEntries == 0 ? null : Caffeine.newBuilder().maximumSize(maxEntries).buildAsync();
    }

    /**
     * Every detector's output for {@code image}, whose SHA-256 is {@code sha256}, in the set's order: from the cache,
     * or from the detectors (then kept if all of them embedded it).
     */
    public CompletableFuture<List<EmbedOutcome>> embed(String sha256, byte[] image) {
        if (outcomes == null) {
            misses.increment();
            return detectors.embed(image);
        }
        Key key = new Key(modelIds, sha256);
        boolean[] loaded = {false};
        CompletableFuture<List<EmbedOutcome>> outcome = outcomes.get(key, (k, executor) -> {
            loaded[0] = true; // Caffeine runs this in the calling thread, inside get
            return detectors.embed(image);
        });
        if (loaded[0]) {
            misses.increment();
            // Keep whole entries only: a failure of any detector is answered to whoever shared this run, then dropped.
            outcome.thenAccept(o -> {
                if (!o.stream().allMatch(EmbedOutcome.Embedded.class::isInstance)) {
                    outcomes.asMap().remove(key, outcome);
                }
            });
        } else {
            hits.increment();
        }
        return outcome;
    }

    /** Requests answered without the detectors (including those that joined a run already under way). */
    public long hits() {
        return hits.sum();
    }

    /** Requests that ran the detectors. */
    public long misses() {
        return misses.sum();
    }
}

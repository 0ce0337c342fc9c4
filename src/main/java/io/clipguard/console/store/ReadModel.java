package io.clipguard.console.store;

import static io.clipguard.console.store.ConsoleTopology.ALERT;
import static io.clipguard.console.store.ConsoleTopology.BURST;
import static io.clipguard.console.store.ConsoleTopology.DECISION;
import static io.clipguard.console.store.ConsoleTopology.VERDICT;
import static io.clipguard.console.store.StoreKeys.END;
import static io.clipguard.console.store.StoreKeys.SEP;
import static io.clipguard.console.store.StoreKeys.join;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.UploaderBurstAlert;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The queries the console's pages make, over the global stores of {@link ConsoleTopology} (interactive queries; the
 * topics are never re-read per request). The queue is a merge of two newest-first scans (high-score alerts, burst
 * alerts) that stops at a page's worth of rows or after {@code scanBudget} entries, whichever comes first, so a page
 * costs at most the budget's reads whatever the store's size and the filter.
 */
public final class ReadModel {
    private final Function<String, ReadOnlyKeyValueStore<String, byte[]>> stores;

    /** @param stores the store of each name in {@link ConsoleTopology} (the running instance's, or a test's) */
    public ReadModel(Function<String, ReadOnlyKeyValueStore<String, byte[]>> stores) {
        this.stores = stores;
    }

    private ReadOnlyKeyValueStore<String, byte[]> alerts() {
        return stores.apply(ConsoleTopology.ALERTS_STORE);
    }

    private ReadOnlyKeyValueStore<String, byte[]> bursts() {
        return stores.apply(ConsoleTopology.BURSTS_STORE);
    }

    private ReadOnlyKeyValueStore<String, byte[]> verdicts() {
        return stores.apply(ConsoleTopology.VERDICTS_STORE);
    }

    private ReadOnlyKeyValueStore<String, byte[]> decisions() {
        return stores.apply(ConsoleTopology.DECISIONS_STORE);
    }

    // ---- the queue ----

    public QueuePage queue(QueueFilter filter, String cursor, int pageSize, int scanBudget) {
        String after = StoreKeys.decodeCursor(cursor);
        String fromRev = after == null ? "" : after.substring(0, 16);
        List<QueueRow> rows = new ArrayList<>();
        int scanned = 0;
        String lastScanned = null;
        try (Source high = filter.wantsHighScore() ? highScoreSource(filter, fromRev, after) : Source.EMPTY;
             Source burst = filter.wantsBursts() ? burstSource(fromRev, after) : Source.EMPTY) {
            while (rows.size() < pageSize) {
                Source next = pick(high, burst);
                if (next == null) {
                    return new QueuePage(rows, null, scanned, false);
                }
                if (scanned >= scanBudget) {
                    return new QueuePage(rows, StoreKeys.encodeCursor(lastScanned), scanned, true);
                }
                Candidate c = next.take();
                scanned++;
                lastScanned = c.mergedKey;
                QueueRow row = c.row.get();
                if (row != null && matches(filter, row)) {
                    rows.add(row);
                }
            }
            boolean more = high.peek() != null || burst.peek() != null;
            return new QueuePage(rows, more ? StoreKeys.encodeCursor(lastScanned) : null, scanned, false);
        }
    }

    private static Source pick(Source a, Source b) {
        Candidate x = a.peek();
        Candidate y = b.peek();
        if (x == null) return y == null ? null : b;
        if (y == null) return a;
        return x.mergedKey.compareTo(y.mergedKey) <= 0 ? a : b;
    }

    private boolean matches(QueueFilter f, QueueRow row) {
        if (row.isBurst()) {
            return f.uploaderId() == null || f.uploaderId().equals(row.uploaderId());
        }
        return alertMatches(f, row.alert()) && decisionMatches(f, row.decision());
    }

    /** The filters an alert answers alone (checked before its decision is read: most candidates stop here). */
    private static boolean alertMatches(QueueFilter f, HighScoreAlert a) {
        if (f.uploaderId() != null && !f.uploaderId().equals(a.getUploaderId())) return false;
        if (f.headVersion() != null && !f.headVersion().equals(a.getVerdictHeadVersion())) return false;
        if (f.modelId() != null && !f.modelId().equals(a.getVerdictModelId())) return false;
        if (f.minProbability() != null && a.getProbability() < f.minProbability()) return false;
        return f.maxProbability() == null || a.getProbability() <= f.maxProbability();
    }

    private static boolean decisionMatches(QueueFilter f, ModerationDecision d) {
        if (f.reviewed() != null && f.reviewed() != (d != null)) return false;
        return f.decision() == null || (d != null && d.getDecision() == f.decision());
    }

    /**
     * High-score alerts newest first: the uploader's own index when the filter names one, else the head version's
     * (a rare head would otherwise cost a whole scan budget per page), else the time index.
     */
    private Source highScoreSource(QueueFilter filter, String fromRev, String after) {
        String index = filter.uploaderId() != null ? join("p", filter.uploaderId())
                : filter.headVersion() != null ? join("v", filter.headVersion()) : null;
        if (index != null) {
            String prefix = index + SEP;
            return new Source(alerts().range(prefix + fromRev, prefix + END), after, kv -> {
                String rest = kv.key.substring(prefix.length()); // rev·upload
                String rev = rest.substring(0, 16);
                String uploadId = rest.substring(17);
                return new Candidate(join(rev, "a", uploadId), () -> highScoreRow(join("t", rev, uploadId), rev, uploadId, filter));
            });
        }
        String prefix = "t" + SEP;
        return new Source(alerts().range(prefix + fromRev, prefix + END), after, kv -> {
            String rev = kv.key.substring(2, 18);
            String uploadId = kv.key.substring(19);
            byte[] value = kv.value;
            return new Candidate(join(rev, "a", uploadId), () -> highScoreRow(value, rev, uploadId, filter));
        });
    }

    private QueueRow highScoreRow(String timeKey, String rev, String uploadId, QueueFilter filter) {
        byte[] value = alerts().get(timeKey);
        return value == null ? null : highScoreRow(value, rev, uploadId, filter);
    }

    /** The row, or null when the filter rejects it (the decision is read only for an alert that passes). */
    private QueueRow highScoreRow(byte[] value, String rev, String uploadId, QueueFilter filter) {
        ModerationDecision decision = null;
        boolean decisionFiltered = filter.reviewed() != null || filter.decision() != null;
        if (decisionFiltered) {
            // A point read by upload id, cheaper than decoding the alert: with a decision filter, most stop here.
            decision = latestDecision(uploadId).orElse(null);
            if (!decisionMatches(filter, decision)) return null;
        }
        HighScoreAlert alert = ALERT.read(value);
        if (!alertMatches(filter, alert)) return null;
        if (!decisionFiltered) decision = latestDecision(uploadId).orElse(null);
        return new QueueRow(Instant.ofEpochMilli(StoreKeys.timeOfReverse(rev)), alert, decision, null);
    }

    private Source burstSource(String fromRev, String after) {
        String prefix = "t" + SEP;
        return new Source(bursts().range(prefix + fromRev, prefix + END), after, kv -> {
            String rev = kv.key.substring(2, 18);
            byte[] value = kv.value;
            return new Candidate(join(rev, "b", kv.key.substring(19)),
                    () -> new QueueRow(Instant.ofEpochMilli(StoreKeys.timeOfReverse(rev)), null, null, BURST.read(value)));
        });
    }

    private record Candidate(String mergedKey, java.util.function.Supplier<QueueRow> row) {}

    /** One newest-first scan with a look-ahead of one, resuming strictly after the cursor's merged key. */
    private static class Source implements AutoCloseable {
        static final Source EMPTY = new Source(null, null, null);
        private final KeyValueIterator<String, byte[]> it;
        private final String after;
        private final Function<KeyValue<String, byte[]>, Candidate> toCandidate;
        private Candidate head;

        Source(KeyValueIterator<String, byte[]> it, String after, Function<KeyValue<String, byte[]>, Candidate> toCandidate) {
            this.it = it;
            this.after = after;
            this.toCandidate = toCandidate;
        }

        Candidate peek() {
            while (head == null && it != null && it.hasNext()) {
                Candidate c = toCandidate.apply(it.next());
                if (after == null || c.mergedKey.compareTo(after) > 0) {
                    head = c;
                }
            }
            return head;
        }

        Candidate take() {
            Candidate c = peek();
            head = null;
            return c;
        }

        @Override
        public void close() {
            if (it != null) it.close();
        }
    }

    /**
     * The upload after this one in the queue under {@code filter} (high-score alerts only; "next" on the upload page),
     * looking at most {@code scanBudget} entries ahead.
     */
    public Optional<String> nextAfter(String uploadId, QueueFilter filter, int scanBudget) {
        byte[] timeKey = alerts().get(join("u", uploadId));
        if (timeKey == null) return Optional.empty();
        String rev = new String(timeKey, StandardCharsets.UTF_8).substring(2, 18);
        QueueFilter highOnly = new QueueFilter(QueueFilter.Kind.HIGH_SCORE, filter.headVersion(), filter.modelId(),
                filter.uploaderId(), filter.decision(), filter.reviewed(), filter.minProbability(), filter.maxProbability());
        QueuePage page = queue(highOnly, StoreKeys.encodeCursor(join(rev, "a", uploadId)), 1, scanBudget);
        return page.rows().stream().findFirst().map(r -> r.alert().getUploadId());
    }

    // ---- one upload ----

    public Optional<ModerationVerdict> verdict(String uploadId) {
        return Optional.ofNullable(verdicts().get(uploadId)).map(VERDICT::read);
    }

    public Optional<HighScoreAlert> alert(String uploadId) {
        byte[] timeKey = alerts().get(join("u", uploadId));
        if (timeKey == null) return Optional.empty();
        return Optional.ofNullable(alerts().get(new String(timeKey, StandardCharsets.UTF_8))).map(ALERT::read);
    }

    public Optional<ModerationDecision> latestDecision(String uploadId) {
        return Optional.ofNullable(decisions().get(join("l", uploadId))).map(DECISION::read);
    }

    /** Every decision on the upload, newest first (the first one is the one that counts). */
    public List<ModerationDecision> decisionHistory(String uploadId) {
        List<ModerationDecision> history = new ArrayList<>();
        String prefix = join("h", uploadId) + SEP;
        try (KeyValueIterator<String, byte[]> it = decisions().range(prefix, prefix + END)) {
            it.forEachRemaining(kv -> history.add(DECISION.read(kv.value)));
        }
        return history;
    }

    /** Whether a decision with this id is on the topic (and so in the store). */
    public boolean decisionRecorded(String decisionId) {
        return decisions().get(join("d", decisionId)) != null;
    }

    /** The uploader's other alerted uploads, newest first, at most {@code limit}. */
    public List<HighScoreAlert> flaggedByUploader(String uploaderId, String exceptUploadId, int limit) {
        List<HighScoreAlert> flagged = new ArrayList<>();
        String prefix = join("p", uploaderId) + SEP;
        try (KeyValueIterator<String, byte[]> it = alerts().range(prefix, prefix + END)) {
            while (it.hasNext() && flagged.size() < limit) {
                String rest = it.next().key.substring(prefix.length());
                String uploadId = rest.substring(17);
                if (!uploadId.equals(exceptUploadId)) {
                    byte[] alert = alerts().get(join("t", rest.substring(0, 16), uploadId));
                    if (alert != null) flagged.add(ALERT.read(alert));
                }
            }
        }
        return flagged;
    }

    /** The burst alert that lists this upload, if one does. */
    public Optional<UploaderBurstAlert> burstOf(String uploadId) {
        byte[] timeKey = bursts().get(join("u", uploadId));
        if (timeKey == null) return Optional.empty();
        return Optional.ofNullable(bursts().get(new String(timeKey, StandardCharsets.UTF_8))).map(BURST::read);
    }

    /** Generator names moderators have used, sorted (the decision form offers them). */
    public List<String> generators() {
        List<String> names = new ArrayList<>();
        String prefix = "g" + SEP;
        try (KeyValueIterator<String, byte[]> it = decisions().range(prefix, prefix + END)) {
            it.forEachRemaining(kv -> names.add(kv.key.substring(2)));
        }
        return names;
    }

    /** The (model, head version) pairs that raised alerts, for the queue's filter lists. */
    public Map<String, TreeSet<String>> headsByModel() {
        Map<String, TreeSet<String>> heads = new TreeMap<>();
        raisedCounts().keySet().forEach(k -> heads.computeIfAbsent(k.get(0), m -> new TreeSet<>()).add(k.get(1)));
        return heads;
    }

    private Map<List<String>, Long> raisedCounts() {
        Map<List<String>, Long> raised = new TreeMap<>(java.util.Comparator.comparing((List<String> k) -> k.get(0))
                .thenComparing(k -> k.get(1)));
        String prefix = "c" + SEP;
        try (KeyValueIterator<String, byte[]> it = alerts().range(prefix, prefix + END)) {
            it.forEachRemaining(kv -> {
                String[] parts = kv.key.split(String.valueOf(SEP), 3);
                raised.put(List.of(parts[1], parts[2]), ConsoleTopology.longOf(kv.value));
            });
        }
        return raised;
    }

    // ---- the dashboard ----

    /**
     * The counters the indexers keep (alerts raised per model and head; over the latest decision per upload: reviewed,
     * confirmed and unsure per head, confirmed and alerted per generator name): a read of a few entries per head and
     * per generator, whatever the number of alerts and decisions, so the page and the Prometheus gauges are cheap.
     */
    public Dashboard dashboard() {
        Map<List<String>, long[]> perHead = new TreeMap<>(java.util.Comparator.comparing((List<String> k) -> k.get(0))
                .thenComparing(k -> k.get(1)));
        raisedCounts().forEach((k, raised) -> perHead.put(k, new long[] {raised, 0, 0, 0}));
        scan(decisions(), "c", (rest, value) -> {
            String[] parts = rest.split(String.valueOf(SEP), 2);
            long[] c = ConsoleTopology.longsOf(value, ConsoleTopology.HEAD_COUNTS);
            long[] row = perHead.computeIfAbsent(List.of(parts[0], parts[1]), k -> new long[4]);
            System.arraycopy(c, 0, row, 1, c.length);
        });
        List<Dashboard.HeadRow> heads = new ArrayList<>();
        perHead.forEach((k, c) -> heads.add(new Dashboard.HeadRow(k.get(0), k.get(1), c[0], c[1], c[2], c[3],
                Precision.of(c[2], c[1]))));
        List<Dashboard.GeneratorRow> generators = new ArrayList<>();
        scan(decisions(), "n", (name, value) -> {
            long[] g = ConsoleTopology.longsOf(value, ConsoleTopology.GENERATOR_COUNTS);
            if (g[0] > 0) {
                generators.add(new Dashboard.GeneratorRow(name, g[0], g[1], Precision.of(g[1], g[0])));
            }
        });
        return new Dashboard(heads, generators);
    }

    /** Every entry under {@code kind·}: its key after that prefix, and its value. */
    private static void scan(ReadOnlyKeyValueStore<String, byte[]> store, String kind,
                             java.util.function.BiConsumer<String, byte[]> each) {
        String prefix = kind + SEP;
        try (KeyValueIterator<String, byte[]> it = store.range(prefix, prefix + END)) {
            it.forEachRemaining(kv -> each.accept(kv.key.substring(prefix.length()), kv.value));
        }
    }
}

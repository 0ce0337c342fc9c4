package io.clipguard.console.store;

import static io.clipguard.console.store.StoreKeys.join;
import static io.clipguard.console.store.StoreKeys.reverseTime;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.UploaderBurstAlert;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The console's Kafka Streams topology: four global stores, one per topic, each filled by an indexer that writes the
 * key layouts the pages query ({@link ReadModel}). Global stores because every console instance must answer every
 * page (a partitioned store would need a hop between instances); Kafka Streams 4 replays a global store's topic
 * through its indexer when it restores the store, so the indexes are rebuilt the same way they were built.
 * Persistent (RocksDB) stores: iterating them is lazy, so a page costs what it reads, not the size of the store.
 *
 * <pre>
 *   console-alerts     t·rev·upload → HighScoreAlert      u·upload → its t key     p·uploader·rev·upload → ""
 *                      v·headVersion·rev·upload → ""
 *                      c·model·head → alerts raised (8-byte long)
 *   console-bursts     t·rev·uploader·windowStart → UploaderBurstAlert             u·upload → its t key
 *   console-verdicts   upload → ModerationVerdict (the latest)
 *   console-decisions  l·upload → latest ModerationDecision   h·upload·rev·decisionId → each decision
 *                      d·decisionId → upload (replays of one decision id count once)   g·generator → ""
 *                      c·model·head → reviewed, confirmed, unsure     n·generator → confirmed, alerted
 *                      (counters over the latest decision per upload: 8-byte longs)
 * </pre>
 */
public final class ConsoleTopology {
    public static final String ALERTS_STORE = "console-alerts";
    public static final String BURSTS_STORE = "console-bursts";
    public static final String VERDICTS_STORE = "console-verdicts";
    public static final String DECISIONS_STORE = "console-decisions";
    /**
     * The key layouts' version: a console whose local stores were built with another one rebuilds them from the
     * topics (ConsoleStreams deletes its state folder), since an index added later would lack the older entries.
     * 2: head-version index (v·) and the decision counters (c·, n· in console-decisions).
     */
    public static final int LAYOUT_VERSION = 2;

    static final AvroBinary<HighScoreAlert> ALERT = new AvroBinary<>(HighScoreAlert.class);
    static final AvroBinary<UploaderBurstAlert> BURST = new AvroBinary<>(UploaderBurstAlert.class);
    static final AvroBinary<ModerationVerdict> VERDICT = new AvroBinary<>(ModerationVerdict.class);
    static final AvroBinary<ModerationDecision> DECISION = new AvroBinary<>(ModerationDecision.class);

    /** The four topics the console reads. */
    public record Sources(String alerts, String burstAlerts, String verdicts, String decisions) {}

    /** A reader of the topics' values (Confluent framing, schema by id from the registry). */
    public interface Readers {
        <T> Deserializer<T> reader();
    }

    private ConsoleTopology() {}

    public static Topology build(Sources topics, Readers readers) {
        StreamsBuilder builder = new StreamsBuilder();
        addGlobal(builder, ALERTS_STORE, topics.alerts(), readers.<HighScoreAlert>reader(), AlertIndexer::new);
        addGlobal(builder, BURSTS_STORE, topics.burstAlerts(), readers.<UploaderBurstAlert>reader(), BurstIndexer::new);
        addGlobal(builder, VERDICTS_STORE, topics.verdicts(), readers.<ModerationVerdict>reader(), VerdictIndexer::new);
        addGlobal(builder, DECISIONS_STORE, topics.decisions(), readers.<ModerationDecision>reader(), DecisionIndexer::new);
        return builder.build();
    }

    private static <V> void addGlobal(StreamsBuilder builder, String store, String topic, Deserializer<V> values,
                                      Supplier<Processor<String, V, Void, Void>> indexer) {
        Serializer<V> unused = (t, v) -> {
            throw new UnsupportedOperationException("the console only reads " + t);
        };
        builder.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store), Serdes.String(),
                        Serdes.ByteArray()).withLoggingDisabled(),
                topic, Consumed.with(Serdes.String(), Serdes.serdeFrom(unused, values)), indexer::get);
    }

    static byte[] longBytes(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long longOf(byte[] bytes) {
        return bytes == null || bytes.length != Long.BYTES ? 0 : ByteBuffer.wrap(bytes).getLong();
    }

    /** Per head: reviewed, confirmed, unsure. */
    static final int HEAD_COUNTS = 3;
    /** Per generator name: confirmed, alerted. */
    static final int GENERATOR_COUNTS = 2;

    static byte[] longsBytes(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Long.BYTES);
        for (long v : values) b.putLong(v);
        return b.array();
    }

    /** {@code n} longs; zeros for an absent (or foreign-sized) value. */
    static long[] longsOf(byte[] bytes, int n) {
        long[] values = new long[n];
        if (bytes != null && bytes.length == n * Long.BYTES) {
            ByteBuffer.wrap(bytes).asLongBuffer().get(values);
        }
        return values;
    }

    private abstract static class Indexer<V> implements Processor<String, V, Void, Void> {
        private final String storeName;
        KeyValueStore<String, byte[]> store;

        Indexer(String storeName) {
            this.storeName = storeName;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(storeName);
        }

        @Override
        public void process(Record<String, V> record) {
            // A tombstone or a record the reader could not decode (skipped by the handler) indexes nothing.
            if (record.key() != null && record.value() != null) {
                index(record.key(), record.value(), record.timestamp());
            }
        }

        abstract void index(String key, V value, long timestamp);
    }

    static final class AlertIndexer extends Indexer<HighScoreAlert> {
        AlertIndexer() {
            super(ALERTS_STORE);
        }

        @Override
        void index(String uploadId, HighScoreAlert alert, long timestamp) {
            String uploadKey = join("u", uploadId);
            byte[] earlierKey = store.get(uploadKey);
            boolean newHead = true;
            if (earlierKey != null) {
                // The same upload alerted again (a rescore with another head): one row, the newest; its head counts once.
                String earlier = new String(earlierKey, java.nio.charset.StandardCharsets.UTF_8);
                byte[] earlierAlert = store.get(earlier);
                if (earlierAlert != null) {
                    HighScoreAlert old = ALERT.read(earlierAlert);
                    newHead = !(old.getVerdictModelId().equals(alert.getVerdictModelId())
                            && old.getVerdictHeadVersion().equals(alert.getVerdictHeadVersion()));
                    String oldRev = earlier.split(String.valueOf(StoreKeys.SEP))[1];
                    store.delete(join("p", old.getUploaderId(), oldRev, uploadId));
                    store.delete(join("v", old.getVerdictHeadVersion(), oldRev, uploadId));
                }
                store.delete(earlier);
            }
            String rev = reverseTime(timestamp);
            String timeKey = join("t", rev, uploadId);
            store.put(timeKey, ALERT.write(alert));
            store.put(uploadKey, timeKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            store.put(join("p", alert.getUploaderId(), rev, uploadId), new byte[0]);
            store.put(join("v", alert.getVerdictHeadVersion(), rev, uploadId), new byte[0]);
            if (newHead) {
                String counter = join("c", alert.getVerdictModelId(), alert.getVerdictHeadVersion());
                store.put(counter, longBytes(longOf(store.get(counter)) + 1));
            }
        }
    }

    static final class BurstIndexer extends Indexer<UploaderBurstAlert> {
        BurstIndexer() {
            super(BURSTS_STORE);
        }

        @Override
        void index(String uploaderId, UploaderBurstAlert burst, long timestamp) {
            String timeKey = join("t", reverseTime(timestamp), burst.getUploaderId(), String.format("%016x", burst.getWindowStart().toEpochMilli()));
            store.put(timeKey, BURST.write(burst));
            byte[] pointer = timeKey.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            for (String uploadId : burst.getUploadIds()) {
                store.put(join("u", uploadId), pointer);
            }
        }
    }

    static final class VerdictIndexer extends Indexer<ModerationVerdict> {
        VerdictIndexer() {
            super(VERDICTS_STORE);
        }

        @Override
        void index(String uploadId, ModerationVerdict verdict, long timestamp) {
            store.put(uploadId, VERDICT.write(verdict));
        }
    }

    static final class DecisionIndexer extends Indexer<ModerationDecision> {
        DecisionIndexer() {
            super(DECISIONS_STORE);
        }

        @Override
        void index(String uploadId, ModerationDecision decision, long timestamp) {
            String idKey = join("d", decision.getDecisionId());
            if (store.get(idKey) != null) {
                return; // a retried write of a decision already counted
            }
            byte[] bytes = DECISION.write(decision);
            byte[] earlier = store.get(join("l", uploadId));
            if (earlier != null) {
                count(DECISION.read(earlier), -1); // the latest decision counts: the one it replaces stops counting
            }
            count(decision, +1);
            store.put(idKey, uploadId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            store.put(join("h", uploadId, reverseTime(decision.getDecidedAt().toEpochMilli()), decision.getDecisionId()), bytes);
            store.put(join("l", uploadId), bytes);
            if (decision.getGenerator() != null && !decision.getGenerator().isBlank()) {
                store.put(join("g", decision.getGenerator().strip()), new byte[0]);
            }
        }

        /**
         * Adds (+1) or takes back (-1) one latest decision in the dashboard's counters, so that the dashboard and the
         * gauges read a few counters instead of every decision. Reviewed and confirmed count decisions on alerted
         * uploads only (alertKind set), under the head version the decision says was reviewed.
         */
        private void count(ModerationDecision d, int delta) {
            if (d.getAlertKind() != null && d.getModelId() != null && d.getHeadVersion() != null) {
                String key = join("c", d.getModelId(), d.getHeadVersion());
                long[] c = longsOf(store.get(key), HEAD_COUNTS);
                switch (d.getDecision()) {
                    case AI_GENERATED -> { c[0] += delta; c[1] += delta; }
                    case REAL -> c[0] += delta;
                    case UNSURE -> c[2] += delta;
                }
                store.put(key, longsBytes(c));
            }
            if (d.getDecision() == DecisionLabel.AI_GENERATED && d.getGenerator() != null && !d.getGenerator().isBlank()) {
                String key = join("n", d.getGenerator().strip());
                long[] g = longsOf(store.get(key), GENERATOR_COUNTS);
                g[0] += delta;
                if (d.getAlertKind() != null) g[1] += delta;
                store.put(key, longsBytes(g));
            }
        }
    }
}

package io.clipguard.streams.alerting;

import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.contracts.Topics;
import io.clipguard.streams.config.ClipguardConfig;
import io.clipguard.streams.metrics.ModerationMetrics;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Uploader bursts: K or more high-score verdicts of one uploader within one window raise one {@link UploaderBurstAlert},
 * at the moment the K-th arrives (not when the window closes).
 *
 * <pre>
 *   verdicts ─(p ≥ threshold)─► key by uploader (repartition) ─► tumbling window W ─► count + first ids ─(count = K)─► moderation-burst-alerts
 * </pre>
 *
 * <p>Why tumbling windows: they are disjoint, so "one alert per uploader and window" is exact and the state is one
 * small aggregate per uploader and window. Hopping windows overlap, so one burst would reach K in several windows and
 * alert several times; sliding windows open a window per verdict, so a sustained burst would alert on every further
 * verdict. The price of tumbling windows is the boundary: K verdicts within W that straddle two aligned windows may
 * count K-1 and 1; any 2K-1 verdicts within W always put K into one window.
 *
 * <p>Exactly once: the count lives in a changelogged window store updated in the same transaction as the alert it
 * emits, and the alert is emitted on the update where the count goes from K-1 to K, which happens once per window. The
 * store's record cache is off so that no update is coalesced away. Windows follow the upload records' timestamps (the
 * verdicts carry them), so replays and late scoring count where the uploads happened; a verdict later than the grace
 * period behind the newest one seen is not counted.
 */
public final class BurstAlerting {

    /**
     * @param count                K, verdicts in one window that raise the alert
     * @param window               W, the tumbling window's size
     * @param probabilityThreshold a verdict counts when its probability reaches this
     * @param maxUploadIds         the alert lists at most this many upload ids, the first ones
     * @param grace                how far behind the newest timestamp a verdict may arrive and still count
     */
    public record Settings(int count, Duration window, double probabilityThreshold, int maxUploadIds, Duration grace) {
        public Settings {
            if (count < 1) {
                throw new IllegalArgumentException("clipguard.alert.burst.count must be >= 1, got " + count);
            }
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("clipguard.alert.burst.window must be positive, got " + window);
            }
            if (maxUploadIds < 0 || grace.isNegative()) {
                throw new IllegalArgumentException("clipguard.alert.burst.max-upload-ids and grace must not be negative");
            }
        }

        public static Settings from(ClipguardConfig.Burst b) {
            return new Settings(b.count(), b.window(), b.probabilityThreshold(), b.maxUploadIds(), b.grace());
        }
    }

    private BurstAlerting() {}

    /** Adds the burst branch to a topology under construction, reading its verdict stream. */
    public static void attach(KStream<String, ModerationVerdict> verdicts, Settings s, String verdictTopic,
                       Topics.Topic<String, UploaderBurstAlert> alerts, ModerationMetrics metrics) {
        verdicts.filter((id, v) -> v.getProbability() >= s.probabilityThreshold(), Named.as("burst-high-score"))
                .map((id, v) -> KeyValue.pair(v.getUploaderId(), v.getUploadId()), Named.as("burst-key-by-uploader"))
                .groupByKey(Grouped.with(Topics.BURST_REPARTITION, Serdes.String(), Serdes.String()))
                .windowedBy(TimeWindows.ofSizeAndGrace(s.window(), s.grace()))
                .aggregate(() -> WindowCount.EMPTY,
                        (uploader, uploadId, counted) -> counted.add(uploadId, s.count(), s.maxUploadIds()),
                        Named.as("burst-count"),
                        Materialized.<String, WindowCount, WindowStore<Bytes, byte[]>>as(Topics.BURST_STORE)
                                .withKeySerde(Serdes.String())
                                .withValueSerde(WindowCount.serde())
                                .withCachingDisabled())
                .toStream(Named.as("burst-updates"))
                .filter((window, c) -> c.reachedNow(), Named.as("burst-reached"))
                .map((window, c) -> {
                    metrics.burstAlert();
                    return KeyValue.pair(window.key(), UploaderBurstAlert.newBuilder()
                            .setUploaderId(window.key())
                            .setCount(c.count())
                            .setWindowStart(Instant.ofEpochMilli(window.window().start()))
                            .setWindowEnd(Instant.ofEpochMilli(window.window().end()))
                            .setUploadIds(c.uploadIds())
                            .setBurstCount(s.count())
                            .setProbabilityThreshold(s.probabilityThreshold())
                            .setVerdictTopic(verdictTopic)
                            .build());
                }, Named.as("burst-alert"))
                .to(alerts.name(), Produced.with(alerts.keySerde(), alerts.valueSerde()));
    }

    /**
     * One uploader's high-score verdicts in one window: how many, the first upload ids, and whether this very update
     * took the count to K (true on exactly one update per window).
     */
    record WindowCount(int count, List<String> uploadIds, boolean reachedNow) {
        static final WindowCount EMPTY = new WindowCount(0, List.of(), false);

        WindowCount add(String uploadId, int burstCount, int maxUploadIds) {
            List<String> ids = uploadIds;
            if (ids.size() < maxUploadIds) {
                ids = new ArrayList<>(uploadIds);
                ids.add(uploadId);
            }
            return new WindowCount(count + 1, List.copyOf(ids), count + 1 == burstCount);
        }

        /** Compact binary form for the window store and its changelog; internal to this service. */
        static Serde<WindowCount> serde() {
            return Serdes.serdeFrom((topic, c) -> encode(c), (topic, data) -> decode(data));
        }

        private static final byte VERSION = 1;

        private static byte[] encode(WindowCount c) {
            if (c == null) {
                return null;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 40 * c.uploadIds.size());
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeByte(VERSION);
                out.writeInt(c.count);
                out.writeBoolean(c.reachedNow);
                out.writeInt(c.uploadIds.size());
                for (String id : c.uploadIds) {
                    out.writeUTF(id);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        private static WindowCount decode(byte[] data) {
            if (data == null) {
                return null;
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                byte version = in.readByte();
                if (version != VERSION) {
                    throw new IllegalStateException("burst-store record version " + version + " is not " + VERSION);
                }
                int count = in.readInt();
                boolean reachedNow = in.readBoolean();
                int n = in.readInt();
                List<String> ids = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    ids.add(in.readUTF());
                }
                return new WindowCount(count, List.copyOf(ids), reachedNow);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}

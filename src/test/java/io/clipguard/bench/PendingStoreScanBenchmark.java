package io.clipguard.bench;

import io.clipguard.contracts.Topics;
import io.clipguard.moderation.PendingUpload;
import io.clipguard.testing.TempFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * What a scan of the pending store costs once many uploads have passed through it: the service's store (RocksDB, as
 * the topology builds it, changelog left out) holds one partition batch of waiting uploads, and before each scan the
 * previous batch has been answered (put, then deleted, as {@code BatchingScoreProcessor} does). Every answered upload
 * leaves its put and its delete in RocksDB until a compaction removes them, and {@code all()} walks past them. Prints,
 * after every {@code --step} answered uploads, the median of 21 scans that each find the {@code --batch} waiting
 * uploads, and the time one upload's put and delete took since the line before. Why it exists: the processor
 * scanned the store at every flush until 2026-12-07, and now reads it only when its task starts.
 * Run: {@code tools/bench-pending-store [--uploads 128000] [--step 16000] [--batch 32]}
 */
public final class PendingStoreScanBenchmark {
    /** Scans timed at each step, on the same state; the median is printed. */
    private static final int SCANS = 21;

    public static void main(String[] args) throws Exception {
        int uploads = Integer.parseInt(PipelineBenchmark.arg(args, "--uploads", "128000"));
        int step = Integer.parseInt(PipelineBenchmark.arg(args, "--step", "16000"));
        int batch = Integer.parseInt(PipelineBenchmark.arg(args, "--batch", "32"));
        if (batch < 1 || step < batch || step % batch != 0) {
            System.err.println("bench-pending-store: --step (" + step + ") must be a positive multiple of --batch (" + batch
                    + "), e.g. --step " + Math.max(1, batch) * 500);
            System.exit(2);
        }
        Path dir = Files.createTempDirectory("clipguard-pending-store");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "pending-store-bench");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        var context = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
        KeyValueStore<Long, PendingUpload> store = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(Topics.PENDING_STORE),
                Serdes.Long(), PendingUpload.storeSerde()).withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        System.out.printf(Locale.ROOT, "pending store (RocksDB), %d waiting uploads per scan, %s%n", batch, System.getProperty("os.arch"));
        System.out.println("answered uploads | scan of the waiting batch, median µs | put + delete per upload, µs, since the line before");
        byte[] key = "upload-key-0123456789".getBytes();
        long writeNanos = 0;
        for (long offset = 0; offset <= uploads; offset += batch) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                store.put(offset + i, new PendingUpload(key, "image-uploads", 0, offset + i, System.currentTimeMillis()));
            }
            writeNanos += System.nanoTime() - t0;
            if (offset % step == 0) { // `offset` uploads answered so far, `batch` waiting: time the scan on this state
                long[] scans = new long[SCANS];
                for (int k = 0; k < SCANS; k++) {
                    long t = System.nanoTime();
                    int found = scan(store);
                    scans[k] = System.nanoTime() - t;
                    if (found != batch) {
                        throw new IllegalStateException("scan found " + found + " uploads, expected " + batch);
                    }
                }
                Arrays.sort(scans);
                System.out.printf(Locale.ROOT, "%16d | %35.1f | %28s%n", offset, scans[SCANS / 2] / 1e3,
                        offset == 0 ? "" : String.format(Locale.ROOT, "%.2f", writeNanos / 1e3 / step));
                writeNanos = 0;
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                store.delete(offset + i);
            }
            writeNanos += System.nanoTime() - t1;
        }
        store.close();
        TempFiles.deleteTree(dir);
    }

    private static int scan(KeyValueStore<Long, PendingUpload> store) {
        int found = 0;
        try (KeyValueIterator<Long, PendingUpload> it = store.all()) {
            while (it.hasNext()) {
                it.next();
                found++;
            }
        }
        return found;
    }
}

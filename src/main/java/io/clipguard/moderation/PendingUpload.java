package io.clipguard.moderation;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * An upload record waiting for its batch: where it is in the input topic, its key and timestamp. These small entries
 * live in the changelogged pending store so that a crash or rebalance loses nothing; the value (the image, possibly
 * megabytes) stays in the input topic and in memory, and is read back from the topic only after a restore
 * ({@link SourceRecordReader}), so images are not written to Kafka a second time.
 */
public record PendingUpload(byte[] key, String topic, int partition, long offset, long timestamp) {

    /** The upload together with its value bytes (null for a tombstone), as the scorer needs it. */
    public record WithValue(PendingUpload upload, byte[] value) {}

    /** Compact binary form for the state store and its changelog; internal to this service. */
    public static Serde<PendingUpload> storeSerde() {
        return Serdes.serdeFrom((topic, p) -> StoreCodec.encode(p), (topic, data) -> StoreCodec.decode(data));
    }

    private static final class StoreCodec {
        private static final byte VERSION = 2;

        static byte[] encode(PendingUpload p) {
            if (p == null) {
                return null;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + length(p.key));
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeByte(VERSION);
                writeBytes(out, p.key);
                out.writeUTF(p.topic);
                out.writeInt(p.partition);
                out.writeLong(p.offset);
                out.writeLong(p.timestamp);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        }

        static PendingUpload decode(byte[] data) {
            if (data == null) {
                return null;
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                byte version = in.readByte();
                if (version != VERSION) {
                    throw new IllegalStateException("pending-store record version " + version + " is not " + VERSION);
                }
                return new PendingUpload(readBytes(in), in.readUTF(), in.readInt(), in.readLong(), in.readLong());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static int length(byte[] b) {
            return b == null ? 0 : b.length;
        }

        private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
            out.writeInt(b == null ? -1 : b.length);
            if (b != null) {
                out.write(b);
            }
        }

        private static byte[] readBytes(DataInputStream in) throws IOException {
            int n = in.readInt();
            return n < 0 ? null : in.readNBytes(n);
        }
    }
}

package io.clipguard.streams;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * An upload record waiting for its batch, exactly as it was consumed (key and value bytes untouched), with where it
 * came from. Lives in the changelogged pending store so that a crash or rebalance loses nothing.
 */
record PendingUpload(byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {

    /** Compact binary form for the state store and its changelog; internal to this service. */
    static Serde<PendingUpload> storeSerde() {
        return Serdes.serdeFrom((topic, p) -> StoreCodec.encode(p), (topic, data) -> StoreCodec.decode(data));
    }

    private static final class StoreCodec {
        private static final byte VERSION = 1;

        static byte[] encode(PendingUpload p) {
            if (p == null) {
                return null;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + length(p.key) + length(p.value));
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeByte(VERSION);
                writeBytes(out, p.key);
                writeBytes(out, p.value);
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
                return new PendingUpload(readBytes(in), readBytes(in), in.readUTF(), in.readInt(), in.readLong(), in.readLong());
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

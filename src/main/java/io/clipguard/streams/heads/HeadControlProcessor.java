package io.clipguard.streams.heads;

import io.clipguard.contracts.Topics;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps this instance's global store of detector-heads up to date and tells {@link ActiveHeads} when a record of its
 * model arrives. Values stay raw bytes in the store (decoded on lookup), so an unreadable record can never stop the
 * global thread.
 */
public final class HeadControlProcessor implements Processor<String, byte[], Void, Void> {
    private final ActiveHeads heads;
    private KeyValueStore<String, byte[]> store;

    public HeadControlProcessor(ActiveHeads heads) {
        this.heads = heads;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(Topics.HEADS_STORE);
        // The store was restored from the topic before init: apply what it says is active now.
        heads.refresh(store::get);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        if (record.key() == null) {
            return;
        }
        if (record.value() == null) {
            store.delete(record.key());
        } else {
            store.put(record.key(), record.value());
        }
        if (heads.concerns(record.key())) {
            heads.refresh(store::get);
        }
    }
}

package io.clipguard.streams.heads;

import io.clipguard.avro.DetectorHeadEntry;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Deserializer;
import org.jboss.logging.Logger;

/**
 * The head this instance scores with: the version that detector-heads marks active for the engine's model. The global
 * store's updater ({@link HeadControlProcessor}) calls {@link #refresh} whenever a record of this model arrives, so
 * an activation takes effect on every instance as soon as its global thread reads it. Each batch reads
 * {@link #get()} once: a switch never splits a batch, and every verdict names the version it was scored with.
 *
 * <p>A head that does not fit the backbone (other model id, other dimension), or an activation of a version that was
 * never published, is refused: the serving head stays, one log line and {@code clipguard_head_refusals_total} say so,
 * and {@code /q/health/ready} shows the refusal next to the active head until a fitting head is activated.
 */
public final class ActiveHeads implements Supplier<LinearHead> {
    private static final Logger LOG = Logger.getLogger(ActiveHeads.class);

    private final String modelId;
    private final int featureDim;
    private final Deserializer<DetectorHeadEntry> reader;
    private final AtomicReference<LinearHead> current;
    private final Counter refusals;
    private final Counter activations;
    private volatile Refusal refusal;

    /** An activation that was not applied, and why. */
    public record Refusal(String version, String reason, Instant at) {}

    /**
     * @param initial   the configured head, served until the control topic names another (the service seeds the
     *                  topic with it when the model has no active head yet, see {@link HeadSeeding})
     * @param reader    decodes detector-heads values (Confluent wire format)
     */
    public ActiveHeads(LinearHead initial, String modelId, int featureDim, Deserializer<DetectorHeadEntry> reader,
                       MeterRegistry registry) {
        this.modelId = modelId;
        this.featureDim = featureDim;
        this.reader = reader;
        this.current = new AtomicReference<>(initial);
        this.refusals = Counter.builder("clipguard.head.refusals").tag("model", modelId)
                .description("Head activations refused (head does not fit the backbone, or was never published)").register(registry);
        this.activations = Counter.builder("clipguard.head.activations").tag("model", modelId)
                .description("Head switches applied from detector-heads").register(registry);
    }

    /** The head to score the next batch with. */
    @Override
    public LinearHead get() {
        return current.get();
    }

    public String modelId() {
        return modelId;
    }

    /** The last activation refused since a fitting head became active, if any. */
    public Optional<Refusal> refusal() {
        return Optional.ofNullable(refusal);
    }

    /** Whether a change to detector-heads key {@code key} may change this model's active head. */
    boolean concerns(String key) {
        return key.equals(Topics.activeKey(modelId)) || key.startsWith(Topics.headKey(modelId, ""));
    }

    /**
     * Applies what detector-heads says is active for this model, given a view of the topic by key (raw values).
     * Idempotent: called on every relevant record, it only acts when the active version differs from the serving one.
     */
    synchronized void refresh(Function<String, byte[]> lookup) {
        DetectorHeadEntry active = decode(Topics.activeKey(modelId), lookup);
        if (active == null) {
            return; // nothing activated for this model: keep serving the configured head
        }
        String version = active.getVersion();
        LinearHead serving = current.get();
        if (version.equals(serving.version())) {
            refusal = null;
            return;
        }
        String key = Topics.headKey(modelId, version);
        DetectorHeadEntry published = decode(key, lookup);
        if (published == null || published.getHeadJson() == null) {
            refuse(version, "no head record " + key + " (publish it first: tools/clipguard head publish --file head.json)");
            return;
        }
        LinearHead head;
        try {
            head = LinearHead.parse(published.getHeadJson(), Topics.HEADS + " " + key);
        } catch (ModelLoadException e) {
            refuse(version, e.getMessage());
            return;
        }
        Optional<LinearHead.Misfit> misfit = head.misfit(modelId, featureDim);
        if (misfit.isPresent()) {
            refuse(version, "the head does not fit the backbone: " + misfit.get().reason());
            return;
        }
        if (!version.equals(head.version())) {
            refuse(version, "record " + key + " holds a head file of version '" + head.version() + "'");
            return;
        }
        current.set(head);
        refusal = null;
        activations.increment();
        LOG.infof("head %s of model %s is now active (was %s)", version, modelId, serving.version());
    }

    private void refuse(String version, String reason) {
        Refusal last = refusal;
        if (last != null && last.version().equals(version) && last.reason().equals(reason)) {
            return; // already reported; the record that triggered this refresh changed nothing for it
        }
        refusal = new Refusal(version, reason, Instant.now());
        refusals.increment();
        LOG.warnf("refused head %s for model %s: %s. Head %s stays active.", version, modelId, reason, current.get().version());
    }

    private DetectorHeadEntry decode(String key, Function<String, byte[]> lookup) {
        byte[] raw = lookup.apply(key);
        if (raw == null) {
            return null;
        }
        try {
            return reader.deserialize(Topics.HEADS, raw);
        } catch (RuntimeException e) {
            LOG.warnf("ignoring unreadable %s record %s: %s", Topics.HEADS, key, e.toString());
            return null;
        }
    }
}

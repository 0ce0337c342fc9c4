package io.clipguard.console;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes decisions to moderation-decisions, keyed by upload id, each at most once per decision id:
 * <ul>
 *   <li>a decision id already on the topic (the read model has it) is not written again;</li>
 *   <li>two POSTs of one id at once (a double click) share one send: the second waits for the first's answer;</li>
 *   <li>the producer is idempotent with acks=all, so its own retries never duplicate a record;</li>
 *   <li>the answer is given only once the broker acknowledged the record, or the wait ({@code decision-timeout}) is
 *       over: then the moderator is told it failed and may submit the same form again (same id, so at most one record
 *       counts, even if the timed-out send did land: the read model counts a decision id once).</li>
 * </ul>
 */
@ApplicationScoped
public class DecisionWriter {
    /** The decision was not acknowledged in time; nothing may be shown as saved. */
    public static final class DecisionNotRecorded extends Exception {
        DecisionNotRecorded(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Inject
    ConsoleConfig config;
    @Inject
    ConsoleStreams streams;
    @Inject
    ConsoleConfig.Cluster cluster;

    /** A decision this instance sent, and Kafka's answer to it. */
    private record Sent(ModerationDecision decision, CompletableFuture<RecordMetadata> ack) {}

    private final Cache<String, Sent> inFlight = Caffeine.newBuilder()
            .maximumSize(100_000).expireAfterWrite(Duration.ofHours(1)).build();
    private KafkaProducer<String, ModerationDecision> producer;

    /** @return true when this call wrote the record, false when the decision id was already recorded */
    public boolean write(ModerationDecision decision) throws DecisionNotRecorded {
        if (streams.readModel().decisionRecorded(decision.getDecisionId())) {
            return false;
        }
        CompletableFuture<RecordMetadata> mine = new CompletableFuture<>();
        Sent sent = new Sent(decision, mine);
        Sent earlier = inFlight.asMap().putIfAbsent(decision.getDecisionId(), sent);
        boolean first = earlier == null;
        CompletableFuture<RecordMetadata> shared = first ? mine : earlier.ack();
        if (first) {
            try {
                producer().send(new ProducerRecord<>(cluster.decisionsTopic, decision.getUploadId(), decision),
                        (metadata, error) -> {
                            if (error != null) mine.completeExceptionally(error);
                            else mine.complete(metadata);
                        });
            } catch (RuntimeException e) { // the serializer (registry) or the producer refused before sending
                mine.completeExceptionally(e);
            }
        }
        try {
            shared.get(config.decisionTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return first;
        } catch (TimeoutException | ExecutionException e) {
            inFlight.asMap().remove(decision.getDecisionId(), first ? sent : earlier); // a retry of the form may send again
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            org.jboss.logging.Logger.getLogger(DecisionWriter.class).warnf(cause, "decision %s on %s not recorded",
                    decision.getDecisionId(), decision.getUploadId());
            throw new DecisionNotRecorded("the decision was not acknowledged by Kafka within "
                    + config.decisionTimeout() + " (" + cause.getClass().getSimpleName() + ")", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DecisionNotRecorded("interrupted while waiting for Kafka", e);
        }
    }

    /** The decision this instance wrote under that id, once Kafka acknowledged it. */
    public Optional<ModerationDecision> acknowledged(String decisionId) {
        Sent sent = inFlight.getIfPresent(decisionId);
        return sent != null && sent.ack().isDone() && !sent.ack().isCompletedExceptionally()
                ? Optional.of(sent.decision()) : Optional.empty();
    }

    private synchronized KafkaProducer<String, ModerationDecision> producer() {
        if (producer == null) {
            int timeout = (int) Math.min(Integer.MAX_VALUE, config.decisionTimeout().toMillis());
            Serde<ModerationDecision> values = Topics.decisions(cluster.decisionsTopic, new OutputSchemas(cluster.registryUrl)).valueSerde();
            producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap,
                    ProducerConfig.ACKS_CONFIG, "all",
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                    // Give up within the moderator's wait: the send neither blocks for metadata nor retries past it.
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeout,
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout,
                    ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(timeout, 5_000),
                    ProducerConfig.LINGER_MS_CONFIG, 0),
                    new StringSerializer(), values.serializer());
        }
        return producer;
    }

    @PreDestroy
    synchronized void close() {
        if (producer != null) producer.close(Duration.ofSeconds(2));
    }
}

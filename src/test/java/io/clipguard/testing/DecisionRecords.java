package io.clipguard.testing;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes moderators' decisions as the console does (key = upload id, the pinned moderation-decisions schema), for the
 * tests of {@code train/evaluate --decisions} and for the runbook's recorded run, where no console is at hand:
 * {@code java -cp <test and main classpath> io.clipguard.testing.DecisionRecords <bootstrap> <registry> <topic>
 * <uploadId>=<AI_GENERATED[:generator]|REAL|UNSURE> ...}.
 */
public final class DecisionRecords implements AutoCloseable {
    private final KafkaProducer<String, ModerationDecision> producer;
    private final String topic;

    public DecisionRecords(String bootstrapServers, String registryUrl, String topic) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        Topics.Topic<String, ModerationDecision> t = Topics.decisions(topic, new OutputSchemas(registryUrl));
        this.producer = new KafkaProducer<>(p, new StringSerializer(), t.valueSerde().serializer());
        this.topic = topic;
    }

    public static ModerationDecision decision(String uploadId, DecisionLabel label, String generator, Instant decidedAt) {
        return ModerationDecision.newBuilder().setDecisionId(UUID.randomUUID().toString()).setUploadId(uploadId)
                .setDecision(label).setGenerator(generator).setReviewer("test-reviewer").setDecidedAt(decidedAt)
                .setModelId("tiny-clip-test").build();
    }

    /** Writes one decision and waits for the broker's acknowledgement. */
    public void send(ModerationDecision decision) {
        TestClients.send(producer, topic, decision.getUploadId(), decision);
    }

    public void send(String uploadId, DecisionLabel label, String generator, Instant decidedAt) {
        send(decision(uploadId, label, generator, decidedAt));
    }

    @Override
    public void close() {
        producer.close();
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: DecisionRecords <bootstrap> <registry url> <topic> <uploadId>=<AI_GENERATED[:generator]|REAL|UNSURE> ...");
            System.exit(2);
        }
        try (DecisionRecords out = new DecisionRecords(args[0], args[1], args[2])) {
            for (int i = 3; i < args.length; i++) {
                String[] kv = args[i].split("=", 2);
                String[] label = kv[1].split(":", 2);
                out.send(kv[0], DecisionLabel.valueOf(label[0]), label.length > 1 ? label[1] : null, Instant.now());
            }
        }
        System.out.println((args.length - 3) + " decisions -> " + args[2]);
    }
}

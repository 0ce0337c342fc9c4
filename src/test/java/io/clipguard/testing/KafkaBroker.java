package io.clipguard.testing;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (broker and controller combined) running in this JVM, for integration tests.
 * Not a mock: the same broker code as a production Kafka 4.1 node, on a loopback port.
 */
public final class KafkaBroker implements AutoCloseable {
    private final KafkaClusterTestKit cluster;
    private final int fixedPort;

    private KafkaBroker(KafkaClusterTestKit cluster, int fixedPort) {
        this.cluster = cluster;
        this.fixedPort = fixedPort;
    }

    public static KafkaBroker start() throws Exception {
        return start(0);
    }

    /**
     * @param fixedPort 0: any free port; otherwise clients reach the broker at localhost:fixedPort only (an extra
     *                  listener), so that a fresh broker can take over the address of one that was stopped
     */
    public static KafkaBroker start(int fixedPort) throws Exception {
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build());
        if (fixedPort > 0) {
            builder.setConfigProp("listeners", "EXTERNAL://localhost:0,CONTROLLER://localhost:0,FIXED://localhost:" + fixedPort)
                    .setConfigProp("listener.security.protocol.map", "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,FIXED:PLAINTEXT");
        }
        KafkaClusterTestKit cluster = builder
                // Single node: internal topics (transactions, offsets) can only have one replica.
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                // As in production (deploy/README.md): a client asking for a missing topic must not get a new one with
                // the broker's default partition count.
                .setConfigProp("auto.create.topics.enable", "false")
                .setConfigProp("message.max.bytes", String.valueOf(16 * 1024 * 1024 + 1024))
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return new KafkaBroker(cluster, fixedPort);
    }

    public String bootstrapServers() {
        return fixedPort > 0 ? "localhost:" + fixedPort : cluster.bootstrapServers();
    }

    /** Topics other than Kafka's own (__consumer_offsets, __transaction_state). */
    public java.util.Set<String> topics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            return admin.listTopics().names().get();
        }
    }

    public void createTopics(int partitions, java.util.Collection<String> names) throws Exception {
        createTopics(partitions, names.toArray(String[]::new));
    }

    public void createTopics(int partitions, String... names) throws Exception {
        createTopics(java.util.Arrays.stream(names)
                .map(n -> new NewTopic(n, partitions, (short) 1)
                        .configs(Map.of("max.message.bytes", String.valueOf(16 * 1024 * 1024))))
                .toArray(NewTopic[]::new));
    }

    /** Creates the topics and returns once the broker describes them (creation is acknowledged before that). */
    public void createTopics(NewTopic... topics) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(java.util.List.of(topics)).all().get();
            java.util.List<String> names = java.util.Arrays.stream(topics).map(NewTopic::name).toList();
            Waits.await("the broker describes " + names).ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class)
                    .until(() -> admin.describeTopics(names).allTopicNames().get() != null);
        }
    }

    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /**
     * Stops the broker (the node's controller keeps running) and keeps its logs, so that {@link #restartBroker()}
     * brings the same cluster, with the same topics and records, back at the same address: a broker outage as clients
     * see it. Only for a broker started on a fixed port (its other listener gets a new port on restart).
     */
    public void stopBroker() {
        requireFixedPort();
        cluster.brokers().values().forEach(b -> {
            b.shutdown();
            b.awaitShutdown();
        });
    }

    /** Starts the broker stopped by {@link #stopBroker()} again and returns once it serves clients. */
    public void restartBroker() throws Exception {
        requireFixedPort();
        cluster.brokers().values().forEach(kafka.server.BrokerServer::startup);
        cluster.waitForReadyBrokers();
    }

    private void requireFixedPort() {
        if (fixedPort <= 0) {
            throw new IllegalStateException("start the broker with KafkaBroker.start(port) to stop and restart it");
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}

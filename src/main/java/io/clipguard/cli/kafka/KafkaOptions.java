package io.clipguard.cli.kafka;

import picocli.CommandLine.Option;

/** Where Kafka and the registry are; shared by the client commands. */
public final class KafkaOptions {
    @Option(names = "--bootstrap-servers", defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = "--registry-url", defaultValue = "${env:CLIPGUARD_REGISTRY_URL:-http://localhost:8081}",
            description = "Apicurio Registry root URL (default: $CLIPGUARD_REGISTRY_URL or ${DEFAULT-VALUE}).")
    String registryUrl;
}

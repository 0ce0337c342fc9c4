package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** For @QuarkusTest: a real KRaft broker with the service's topics and the real Apicurio Registry. */
public class ServiceTestResources implements QuarkusTestResourceLifecycleManager {
    private KafkaBroker broker;
    private ApicurioRegistry registry;

    @Override
    public Map<String, String> start() {
        try {
            Path tmp = Files.createTempDirectory("clipguard-service-test");
            broker = KafkaBroker.start();
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
            return Map.of(
                    "kafka.bootstrap.servers", broker.bootstrapServers(),
                    "clipguard.registry.url", registry.url(),
                    "clipguard.state-dir", tmp.resolve("streams").toString(),
                    "clipguard.engine.device", "cpu",
                    "kafka-streams.num.stream.threads", "2");
        } catch (Exception e) {
            throw new IllegalStateException("could not start Kafka and the registry for the service test", e);
        }
    }

    @Override
    public void stop() {
        try {
            if (registry != null) registry.close();
            if (broker != null) broker.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

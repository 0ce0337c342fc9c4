package io.clipguard.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real KRaft broker and one real Apicurio Registry for a test class, started before its {@code @BeforeAll}
 * methods and closed after its {@code @AfterAll} methods:
 * {@code @RegisterExtension static final BrokerAndRegistry kafka = new BrokerAndRegistry();}. The registry's log
 * lives in a folder of its own, removed with it.
 */
public final class BrokerAndRegistry implements BeforeAllCallback, AfterAllCallback {
    private Path dir;
    private KafkaBroker broker;
    private ApicurioRegistry registry;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("broker-and-registry");
        broker = KafkaBroker.start();
        registry = ApicurioRegistry.start(dir.resolve("registry.log"));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (registry != null) registry.close();
            if (broker != null) broker.close();
        } finally {
            if (dir != null) {
                TempFiles.deleteTree(dir);
            }
        }
    }

    public KafkaBroker broker() {
        return broker;
    }

    public ApicurioRegistry registry() {
        return registry;
    }
}

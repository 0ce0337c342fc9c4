package io.clipguard.streams.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * clipguard.engine.max-queue-delay was renamed clipguard.engine.partition-batch-max-wait; deployments that still set the
 * old key keep their value. The config is built the way Quarkus builds it: the real application.properties (ordinal
 * 250), environment variables (300), and the interceptors found through META-INF/services.
 */
class RenamedSettingsTest {

    private static ClipguardConfig config(Map<String, String> env, Map<String, String> properties) throws IOException {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .addDiscoveredInterceptors()
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(RenamedSettingsTest.class.getResource("/application.properties"), 250))
                .withSources(new PropertiesConfigSource(properties, "config/application.properties", 260))
                .withSources(new EnvConfigSource(env, 300))
                .withMapping(ClipguardConfig.class)
                .withValidateUnknown(false)
                .build();
        return config.getConfigMapping(ClipguardConfig.class);
    }

    @Test
    void theDefaultComesFromTheNewKey() throws IOException {
        assertThat(config(Map.of(), Map.of()).engine().partitionBatchMaxWait()).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void theOldEnvironmentVariableStillApplies() throws IOException {
        assertThat(config(Map.of("CLIPGUARD_ENGINE_MAX_QUEUE_DELAY", "75ms"), Map.of()).engine().partitionBatchMaxWait())
                .isEqualTo(Duration.ofMillis(75));
    }

    @Test
    void theOldKeyInAnOverridingPropertiesFileStillApplies() throws IOException {
        assertThat(config(Map.of(), Map.of("clipguard.engine.max-queue-delay", "40ms")).engine().partitionBatchMaxWait())
                .isEqualTo(Duration.ofMillis(40));
    }

    @Test
    void theNewKeyWinsOverTheOldOneFromTheSameOrAWeakerSource() throws IOException {
        assertThat(config(Map.of("CLIPGUARD_ENGINE_MAX_QUEUE_DELAY", "75ms", "CLIPGUARD_ENGINE_PARTITION_BATCH_MAX_WAIT", "30ms"),
                Map.of()).engine().partitionBatchMaxWait()).isEqualTo(Duration.ofMillis(30));
        assertThat(config(Map.of("CLIPGUARD_ENGINE_PARTITION_BATCH_MAX_WAIT", "30ms"),
                Map.of("clipguard.engine.max-queue-delay", "40ms")).engine().partitionBatchMaxWait()).isEqualTo(Duration.ofMillis(30));
    }

    @Test
    void theMergeWindowIsASeparateSetting() throws IOException {
        ClipguardConfig.Engine engine = config(Map.of("CLIPGUARD_ENGINE_MAX_QUEUE_DELAY", "75ms"), Map.of()).engine();
        assertThat(engine.mergeWindow()).isEqualTo(Duration.ofMillis(2));
    }
}

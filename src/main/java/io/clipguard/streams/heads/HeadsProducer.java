package io.clipguard.streams.heads;

import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.config.ClipguardConfig;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The live head of this instance. At start, applies the start rule ({@link HeadCatalog#seedIfNoneActive}): if
 * detector-heads has no active head for the model yet, the configured head file is published and activated; if it
 * has one, that one is served and the configured file only stands in until the global store is read.
 */
@ApplicationScoped
public class HeadsProducer {
    private static final Logger LOG = Logger.getLogger(HeadsProducer.class);

    @Produces
    @ApplicationScoped
    ActiveHeads activeHeads(ClipguardConfig config, ScoringEngine engine, MeterRegistry registry,
                            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        LinearHead configured = engine.configuredHead();
        seed(new HeadCatalog(bootstrapServers, config.registry().url(), config.topics().heads(), config.maxRecordBytes()), configured,
                engine.config().headFile());
        return new ActiveHeads(configured, engine.info().modelId(), engine.info().featureDim(),
                Topics.avroReader(config.registry().url()), registry);
    }

    /** Publishes and activates the configured head when the model has no active head on the control topic. */
    public static void seed(HeadCatalog catalog, LinearHead configured, Path headFile) {
        String json;
        try {
            json = Files.readString(headFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the configured head file " + headFile, e);
        }
        if (catalog.seedIfNoneActive(configured, json, HeadCatalog.writer("clipguard"))) {
            LOG.infof("detector-heads had no active head for model %s: published and activated the configured head %s (%s)",
                    configured.modelId(), configured.version(), headFile);
        }
    }
}

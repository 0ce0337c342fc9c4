package io.clipguard.console;

import io.clipguard.console.store.Dashboard;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jboss.logging.Logger;

/**
 * The dashboard as Prometheus gauges (docs/console.md, "Metrics"): per model and head version, alerts raised, reviewed,
 * confirmed, unsure and the alert precision with its Wilson 95 % bounds; per generator name, the uploads confirmed as
 * that generator and the share the detector had alerted on. The values are the counters the console's indexers keep
 * in its stores ({@link io.clipguard.console.store.ReadModel#dashboard()}), read again every
 * {@code clipguard.console.metrics.refresh}: a scrape reads a snapshot, never a store or a topic. Every console
 * instance holds all of the stores, so every instance exports the same values: aggregate with max, not sum.
 */
@ApplicationScoped
public class ConsoleMetrics {
    static final String PREFIX = "clipguard.console.";
    private static final Logger LOG = Logger.getLogger(ConsoleMetrics.class);

    @Inject
    ConsoleConfig config;
    @Inject
    ConsoleStreams streams;
    @Inject
    MeterRegistry registry;

    private volatile Snapshot snapshot = new Snapshot(Map.of(), Map.of());
    private final Set<Object> registered = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService refresher;

    private record HeadKey(String model, String head) {}

    private record Snapshot(Map<HeadKey, Dashboard.HeadRow> heads, Map<String, Dashboard.GeneratorRow> generators) {}

    void onStart(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        refresher = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("console-metrics").factory());
        long every = Math.max(100, config.metrics().refresh().toMillis());
        refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (refresher != null) refresher.shutdownNow();
        // Quarkus keeps meters in the global registry across restarts in one JVM; left there, they would read this start.
        registry.getMeters().stream().filter(m -> m.getId().getName().startsWith(PREFIX)).forEach(registry::remove);
    }

    /** Reads the counters from the stores once; registers gauges for heads and generators seen for the first time. */
    void refresh() {
        Dashboard dashboard;
        try {
            dashboard = streams.readModel().dashboard();
        } catch (ConsoleUnavailableException e) {
            return; // stores not restored yet: the gauges keep their last values (none before the first read)
        } catch (RuntimeException e) {
            LOG.warn("console: the metrics could not be read from the stores", e);
            return;
        }
        Map<HeadKey, Dashboard.HeadRow> heads = new ConcurrentHashMap<>();
        dashboard.heads().forEach(h -> heads.put(new HeadKey(h.modelId(), h.headVersion()), h));
        Map<String, Dashboard.GeneratorRow> generators = new ConcurrentHashMap<>();
        dashboard.generators().forEach(g -> generators.put(g.generator(), g));
        snapshot = new Snapshot(heads, generators);
        heads.keySet().forEach(this::registerHead);
        long generatorSeries = registered.stream().filter(k -> k instanceof String).count();
        for (Dashboard.GeneratorRow g : dashboard.generators().stream()
                .sorted(Comparator.comparingLong(Dashboard.GeneratorRow::confirmed).reversed()).toList()) {
            if (registered.contains(g.generator())) continue;
            if (generatorSeries >= config.metrics().maxGenerators()) break;
            registerGenerator(g.generator());
            generatorSeries++;
        }
    }

    private void registerHead(HeadKey key) {
        if (!registered.add(key)) return;
        Tags tags = Tags.of("model", key.model(), "head_version", key.head());
        head("alerts.raised", "High-score alerts raised by this head version", tags, key, h -> h.raised());
        head("alerts.reviewed", "Alerts whose latest decision is AI-generated or real", tags, key, h -> h.reviewed());
        head("alerts.confirmed", "Alerts whose latest decision is AI-generated", tags, key, h -> h.confirmed());
        head("alerts.unsure", "Alerts whose latest decision is unsure", tags, key, h -> h.unsure());
        head("alert.precision", "Confirmed / reviewed (NaN before any review)", tags, key, h -> h.precision().value());
        head("alert.precision.low", "Lower bound of the precision's Wilson 95 % interval", tags, key, h -> h.precision().low());
        head("alert.precision.high", "Upper bound of the precision's Wilson 95 % interval", tags, key, h -> h.precision().high());
    }

    private void head(String name, String description, Tags tags, HeadKey key, ToDoubleFunction<Dashboard.HeadRow> value) {
        Gauge.builder(PREFIX + name, this, m -> {
                    Dashboard.HeadRow row = m.snapshot.heads().get(key);
                    return row == null ? Double.NaN : value.applyAsDouble(row);
                })
                .description(description).tags(tags).strongReference(true).register(registry);
    }

    private void registerGenerator(String name) {
        if (!registered.add(name)) return;
        Tags tags = Tags.of("generator", name);
        // A name whose decisions were all changed since counts none (its share is then undefined).
        generator("generator.confirmed", "Uploads whose latest decision is AI-generated with this generator name", tags,
                name, 0, g -> g.confirmed());
        generator("generator.alerted", "Of those, uploads the detector had alerted on", tags, name, 0, g -> g.alerted());
        generator("generator.alerted.share", "Alerted / confirmed: a low share means the generator slips through", tags,
                name, Double.NaN, g -> g.detected().value());
    }

    private void generator(String name, String description, Tags tags, String generator, double absent,
                           ToDoubleFunction<Dashboard.GeneratorRow> value) {
        Gauge.builder(PREFIX + name, this, m -> {
                    Dashboard.GeneratorRow row = m.snapshot.generators().get(generator);
                    return row == null ? absent : value.applyAsDouble(row);
                })
                .description(description).tags(tags).strongReference(true).register(registry);
    }
}

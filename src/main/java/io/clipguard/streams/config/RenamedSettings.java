package io.clipguard.streams.config;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;
import jakarta.annotation.Priority;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Keeps renamed {@code clipguard.*} keys working: a lookup of the new name also sees the old one, and whichever comes
 * from the stronger source wins (an old key in an environment variable beats the new key's application.properties
 * default; a new key beats an old one from the same or a weaker source). Using an old key logs one warning.
 * Registered through META-INF/services, so Quarkus and any SmallRye Config built with discovered interceptors apply it.
 */
@Priority(RenamedSettings.PRIORITY)
public final class RenamedSettings implements ConfigSourceInterceptor {
    /** Before SmallRye's own relocations and expression expansion see the value. */
    static final int PRIORITY = 3000;
    private static final Logger LOG = Logger.getLogger(RenamedSettings.class.getName());

    /** New name → old name. */
    static final Map<String, String> OLD_NAMES = Map.of(
            // "queue delay" named two different waits; this one is the partition batch's, merge-window the engine's.
            "clipguard.engine.partition-batch-max-wait", "clipguard.engine.max-queue-delay");

    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue current = context.proceed(name);
        String oldName = OLD_NAMES.get(name);
        if (oldName == null) {
            return current;
        }
        ConfigValue old = context.proceed(oldName);
        if (old == null || old.getValue() == null
                || (current != null && current.getValue() != null && current.getConfigSourceOrdinal() >= old.getConfigSourceOrdinal())) {
            return current;
        }
        if (warned.add(oldName)) {
            LOG.warning(oldName + " is deprecated (from " + old.getConfigSourceName() + "); it applies as " + name
                    + ", the name to use from now on");
        }
        return old.withName(name);
    }
}

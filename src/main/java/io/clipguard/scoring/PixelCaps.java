package io.clipguard.scoring;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pixel caps of a detector set's native-resolution detectors as users write them: {@code N} for every detector,
 * {@code ID=N} for the detector ID (its model id); 0 = no cap. One parser for {@code tools/clipguard --max-pixels} and
 * the service's {@code clipguard.detectors.max-pixels}.
 *
 * @param every the cap of every detector not named; null = each manifest's own
 * @param byId  caps by detector id
 */
public record PixelCaps(Long every, Map<String, Long> byId) {
    public static final PixelCaps NONE = new PixelCaps(null, Map.of());

    /**
     * @param setting names the option or setting in messages (e.g. {@code --max-pixels})
     * @throws IllegalArgumentException an entry that is not N or ID=N with N &gt;= 0
     */
    public static PixelCaps parse(List<String> entries, String setting) {
        Long every = null;
        Map<String, Long> byId = new HashMap<>();
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            long cap;
            try {
                cap = Long.parseLong((eq < 0 ? entry : entry.substring(eq + 1)).strip());
            } catch (NumberFormatException e) {
                cap = -1;
            }
            if (cap < 0) {
                throw new IllegalArgumentException(setting + " '" + entry + "' is not N or ID=N (N a pixel count, 0 = no cap)");
            }
            if (eq < 0) {
                every = cap;
            } else {
                byId.put(entry.substring(0, eq).strip(), cap);
            }
        }
        return new PixelCaps(every, Map.copyOf(byId));
    }

    /** The cap of detector {@code id}; null = its manifest's. */
    public Long capOf(String id) {
        return byId.getOrDefault(id, every);
    }

    /** @throws IllegalArgumentException a cap names a detector that is not in the set */
    public void checkNames(Set<String> ids, String setting) {
        for (String id : byId.keySet()) {
            if (!ids.contains(id)) {
                throw new IllegalArgumentException(setting + " names detector '" + id + "', which is none of " + ids
                        + " (a detector's id is its model id)");
            }
        }
    }
}

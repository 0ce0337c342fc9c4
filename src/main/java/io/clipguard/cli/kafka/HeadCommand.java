package io.clipguard.cli.kafka;

import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tools/clipguard head publish|activate|list}: head versions on the control topic detector-heads, which every
 * service instance follows live.
 */
@Command(name = "head", mixinStandardHelpOptions = true,
        description = {"Manage detector head versions on the control topic detector-heads.",
                "Every running instance follows it: an activation takes effect within seconds, no restart; a head that does"
                        + " not fit the backbone (model id, dimension) is refused and the previous one stays active."},
        subcommands = {HeadCommand.Publish.class, HeadCommand.Activate.class, HeadCommand.ListHeads.class})
public final class HeadCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a subcommand: publish, activate or list");
    }

    /** Options every head subcommand shares. */
    static final class Control {
        @Mixin
        KafkaOptions kafka;

        @Option(names = "--heads-topic", defaultValue = Topics.HEADS, description = "Control topic (default ${DEFAULT-VALUE}).")
        String topic;

        HeadCatalog catalog() {
            return new HeadCatalog(kafka.bootstrapServers, kafka.registryUrl, topic);
        }
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = {"Publish a head file (as tools/clipguard train writes it) as a new head version.",
                    "Versions are immutable: publishing the same version again with the same content does nothing, with"
                            + " other content is refused.",
                    "A head that does not fit the backbone (see --model-dir) is refused, as the instances would refuse it."})
    static final class Publish implements Callable<Integer> {
        @Mixin
        Control control;

        @Mixin
        HeadFitOptions fit;

        @Option(names = "--file", required = true, description = "Head file (clipguard-head/v1 JSON).")
        Path file;

        @Option(names = "--activate", description = "Also make it the active head of its model.")
        boolean activate;

        @Override
        public Integer call() throws IOException {
            LinearHead head;
            Optional<HeadFitOptions.Backbone> backbone;
            try {
                head = LinearHead.load(file);
                backbone = fit.forHead(head.modelId());
            } catch (ModelLoadException e) {
                System.err.println("head publish: " + e.getMessage());
                return 3;
            }
            if (refused("head publish", head, file.toString(), backbone, "Nothing was published.")) {
                return 3;
            }
            HeadCatalog.Published result;
            try {
                result = control.catalog().publish(head, Files.readString(file), activate, who());
            } catch (IllegalArgumentException e) {
                System.err.println("head publish: " + e.getMessage());
                return 1;
            }
            System.out.println((result == HeadCatalog.Published.PUBLISHED ? "published" : "already published")
                    + " head " + head.version() + " of model " + head.modelId() + " (" + head.dim() + " weights) to " + control.topic);
            if (activate) {
                System.out.println(activated(head, backbone.isPresent()));
            }
            return 0;
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = {"Make a published head version the active head of its model, on every instance.",
                    "A head that does not fit the backbone (see --model-dir) is refused, as the instances would refuse it."})
    static final class Activate implements Callable<Integer> {
        @Mixin
        Control control;

        @Mixin
        HeadFitOptions fit;

        @Parameters(index = "0", paramLabel = "VERSION", description = "Head version (see head list).")
        String version;

        @Option(names = "--model", description = "Model id, when several models have a head of that version.")
        String model;

        @Override
        public Integer call() {
            HeadCatalog catalog = control.catalog();
            HeadCatalog.Entry entry;
            try {
                entry = catalog.find(version, model);
            } catch (IllegalArgumentException e) {
                System.err.println("head activate: " + e.getMessage());
                return 1;
            }
            LinearHead head;
            Optional<HeadFitOptions.Backbone> backbone;
            try {
                head = entry.head();
                backbone = fit.forHead(entry.modelId());
            } catch (ModelLoadException e) {
                System.err.println("head activate: " + e.getMessage() + ". Not activated.");
                return 3;
            }
            String origin = "head " + version + " of model " + entry.modelId();
            if (refused("head activate", head, origin, backbone, "Not activated.")) {
                return 3;
            }
            catalog.activate(entry, who());
            System.out.println(activated(head, backbone.isPresent()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"List published head versions, by model.",
                    "MARK: * the active version of its model (the instances serve it); ! the version the topic names active,"
                            + " but the instances refuse it (it does not fit the backbone, or is unreadable: NOTE says"
                            + " why) and keep serving their previous head; blank: published, not active.",
                    "NOTE also says when an inactive version does not fit, so activating it would be refused. Fit is checked"
                            + " against --model-dir or models/<model id> (only where it exists; a line after the table names"
                            + " the models not checked)."})
    static final class ListHeads implements Callable<Integer> {
        @Mixin
        Control control;

        @Mixin
        HeadFitOptions fit;

        @Override
        public Integer call() {
            List<HeadCatalog.Entry> entries = control.catalog().list();
            if (entries.isEmpty()) {
                System.out.println("no heads on " + control.topic + " (tools/clipguard head publish --file head.json)");
                return 0;
            }
            Map<String, Optional<HeadFitOptions.Backbone>> backbones = new TreeMap<>();
            Map<String, String> unchecked = new TreeMap<>();
            for (HeadCatalog.Entry e : entries) {
                backbones.computeIfAbsent(e.modelId(), id -> {
                    try {
                        Optional<HeadFitOptions.Backbone> b = fit.ofModel(id);
                        if (b.isEmpty()) {
                            unchecked.put(id, "no model folder " + ModelManifest.defaultDir(id) + " here (pass --model-dir)");
                        }
                        return b;
                    } catch (ModelLoadException bad) {
                        unchecked.put(id, bad.getMessage());
                        return Optional.empty();
                    }
                });
            }
            String format = "%-1s %-28s %-28s %-5s %-24s %-20s %s";
            System.out.println(String.format(Locale.ROOT, format, "", "MODEL", "VERSION", "DIM", "PUBLISHED", "BY", "NOTE"));
            for (HeadCatalog.Entry e : entries) {
                String mark = e.active() ? "*" : "";
                String dim;
                String note = "";
                try {
                    LinearHead head = e.head();
                    dim = String.valueOf(head.dim());
                    Optional<LinearHead.Misfit> misfit = backbones.get(e.modelId()).flatMap(b -> b.misfit(head));
                    if (misfit.isPresent()) {
                        mark = e.active() ? "!" : mark;
                        note = (e.active() ? "refused by instances: " : "does not fit, an activation would be refused: ")
                                + misfit.get().reason();
                    }
                } catch (ModelLoadException bad) {
                    dim = "bad";
                    mark = e.active() ? "!" : mark;
                    note = (e.active() ? "refused by instances: " : "unreadable: ") + bad.getMessage();
                }
                System.out.println(String.format(Locale.ROOT, format, mark, e.modelId(), e.version(), dim, e.publishedAt(),
                        e.publishedBy() == null ? "" : e.publishedBy(), note).stripTrailing());
            }
            unchecked.forEach((id, why) -> System.out.println("fit not checked for model " + id + ": " + why));
            return 0;
        }
    }

    /** Prints why the head cannot go live and returns true, when the backbone is known and the head does not fit it. */
    private static boolean refused(String command, LinearHead head, String origin, Optional<HeadFitOptions.Backbone> backbone,
                                   String outcome) {
        Optional<String> refusal = backbone.flatMap(b -> HeadFitOptions.refusal(head, origin, b));
        refusal.ifPresent(r -> System.err.println(command + ": " + r + " " + outcome));
        if (backbone.isEmpty()) {
            System.err.println(command + ": note: no model folder " + ModelManifest.defaultDir(head.modelId())
                    + " here, so the head was not checked against its backbone (pass --model-dir to check it)");
        }
        return refusal.isPresent();
    }

    /** What an activation does; where the backbone is unknown here, the instances' own check decides. */
    private static String activated(LinearHead head, boolean checked) {
        return "activated head " + head.version() + " of model " + head.modelId() + ": instances switch within seconds"
                + (checked ? "" : " if it fits their backbone") + " (see /q/health/ready)";
    }

    /** user@host, recorded with every control record. */
    static String who() {
        return HeadCatalog.writer(System.getProperty("user.name", "unknown"));
    }
}

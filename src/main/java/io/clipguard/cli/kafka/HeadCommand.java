package io.clipguard.cli.kafka;

import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.contracts.HeadCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
                            + " other content is refused."})
    static final class Publish implements Callable<Integer> {
        @Mixin
        Control control;

        @Option(names = "--file", required = true, description = "Head file (clipguard-head/v1 JSON).")
        Path file;

        @Option(names = "--activate", description = "Also make it the active head of its model.")
        boolean activate;

        @Override
        public Integer call() throws IOException {
            LinearHead head;
            try {
                head = LinearHead.load(file);
            } catch (ModelLoadException e) {
                System.err.println("head publish: " + e.getMessage());
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
                System.out.println("activated head " + head.version() + " of model " + head.modelId()
                        + ": instances switch within seconds (see /q/health/ready)");
            }
            return 0;
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = "Make a published head version the active head of its model, on every instance.")
    static final class Activate implements Callable<Integer> {
        @Mixin
        Control control;

        @Parameters(index = "0", paramLabel = "VERSION", description = "Head version (see head list).")
        String version;

        @Option(names = "--model", description = "Model id, when several models have a head of that version.")
        String model;

        @Override
        public Integer call() {
            try {
                String modelId = control.catalog().activate(version, model, who());
                System.out.println("activated head " + version + " of model " + modelId
                        + ": instances switch within seconds (see /q/health/ready)");
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("head activate: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List published head versions; * marks the active one.")
    static final class ListHeads implements Callable<Integer> {
        @Mixin
        Control control;

        @Override
        public Integer call() {
            List<HeadCatalog.Entry> entries = control.catalog().list();
            if (entries.isEmpty()) {
                System.out.println("no heads on " + control.topic + " (tools/clipguard head publish --file head.json)");
                return 0;
            }
            String format = "%-1s %-28s %-28s %-5s %-24s %s%n";
            System.out.printf(Locale.ROOT, format, "", "MODEL", "VERSION", "DIM", "PUBLISHED", "BY");
            for (HeadCatalog.Entry e : entries) {
                String dim;
                try {
                    dim = String.valueOf(e.head().dim());
                } catch (ModelLoadException bad) {
                    dim = "bad";
                }
                System.out.printf(Locale.ROOT, format, e.active() ? "*" : "", e.modelId(), e.version(), dim,
                        e.publishedAt(), e.publishedBy() == null ? "" : e.publishedBy());
            }
            return 0;
        }
    }

    /** user@host, recorded with every control record. */
    static String who() {
        return HeadCatalog.writer(System.getProperty("user.name", "unknown"));
    }
}

package io.clipguard.cli;

import io.clipguard.cli.kafka.CreateTopicsCommand;
import io.clipguard.cli.kafka.HeadCommand;
import io.clipguard.cli.kafka.PublishCommand;
import io.clipguard.cli.kafka.RescoreCommand;
import io.clipguard.cli.kafka.WatchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code clipguard}: offline commands around the scoring engine. Run {@code tools/clipguard --help}. */
@Command(name = "clipguard", mixinStandardHelpOptions = true, version = "clipguard 0.1.0",
        description = "Flags AI-generated images with a CLIP-feature linear detector (Cozzolino et al., CVPRW 2024).",
        subcommands = {ScoreCommand.class, EmbedCommand.class, TrainCommand.class, EvaluateCommand.class,
                RobustnessCommand.class,
                VerifyModelCommand.class, CreateTopicsCommand.class, PublishCommand.class,
                WatchCommand.class, HeadCommand.class, RescoreCommand.class, ConsoleUserCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 nothing succeeded (see the command's help), 2 usage error,"
                + " 3 the model or an input list could not be loaded."})
public final class ClipguardCli implements Runnable {
    /** A model folder, head or input list could not be loaded. */
    static final int EXIT_LOAD_ERROR = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command (score, embed, train, evaluate, verify-model, create-topics, publish, watch, head, rescore)");
    }

    public static void main(String[] args) {
        configureLogging();
        System.exit(commandLine().execute(args));
    }

    /**
     * One line per record on stderr, INFO and up. Outside Quarkus the JBoss log manager (set by tools/clipguard, as in
     * the service) has only Quarkus's delayed handler, so the CLI installs a console handler itself.
     */
    static void configureLogging() {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s [%3$s] %5$s%6$s%n");
        }
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        for (java.util.logging.Handler h : root.getHandlers()) {
            // Quarkus's bootstrap handler buffers records until a Quarkus app starts, which the CLI never does.
            if (h.getClass().getName().equals("io.quarkus.bootstrap.logging.QuarkusDelayedHandler")) {
                root.removeHandler(h);
            }
        }
        if (root.getHandlers().length == 0) {
            java.util.logging.ConsoleHandler console = new java.util.logging.ConsoleHandler();
            console.setFormatter(new java.util.logging.SimpleFormatter());
            console.setLevel(java.util.logging.Level.INFO);
            root.addHandler(console);
            root.setLevel(java.util.logging.Level.INFO);
        }
        // Kafka clients log their whole configuration at INFO: keep the CLI's output to what the user asked for.
        java.util.logging.Logger.getLogger("org.apache.kafka").setLevel(java.util.logging.Level.WARNING);
        // The registry client's advice about sharing a Vert.x instance concerns long-running apps, not a CLI run.
        java.util.logging.Logger.getLogger("io.apicurio.registry.client.common").setLevel(java.util.logging.Level.SEVERE);
    }

    /** The configured command line (also used by tests, which call execute without exiting). */
    public static CommandLine commandLine() {
        return new CommandLine(new ClipguardCli()).setCaseInsensitiveEnumValuesAllowed(true);
    }
}

package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --help} of every command and subcommand, in-process: exit 0, a usage text, and nothing on either error
 * stream. Picocli formats descriptions with String.format, so a bare {@code %} in one made it print
 * {@code [picocli WARN] Could not format ...} through its tracer, which writes to System.err (read again on every
 * call, so redirecting System.err catches it).
 */
class HelpOutputTest {
    @Test
    void everyCommandsHelpIsCleanAndNotEmpty() {
        List<List<String>> paths = new ArrayList<>();
        walk(ClipguardCli.commandLine(), new ArrayList<>(), Collections.newSetFromMap(new IdentityHashMap<>()), paths);
        // The root, its commands and head's subcommands at least; a wrong walk must not pass by finding nothing.
        assertThat(paths).contains(List.of(), List.of("score"), List.of("evaluate"), List.of("robustness"), List.of("rescore"),
                List.of("head", "publish"), List.of("head", "activate"), List.of("help"));

        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Help help = help(args);
            String command = String.join(" ", args);
            assertThat(help.exitCode()).as(command).isZero();
            assertThat(help.err()).as("stderr of " + command).isEmpty();
            assertThat(help.out().lines()).as(command).anyMatch(l -> l.startsWith("Usage: " + String.join(" ", qualified(path)) + " "));
            // Past the usage line: a description or an option list, not only a synopsis.
            assertThat(help.out().lines().filter(l -> !l.isBlank()).count()).as(command).isGreaterThan(2);
        }
    }

    @Test
    void percentSignsInDescriptionsArePrintedAsTheyRead() {
        assertThat(help(List.of("score", "--help")).out()).contains("LLRs within 0.1 % of");
        assertThat(help(List.of("evaluate", "--help")).out()).contains("TPR at 1 % and 5 % FPR").contains("tpr@1%fpr");
    }

    private static List<String> qualified(List<String> path) {
        List<String> names = new ArrayList<>(List.of("clipguard"));
        names.addAll(path);
        return names;
    }

    /** Each command once (aliases map to the same CommandLine), as the names that reach it from the root. */
    private static void walk(CommandLine command, List<String> path, Set<CommandLine> seen, List<List<String>> out) {
        if (!seen.add(command)) {
            return;
        }
        out.add(List.copyOf(path));
        command.getSubcommands().forEach((name, sub) -> {
            if (name.equals(sub.getCommandName())) {
                List<String> next = new ArrayList<>(path);
                next.add(name);
                walk(sub, next, seen, out);
            }
        });
    }

    record Help(int exitCode, String out, String err) {}

    /**
     * Runs the CLI with its own out/err writers and System.out/System.err captured (picocli's tracer uses the latter).
     * The CommandLine is made after the redirection: its execution strategy remembers System.out and System.err when
     * made, and one that differs from the current one at execute replaces the writers set here.
     */
    private static Help help(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream systemOut = new ByteArrayOutputStream();
        ByteArrayOutputStream systemErr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        int code;
        try (PrintStream capturedOut = new PrintStream(systemOut, true, StandardCharsets.UTF_8);
             PrintStream capturedErr = new PrintStream(systemErr, true, StandardCharsets.UTF_8)) {
            System.setOut(capturedOut);
            System.setErr(capturedErr);
            CommandLine cli = ClipguardCli.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            code = cli.execute(args.toArray(String[]::new));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Help(code, out + systemOut.toString(StandardCharsets.UTF_8),
                err + systemErr.toString(StandardCharsets.UTF_8));
    }
}

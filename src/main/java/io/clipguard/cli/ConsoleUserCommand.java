package io.clipguard.cli;

import io.clipguard.console.security.UsersFile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Makes a console user: the users file's line with a bcrypt hash of the password (read from stdin, never an argument). */
@Command(name = "console-user", mixinStandardHelpOptions = true,
        description = {"Add a user of the moderators' console: prints name:roles:bcrypt-hash, or appends it to --file.",
                "The password is read from the first line of standard input (an argument would show in ps and the shell history).",
                "Example: echo \"$PASSWORD\" | tools/clipguard console-user --name alice --role reviewer --file console-users",
                "Prometheus (scrapes /q/metrics with basic_auth while the console is on): --name prometheus --role metrics"})
public final class ConsoleUserCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Login name: 1-64 of A-Z a-z 0-9 . _ @ -")
    String name;

    @Option(names = "--role", required = true, split = ",", paramLabel = "reviewer|viewer|metrics",
            description = {"reviewer (decides), viewer (only looks), comma-separated for both;",
                    "or metrics: Prometheus' account for /q/metrics (HTTP Basic), no console pages."})
    Set<String> roles;

    @Option(names = "--file", paramLabel = "FILE", description = "Append the line to this users file (created if missing).")
    Path file;

    @Override
    public Integer call() throws Exception {
        String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (password == null || password.length() < 12) {
            System.err.println("console-user: give a password of at least 12 characters on standard input");
            return 2;
        }
        String line;
        try {
            line = UsersFile.line(name, roles, password.toCharArray());
        } catch (IllegalArgumentException e) {
            System.err.println("console-user: " + e.getMessage());
            return 2;
        }
        if (file == null) {
            System.out.println(line);
        } else {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            System.out.println("console-user: " + name + " " + roles + " added to " + file);
        }
        return 0;
    }
}

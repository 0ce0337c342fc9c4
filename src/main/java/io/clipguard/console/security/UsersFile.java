package io.clipguard.console.security;

import io.quarkus.elytron.security.common.BcryptUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.spec.InvalidKeySpecException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.wildfly.security.password.Password;
import org.wildfly.security.password.PasswordFactory;
import org.wildfly.security.password.WildFlyElytronPasswordProvider;
import org.wildfly.security.password.interfaces.BCryptPassword;
import org.wildfly.security.password.util.ModularCrypt;

/**
 * The console's users: one line per user, {@code name:role[,role]:bcrypt-hash} (e.g.
 * {@code alice:reviewer:$2a$12$...}); blank lines and lines starting with {@code #} are ignored. Only bcrypt hashes are
 * accepted, never a password in plain text. {@code tools/clipguard console-user} writes the lines.
 */
public final class UsersFile {
    /**
     * reviewer decides, viewer only looks, metrics may only scrape /q/metrics with HTTP Basic (a Prometheus account:
     * the console's pages admit reviewer and viewer only).
     */
    public static final Set<String> ROLES = Set.of("reviewer", "viewer", "metrics");
    /** bcrypt's cost: 2^12 rounds, ~0.2 s per check on one core, the slow part an attacker with the file pays per guess. */
    public static final int COST = 12;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
    private static final WildFlyElytronPasswordProvider PROVIDER = WildFlyElytronPasswordProvider.getInstance();

    public record User(String name, Set<String> roles, String hash) {}

    /** A line of the file that cannot be used, with its number and what is wrong (never the hash itself). */
    public static final class InvalidUsersFile extends Exception {
        public InvalidUsersFile(String message) {
            super(message);
        }
    }

    private UsersFile() {}

    public static Map<String, User> read(Path file) throws IOException, InvalidUsersFile {
        Map<String, User> users = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split(":", 3);
            String where = file + " line " + (i + 1);
            if (parts.length != 3) {
                throw new InvalidUsersFile(where + ": expected name:role[,role]:bcrypt-hash");
            }
            if (!NAME.matcher(parts[0]).matches()) {
                throw new InvalidUsersFile(where + ": a user name is 1-64 of A-Z a-z 0-9 . _ @ -");
            }
            Set<String> roles = Set.of(parts[1].split(","));
            if (!ROLES.containsAll(roles)) {
                throw new InvalidUsersFile(where + ": roles are " + ROLES + ", not " + parts[1]);
            }
            if (!parts[2].startsWith("$2")) {
                throw new InvalidUsersFile(where + ": the password must be a bcrypt hash ($2a$...), made by tools/clipguard console-user");
            }
            users.put(parts[0], new User(parts[0], roles, parts[2]));
        }
        return users;
    }

    /** The file's line for a new user: {@code name:roles:bcrypt(password)}. */
    public static String line(String name, Set<String> roles, char[] password) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a user name is 1-64 of A-Z a-z 0-9 . _ @ -, not " + name);
        }
        if (roles.isEmpty() || !ROLES.containsAll(roles)) {
            throw new IllegalArgumentException("roles are " + ROLES + ", not " + roles);
        }
        return name + ":" + String.join(",", new java.util.TreeSet<>(roles)) + ":"
                + BcryptUtil.bcryptHash(new String(password), COST);
    }

    /** Whether {@code password} matches the bcrypt {@code hash} (constant work whatever the answer). */
    public static boolean verify(String hash, char[] password) {
        try {
            Password stored = ModularCrypt.decode(hash);
            PasswordFactory factory = PasswordFactory.getInstance(BCryptPassword.ALGORITHM_BCRYPT, PROVIDER);
            return factory.verify(factory.translate(stored), password);
        } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException | java.security.InvalidKeyException e) {
            return false;
        }
    }
}

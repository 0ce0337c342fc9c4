package io.clipguard.console.security;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Which login the console's paths take: form login against the users file (the default) or the OIDC authorization
 * code flow (docs/console.md "OIDC"). Form login is fixed at build time, so with OIDC on the code flow must be named
 * as the mechanism of the console's paths, or the two would answer the same requests (the form's login page for
 * some, the IdP for others, and file users still let in). One without the other refuses the start, naming the fix.
 */
@ApplicationScoped
public class LoginMechanism {
    /** The permission set that covers every path needing a login (application.properties). */
    static final String PERMISSION = "quarkus.http.auth.permission.everything-else.auth-mechanism";
    static final String OIDC_ENABLED = "quarkus.oidc.tenant-enabled";

    private final boolean oidc;
    private final Optional<String> mechanism;

    @Inject
    public LoginMechanism(@ConfigProperty(name = OIDC_ENABLED, defaultValue = "false") boolean oidc,
                          @ConfigProperty(name = PERMISSION) Optional<String> mechanism) {
        this.oidc = oidc;
        this.mechanism = mechanism;
    }

    /** Whether moderators log in through the IdP (the form and the users file are then unused). */
    public boolean oidc() {
        return oidc;
    }

    void check(@Observes StartupEvent start) {
        problem(oidc, mechanism).ifPresent(p -> {
            throw new IllegalStateException(p);
        });
    }

    /** What is wrong with this pair of settings, if anything. */
    static Optional<String> problem(boolean oidc, Optional<String> mechanism) {
        boolean code = mechanism.map("code"::equals).orElse(false);
        if (oidc && !code) {
            return Optional.of("OIDC is on (" + OIDC_ENABLED + "=true) but the console's paths still take form login: set "
                    + "QUARKUS_HTTP_AUTH_PERMISSION_EVERYTHING_ELSE_AUTH_MECHANISM=code as well (docs/console.md, OIDC)");
        }
        if (!oidc && code) {
            return Optional.of("the console's paths take the OIDC code flow (" + PERMISSION + "=code) but OIDC is off: "
                    + "set QUARKUS_OIDC_TENANT_ENABLED=true with the IdP's settings, or set it back to form for the users file "
                    + "(docs/console.md, OIDC)");
        }
        return Optional.empty();
    }
}

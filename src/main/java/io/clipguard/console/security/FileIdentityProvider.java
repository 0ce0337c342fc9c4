package io.clipguard.console.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TrustedAuthenticationRequest;
import io.quarkus.security.identity.request.UsernamePasswordAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Form login against the users file ({@link UsersFile}): the password checked against its bcrypt hash off the event
 * loop, failures throttled per user name and per client address ({@link LoginThrottle}). The file is read again when
 * it changes, so a user added or removed needs no restart; a removed user's session cookie stops working at its next
 * request ({@link Trusted} looks the name up each time).
 */
@ApplicationScoped
public class FileIdentityProvider implements IdentityProvider<UsernamePasswordAuthenticationRequest> {
    private static final Logger LOG = Logger.getLogger(FileIdentityProvider.class);

    private final Optional<Path> usersFile;
    private final LoginThrottle throttle;
    private volatile Map<String, UsersFile.User> users = Map.of();
    private volatile FileTime readAt;

    @Inject
    public FileIdentityProvider(@ConfigProperty(name = "clipguard.console.users-file") Optional<Path> usersFile,
                                @ConfigProperty(name = "clipguard.console.login.max-failures", defaultValue = "5") int maxFailures,
                                @ConfigProperty(name = "clipguard.console.login.failure-window", defaultValue = "5m") Duration window) {
        this.usersFile = usersFile;
        this.throttle = new LoginThrottle(maxFailures, window, Clock.systemUTC());
    }

    @Override
    public Class<UsernamePasswordAuthenticationRequest> getRequestType() {
        return UsernamePasswordAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(UsernamePasswordAuthenticationRequest request, AuthenticationRequestContext context) {
        String name = request.getUsername();
        RoutingContext http = HttpSecurityUtils.getRoutingContextAttribute(request);
        String address = http == null || http.request().remoteAddress() == null ? "unknown" : http.request().remoteAddress().host();
        String userKey = "user:" + name;
        String addressKey = "addr:" + address;
        return context.runBlocking(() -> {
            if (throttle.locked(userKey, addressKey)) {
                LOG.warnf("console login refused for %s from %s: too many failures, throttled", safe(name), address);
                throw new AuthenticationFailedException("too many failed logins; try again later");
            }
            UsersFile.User user = current().get(name);
            // A missing user still costs one bcrypt check, so timing does not tell which names exist.
            boolean ok = UsersFile.verify(user == null ? DUMMY_HASH : user.hash(), request.getPassword().getPassword())
                    && user != null;
            if (!ok) {
                throttle.failed(userKey, addressKey);
                LOG.infof("console login failed for %s from %s", safe(name), address);
                throw new AuthenticationFailedException("wrong user name or password");
            }
            throttle.succeeded(userKey);
            return identity(user);
        });
    }

    /** Whoever is in the file now, with roles as the file says now. */
    Optional<SecurityIdentity> lookup(String name) {
        return Optional.ofNullable(current().get(name)).map(FileIdentityProvider::identity);
    }

    private static SecurityIdentity identity(UsersFile.User user) {
        return QuarkusSecurityIdentity.builder().setPrincipal(new QuarkusPrincipal(user.name())).addRoles(user.roles()).build();
    }

    private Map<String, UsersFile.User> current() {
        if (usersFile.isEmpty()) {
            return Map.of();
        }
        Path file = usersFile.get();
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (!modified.equals(readAt)) {
                synchronized (this) {
                    if (!modified.equals(readAt)) {
                        users = UsersFile.read(file);
                        readAt = modified;
                        LOG.infof("console users file %s: %d users", file, users.size());
                    }
                }
            }
        } catch (Exception e) {
            // Keep the users last read; no file at all means no one gets in.
            LOG.errorf("console users file %s cannot be read: %s", file, e.getMessage());
            if (readAt == null) users = Map.of();
        }
        return users;
    }

    private static String safe(String name) {
        return name == null ? "" : name.replaceAll("[^A-Za-z0-9._@-]", "?");
    }

    /** A hash of a random password, checked for unknown names (made once, at the cost real hashes have). */
    private static final String DUMMY_HASH = io.quarkus.elytron.security.common.BcryptUtil.bcryptHash(
            java.util.UUID.randomUUID().toString(), UsersFile.COST);

    /** The session cookie's request: the user named in it, if still in the file. */
    @ApplicationScoped
    public static class Trusted implements IdentityProvider<TrustedAuthenticationRequest> {
        @Inject
        FileIdentityProvider users;

        @Override
        public Class<TrustedAuthenticationRequest> getRequestType() {
            return TrustedAuthenticationRequest.class;
        }

        @Override
        public Uni<SecurityIdentity> authenticate(TrustedAuthenticationRequest request, AuthenticationRequestContext context) {
            return context.runBlocking(() -> users.lookup(request.getPrincipal())
                    .orElseThrow(() -> new AuthenticationFailedException("user no longer in the users file")));
        }
    }
}

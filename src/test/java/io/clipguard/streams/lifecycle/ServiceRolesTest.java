package io.clipguard.streams.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** An instance must run scoring, the console, or both; with neither it refuses, naming both settings and the fix. */
class ServiceRolesTest {

    @Test
    void anyRoleStarts() {
        assertThat(ServiceRoles.refusal(true, false)).isEmpty();
        assertThat(ServiceRoles.refusal(false, true)).isEmpty();
        assertThat(ServiceRoles.refusal(true, true)).isEmpty();
    }

    @Test
    void neitherRoleIsRefusedNamingBothSettings() {
        assertThat(ServiceRoles.refusal(false, false)).hasValueSatisfying(message -> assertThat(message)
                .startsWith("clipguard refuses to start")
                .contains("clipguard.scoring.enabled=false (CLIPGUARD_SCORING_ENABLED)")
                .contains("clipguard.console.enabled=false (CLIPGUARD_CONSOLE_ENABLED)")
                .contains("Fix: set clipguard.scoring.enabled=true"));
    }
}

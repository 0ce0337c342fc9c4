package io.clipguard.console.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** OIDC and the code mechanism on the console's paths go together; one without the other is refused, naming the fix. */
class LoginMechanismTest {
    @Test
    void formLoginAloneOrOidcWithTheCodeMechanismStart() {
        assertThat(LoginMechanism.problem(false, Optional.empty())).isEmpty();
        assertThat(LoginMechanism.problem(true, Optional.of("code"))).isEmpty();
    }

    @Test
    void oneSettingWithoutItsPairIsRefusedNamingTheOther() {
        assertThat(LoginMechanism.problem(true, Optional.empty())).hasValueSatisfying(
                m -> assertThat(m).contains("QUARKUS_HTTP_AUTH_PERMISSION_EVERYTHING_ELSE_AUTH_MECHANISM=code"));
        assertThat(LoginMechanism.problem(true, Optional.of("form"))).isPresent();
        assertThat(LoginMechanism.problem(false, Optional.of("code"))).hasValueSatisfying(
                m -> assertThat(m).contains("QUARKUS_OIDC_TENANT_ENABLED=true"));
    }
}

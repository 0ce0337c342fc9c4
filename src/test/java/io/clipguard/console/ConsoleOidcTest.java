package io.clipguard.console;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.oidc.server.OidcWireMock;
import io.quarkus.test.oidc.server.OidcWiremockTestResource;
import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The console with OIDC on, as docs/console.md's "OIDC" section configures it, logging in through the authorization
 * code flow against a real OIDC protocol server (quarkus-test-oidc-server: discovery, signing keys, authorization and
 * token endpoints on WireMock) that stands in for the moderators' IdP. Each login is a browser's: the console sends it
 * to the IdP's authorization endpoint, the IdP sends it back with a code, the console exchanges the code for signed
 * tokens and sets its session cookie. The IdP's groups are mapped to the console's roles; decisions go to the real
 * broker and record the ID token's preferred_username.
 */
@QuarkusTest
@TestProfile(ConsoleOidcTest.Oidc.class)
@QuarkusTestResource(value = ConsoleTestResources.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OidcWiremockTestResource.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleOidcTest {
    static final String CLIENT_ID = "clipguard-console";
    static final String MODERATORS = "trust-and-safety";
    static final String AUDITORS = "auditors";

    /** The settings docs/console.md names, with the stand-in IdP's URL. */
    public static class Oidc implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> c = new HashMap<>();
            c.put("quarkus.oidc.tenant-enabled", "true");
            c.put("quarkus.oidc.auth-server-url", "${keycloak.url}/realms/quarkus");
            c.put("quarkus.oidc.client-id", CLIENT_ID);
            c.put("quarkus.oidc.credentials.secret", "a-client-secret-of-at-least-32-characters");
            c.put("quarkus.http.auth.permission.everything-else.auth-mechanism", "code");
            c.put("quarkus.http.auth.roles-mapping.\"" + MODERATORS + "\"", "reviewer");
            c.put("quarkus.http.auth.roles-mapping.\"" + AUDITORS + "\"", "viewer");
            return c;
        }
    }

    @OidcWireMock
    WireMockServer idp;
    @TestHTTPResource("/")
    URL root;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "clipguard.registry.url")
    String registryUrl;

    String uploadId;

    @BeforeAll
    void writeAnAlertedUpload() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        uploadId = "oidc-" + TestClients.newId();
        ConsoleTestResources.writeAlertedUpload(bootstrap, registryUrl, uploadId, "uploader-7", photo, 0.97, 0.9);
    }

    /** The IdP's token endpoint answers the next code exchange with tokens for this user and these groups. */
    private void idpIssuesTokensFor(String user, Set<String> groups) {
        idp.stubFor(post("/auth/realms/quarkus/token").withRequestBody(containing("authorization_code"))
                .willReturn(aResponse().withHeader("Content-Type", "application/json").withBody("{\"access_token\":\""
                        + OidcWiremockTestResource.getAccessToken(user, groups) + "\",\"id_token\":\""
                        + OidcWiremockTestResource.getIdToken(user, groups, CLIENT_ID) + "\",\"expires_in\":300}")));
    }

    /** A login through the IdP by a user the console gives a role: the queue page opens. */
    private ConsoleSession loggedIn(String user, Set<String> groups) throws Exception {
        ConsoleSession s = codeFlow(user, groups);
        assertThat(s.get("/console").statusCode()).isEqualTo(200);
        return s;
    }

    /** A browser logging in: console -> IdP's authorization endpoint -> IdP's login -> console with a code. */
    private ConsoleSession codeFlow(String user, Set<String> groups) throws Exception {
        idpIssuesTokensFor(user, groups);
        ConsoleSession s = new ConsoleSession(root.toURI());
        HttpResponse<String> challenge = s.get("/console");
        assertThat(challenge.statusCode()).isEqualTo(302);
        URI authorize = URI.create(challenge.headers().firstValue("location").orElseThrow());
        Map<String, String> query = query(authorize);
        assertThat(authorize.toString()).startsWith(idp.baseUrl() + "/auth/realms/quarkus?");
        assertThat(query).containsEntry("client_id", CLIENT_ID).containsEntry("response_type", "code")
                .containsEntry("redirect_uri", root.toURI().resolve("/console").toString());
        assertThat(s.get(authorize.toString()).body()).contains("id=\"login\""); // the IdP's login page
        // The IdP's login form (the stand-in accepts anyone) sends the browser back with a code and the state.
        HttpResponse<String> back = s.get(idp.baseUrl() + "/login?state=" + enc(query.get("state"))
                + "&redirect_uri=" + enc(query.get("redirect_uri")));
        assertThat(back.statusCode()).isEqualTo(302);
        HttpResponse<String> codeExchanged = s.get(back.headers().firstValue("location").orElseThrow());
        assertThat(codeExchanged.statusCode()).as(codeExchanged.body()).isEqualTo(302);
        assertThat(codeExchanged.headers().firstValue("location").orElseThrow()).endsWith("/console");
        return s;
    }

    @Test
    void pagesSendTheBrowserToTheIdpAndTheFormLoginIsOff() throws Exception {
        ConsoleSession anonymous = new ConsoleSession(root.toURI());
        for (String path : List.of("/console", "/console/dashboard", "/console/uploads/" + uploadId + "/image")) {
            HttpResponse<String> r = anonymous.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(302);
            URI location = URI.create(r.headers().firstValue("location").orElseThrow());
            assertThat(location.toString()).as(path).startsWith(idp.baseUrl() + "/auth/realms/quarkus?");
            assertThat(query(location)).as(path).containsEntry("client_id", CLIENT_ID);
        }
        // No form: the login page leads to the console (and so to the IdP).
        HttpResponse<String> login = anonymous.get("/login");
        assertThat(login.statusCode()).isEqualTo(303);
        assertThat(login.headers().firstValue("location").orElseThrow()).endsWith("/console");
        // A users-file user's right password through the form's endpoint gets no session: the IdP is the only way in.
        HttpResponse<String> form = anonymous.login("alice", ConsoleTestResources.PASSWORD);
        assertThat(form.headers().firstValue("location").orElse("")).startsWith(idp.baseUrl());
        assertThat(anonymous.cookies.getCookieStore().getCookies()).noneMatch(c -> c.getName().equals("quarkus-credential"));
        assertThat(anonymous.get("/console").statusCode()).isEqualTo(302);
    }

    @Test
    void aViewerFromTheIdpCannotDecideAndAReviewersDecisionRecordsTheTokensUserName() throws Exception {
        String path = "/console/uploads/" + uploadId + "/decision";

        ConsoleSession viewer = loggedIn("victor", Set.of(AUDITORS));
        String viewerPage = Waits.await("the upload in the console's stores")
                .until(() -> viewer.get("/console/uploads/" + uploadId), r -> r.statusCode() == 200).body();
        assertThat(viewerPage).doesNotContain("id=\"decide\"");
        Map<String, String> viewerForm = new HashMap<>(Map.of("csrf-token", ConsoleSession.csrfToken(viewerPage),
                "decisionId", java.util.UUID.randomUUID().toString(), "decision", "REAL", "generator", "", "note", ""));
        assertThat(viewer.post(path, viewerForm).statusCode()).isEqualTo(403);

        // Someone the IdP knows but whose groups map to neither role sees nothing.
        ConsoleSession stranger = codeFlow("mallory", Set.of("interns"));
        assertThat(stranger.get("/console/uploads/" + uploadId).statusCode()).isEqualTo(403);

        ConsoleSession reviewer = loggedIn("rita.moderator", Set.of(MODERATORS, "staff"));
        String page = reviewer.get("/console/uploads/" + uploadId).body();
        assertThat(page).contains("id=\"decide\"");
        HttpResponse<String> decided = reviewer.post(path, ConsoleSession.decisionForm(page, "AI_GENERATED"));
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(303);
        assertThat(reviewer.get(decided.headers().firstValue("location").orElseThrow()).body())
                .contains("Saved: AI-generated by rita.moderator");

        List<ModerationDecision> onTopic = TestClients.readCommitted(bootstrap, ConsoleTestResources.DECISIONS,
                        TestClients.<ModerationDecision>avroReader(registryUrl),
                        got -> got.stream().anyMatch(r -> r.value().getUploadId().equals(uploadId)), java.time.Duration.ofSeconds(30))
                .stream().map(r -> r.value()).filter(d -> d.getUploadId().equals(uploadId)).toList();
        assertThat(onTopic).hasSize(1);
        assertThat(onTopic.get(0).getReviewer()).isEqualTo("rita.moderator");
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> q = new HashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            String[] kv = pair.split("=", 2);
            q.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
        }
        return q;
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}

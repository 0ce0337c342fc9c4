package io.clipguard.console;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** One browser's worth of HTTP: its own cookie jar, no automatic redirects (tests look at them). */
final class ConsoleSession {
    private static final Pattern CSRF = Pattern.compile("name=\"csrf-token\" value=\"([^\"]+)\"");
    private static final Pattern DECISION_ID = Pattern.compile("name=\"decisionId\" value=\"([^\"]+)\"");
    final URI base;
    final CookieManager cookies = new CookieManager();
    final HttpClient http;

    ConsoleSession(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A GET with HTTP Basic credentials, sent up front as Prometheus' basic_auth sends them. */
    HttpResponse<String> getWithBasic(String path, String user, String password) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", basic(user, password)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String basic(String user, String password) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<byte[]> getBytes(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> post(String path, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Logs in through the form; returns the j_security_check answer. */
    HttpResponse<String> login(String user, String password) throws Exception {
        return post("/j_security_check", Map.of("j_username", user, "j_password", password));
    }

    static String csrfToken(String page) {
        Matcher m = CSRF.matcher(page);
        if (!m.find()) throw new AssertionError("no CSRF token in the page");
        return m.group(1);
    }

    static String decisionId(String page) {
        Matcher m = DECISION_ID.matcher(page);
        if (!m.find()) throw new AssertionError("no decision id in the page");
        return m.group(1);
    }

    /** The decision form's fields as the page gives them, with {@code decision} set. */
    static Map<String, String> decisionForm(String page, String decision) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("csrf-token", csrfToken(page));
        form.put("decisionId", decisionId(page));
        form.put("decision", decision);
        form.put("generator", "");
        form.put("note", "");
        return form;
    }
}

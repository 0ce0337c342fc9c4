package io.clipguard.console;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.console.store.QueueFilter;
import io.clipguard.console.store.QueuePage;
import io.clipguard.console.store.ReadModel;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.PermitAll;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The console's pages: the queue, an upload (image, scores, the uploader's other alerts, its burst, its decisions, the
 * decision form), the dashboard, and the decision POST. Every route needs a login ({@code viewer} looks,
 * {@code reviewer} also decides); templates escape every value (Qute's default for .html); the pages load one script
 * file and no inline script (the Content-Security-Policy forbids it).
 */
@Path("/console")
@RolesAllowed({"reviewer", "viewer"})
public class ConsoleResource {
    static final int MAX_ID_LENGTH = 512;

    @Inject
    ConsoleConfig config;
    @Inject
    ConsoleStreams streams;
    @Inject
    DecisionWriter writer;
    @Inject
    UploadImages images;
    @Inject
    SecurityIdentity identity;

    @Location("console/queue.html")
    Template queue;
    @Location("console/upload.html")
    Template upload;
    @Location("console/dashboard.html")
    Template dashboard;
    @Location("console/unavailable.html")
    Template unavailable;

    /** The queue's filters as they come in the query string (blank = any). */
    public record Filters(String kind, String model, String head, String uploader, String decision, String reviewed,
                          String pmin, String pmax) {
        QueueFilter toFilter() {
            return new QueueFilter(
                    switch (blankToNull(kind) == null ? "" : kind) {
                        case "high-score" -> QueueFilter.Kind.HIGH_SCORE;
                        case "burst" -> QueueFilter.Kind.BURST;
                        default -> null;
                    },
                    blankToNull(head), blankToNull(model), blankToNull(uploader),
                    parseLabel(decision),
                    "yes".equals(reviewed) ? Boolean.TRUE : "no".equals(reviewed) ? Boolean.FALSE : null,
                    parseProbability(pmin), parseProbability(pmax));
        }

        /** The query string that repeats these filters (for paging and "next"). */
        public String query() {
            UriBuilder b = UriBuilder.fromPath("");
            Map<String, String> values = new LinkedHashMap<>();
            values.put("kind", kind);
            values.put("model", model);
            values.put("head", head);
            values.put("uploader", uploader);
            values.put("decision", decision);
            values.put("reviewed", reviewed);
            values.put("pmin", pmin);
            values.put("pmax", pmax);
            values.forEach((k, v) -> {
                if (blankToNull(v) != null) b.queryParam(k, "{" + k + "}");
            });
            Map<String, Object> resolved = new LinkedHashMap<>();
            values.forEach((k, v) -> {
                if (blankToNull(v) != null) resolved.put(k, v);
            });
            String q = b.buildFromMap(resolved).getRawQuery();
            return q == null ? "" : q;
        }
    }

    @GET
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance queue(@QueryParam("kind") String kind, @QueryParam("model") String model,
                                  @QueryParam("head") String head, @QueryParam("uploader") String uploader,
                                  @QueryParam("decision") String decision, @QueryParam("reviewed") String reviewed,
                                  @QueryParam("pmin") String pmin, @QueryParam("pmax") String pmax,
                                  @QueryParam("after") String after) {
        Filters filters = new Filters(kind, model, head, uploader, decision, reviewed, pmin, pmax);
        ReadModel model1 = streams.readModel();
        QueuePage page = model1.queue(filters.toFilter(), after, config.pageSize(), config.scanBudget());
        return common(queue).data("filters", filters).data("page", page).data("headsByModel", model1.headsByModel())
                .data("filterQuery", filters.query());
    }

    @GET
    @Path("uploads/{id}")
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance upload(@PathParam("id") String uploadId, @QueryParam("saved") String saved,
                                   @QueryParam("kind") String kind, @QueryParam("model") String model,
                                   @QueryParam("head") String head, @QueryParam("uploader") String uploader,
                                   @QueryParam("decision") String decision, @QueryParam("reviewed") String reviewed,
                                   @QueryParam("pmin") String pmin, @QueryParam("pmax") String pmax) {
        checkId(uploadId);
        ReadModel read = streams.readModel();
        ModerationVerdict verdict = read.verdict(uploadId).orElseThrow(() -> new NotFoundException("no verdict for this upload"));
        HighScoreAlert alert = read.alert(uploadId).orElse(null);
        Optional<ModerationDecision> acknowledged = saved == null ? Optional.empty() : writer.acknowledged(saved);
        if (acknowledged.isPresent()) {
            awaitInStore(read, saved); // read your own write: the page after a decision shows it in the history
        }
        Filters filters = new Filters(kind, model, head, uploader, decision, reviewed, pmin, pmax);
        List<ModerationDecision> history = read.decisionHistory(uploadId);
        // The banner: the decision is the latest in the stores, or Kafka acknowledged it to this instance and the
        // stores have not read it yet (e.g. just after a broker restart). Once read, a later decision hides it.
        ModerationDecision savedDecision = saved == null ? null
                : !history.isEmpty() && history.get(0).getDecisionId().equals(saved) ? history.get(0)
                : read.decisionRecorded(saved) ? null : acknowledged.orElse(null);
        return common(upload).data("verdict", verdict).data("alert", alert)
                .data("detectors", detectorRows(verdict))
                .data("others", read.flaggedByUploader(verdict.getUploaderId(), uploadId, 20))
                .data("burst", read.burstOf(uploadId).orElse(null))
                .data("history", history)
                .data("latest", history.isEmpty() ? null : history.get(0))
                .data("saved", savedDecision)
                .data("generators", read.generators())
                .data("decisionId", UUID.randomUUID().toString())
                .data("next", read.nextAfter(uploadId, filters.toFilter(), config.scanBudget()).orElse(null))
                .data("filterQuery", filters.query())
                .data("canDecide", identity.hasRole("reviewer"));
    }

    /** Waits a moment (at most 2 s) for the console's global store to have read a decision Kafka acknowledged. */
    private static void awaitInStore(ReadModel read, String decisionId) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!read.decisionRecorded(decisionId) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @GET
    @Path("uploads/{id}/image")
    public Response image(@PathParam("id") String uploadId) {
        checkId(uploadId);
        ModerationVerdict verdict = streams.readModel().verdict(uploadId).orElseThrow(() -> new NotFoundException());
        try {
            UploadImages.Image image = images.read(verdict);
            return Response.ok(image.bytes(), image.mediaType())
                    .header("X-Content-Type-Options", "nosniff")
                    .header("Cache-Control", "private, no-store")
                    .header("Content-Disposition", "inline")
                    .build();
        } catch (UploadImages.ImageUnavailable e) {
            return Response.status(e.gone ? 404 : 502).type(MediaType.TEXT_PLAIN)
                    .header("X-Content-Type-Options", "nosniff").entity(e.getMessage()).build();
        }
    }

    @POST
    @Path("uploads/{id}/decision")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_HTML)
    @RolesAllowed("reviewer")
    public Response decide(@PathParam("id") String uploadId, @FormParam("decisionId") String decisionId,
                           @FormParam("decision") String label, @FormParam("generator") String generator,
                           @FormParam("note") String note, @FormParam("back") String back) {
        checkId(uploadId);
        DecisionLabel decision = parseLabel(label);
        if (decision == null || decisionId == null || !decisionId.matches("[0-9a-f-]{36}")) {
            return Response.status(400).type(MediaType.TEXT_PLAIN).entity("a decision needs a decision id and one of "
                    + List.of(DecisionLabel.values())).build();
        }
        ReadModel read = streams.readModel();
        ModerationVerdict verdict = read.verdict(uploadId).orElseThrow(() -> new NotFoundException("no verdict for this upload"));
        HighScoreAlert alert = read.alert(uploadId).orElse(null);
        String alertKind = alert != null ? "high-score" : read.burstOf(uploadId).isPresent() ? "burst" : null;
        ModerationDecision record = ModerationDecision.newBuilder()
                .setDecisionId(decisionId).setUploadId(uploadId).setDecision(decision)
                .setGenerator(decision == DecisionLabel.AI_GENERATED ? limit(blankToNull(generator), 200) : null)
                .setNote(limit(blankToNull(note), 4000))
                .setReviewer(identity.getPrincipal().getName())
                .setDecidedAt(Instant.now())
                .setModelId(verdict.getModelId()).setHeadVersion(verdict.getHeadVersion()).setLlr(verdict.getLlr())
                .setAlertKind(alertKind)
                .build();
        try {
            writer.write(record);
        } catch (DecisionWriter.DecisionNotRecorded e) {
            return Response.status(503).type(MediaType.TEXT_HTML).entity(common(unavailable)
                    .data("title", "Decision NOT saved")
                    .data("message", "Your decision was not saved: " + e.getMessage()
                            + ". Go back and submit it again; it will be recorded once.")
                    .render()).build();
        }
        String query = back == null || !back.matches("[A-Za-z0-9=&%._+-]*") ? "" : back;
        URI target = URI.create("/console/uploads/" + TemplateExtensions.urlEncode(uploadId)
                + "?saved=" + decisionId + (query.isEmpty() ? "" : "&" + query));
        return Response.seeOther(target).build();
    }

    @GET
    @Path("dashboard")
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance dashboard() {
        return common(dashboard).data("dashboard", streams.readModel().dashboard());
    }

    @POST
    @Path("logout")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response logout(@jakarta.ws.rs.core.Context jakarta.ws.rs.core.HttpHeaders headers) {
        // The form login's cookie, and with OIDC the code flow's session cookie (and its chunks when it is large).
        List<NewCookie> expired = new ArrayList<>();
        expired.add(expired("quarkus-credential"));
        headers.getCookies().keySet().stream().filter(name -> name.startsWith("q_session")).map(ConsoleResource::expired)
                .forEach(expired::add);
        return Response.seeOther(URI.create("/login")).cookie(expired.toArray(NewCookie[]::new)).build();
    }

    private static NewCookie expired(String name) {
        return new NewCookie.Builder(name).value("").path("/").maxAge(0).httpOnly(true).build();
    }

    @ServerExceptionMapper
    public Response unavailable(ConsoleUnavailableException e) {
        return Response.status(503).type(MediaType.TEXT_HTML).header("Retry-After", "5")
                .entity(common(unavailable).data("title", "Console starting").data("message", e.getMessage()).render()).build();
    }

    private TemplateInstance common(Template template) {
        return template.data("user", identity.getPrincipal().getName()).data("reviewer", identity.hasRole("reviewer"));
    }

    /** Any text may be an upload id; it is only ever a key looked up in the stores, never a path. */
    private static void checkId(String uploadId) {
        if (uploadId == null || uploadId.isEmpty() || uploadId.length() > MAX_ID_LENGTH) {
            throw new NotFoundException();
        }
    }

    /** The verdict's per-detector scores, when the verdict has a {@code detectors} array: each entry's fields as text. */
    static List<Map<String, String>> detectorRows(ModerationVerdict verdict) {
        Schema.Field field = verdict.getSchema().getField("detectors");
        List<Map<String, String>> rows = new ArrayList<>();
        if (field != null && verdict.get(field.pos()) instanceof List<?> list) {
            for (Object item : list) {
                Map<String, String> row = new LinkedHashMap<>();
                if (item instanceof GenericRecord r) {
                    r.getSchema().getFields().forEach(f -> row.put(f.name(), String.valueOf(r.get(f.pos()))));
                } else {
                    row.put("value", String.valueOf(item));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static String limit(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }

    static DecisionLabel parseLabel(String s) {
        if (blankToNull(s) == null) return null;
        try {
            return DecisionLabel.valueOf(s.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static Double parseProbability(String s) {
        if (blankToNull(s) == null) return null;
        try {
            double p = Double.parseDouble(s.strip());
            return p >= 0 && p <= 1 ? p : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The login page (the one public page besides health; the form posts to Quarkus's j_security_check). */
    @Path("/login")
    @PermitAll
    public static class Login {
        @Location("console/login.html")
        Template login;
        @Inject
        ConsoleConfig config;
        @Inject
        io.clipguard.console.security.LoginMechanism mechanism;

        @GET
        @Produces(MediaType.TEXT_HTML)
        public Response page(@QueryParam("error") String error) {
            if (!config.enabled()) throw new NotFoundException();
            if (mechanism.oidc()) {
                // No form to show: the console's pages send the browser to the IdP.
                return Response.seeOther(URI.create("/console")).build();
            }
            return Response.ok(login.data("error", error != null).render()).build();
        }
    }

    /** With the console off, its paths do not exist. */
    @jakarta.inject.Singleton
    public static class EnabledOnly {
        @Inject // looked up per request: REST filters are made at static init, before config mappings exist
        jakarta.enterprise.inject.Instance<ConsoleConfig> config;

        @org.jboss.resteasy.reactive.server.ServerRequestFilter
        public java.util.Optional<Response> check(jakarta.ws.rs.core.UriInfo uri) {
            String path = uri.getPath();
            if (!config.get().enabled() && (path.startsWith("/console") || path.startsWith("/login"))) {
                return java.util.Optional.of(Response.status(404).build());
            }
            return java.util.Optional.empty();
        }
    }
}

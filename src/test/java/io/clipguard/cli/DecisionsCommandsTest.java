package io.clipguard.cli;

import static io.clipguard.cli.ScoreCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.cli.ScoreCommandTest.Run;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.evaluation.DetectionReport;
import io.clipguard.model.LinearHead;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.testing.BrokerAndRegistry;
import io.clipguard.testing.DecisionRecords;
import io.clipguard.testing.TestClients;
import io.clipguard.training.FeaturesFolder;
import io.clipguard.training.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.commons.csv.CSVRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --decisions} and {@code evaluate --decisions} on a real broker and registry: the vectors are the tiny
 * model's embeddings of samples/training (written by embed, stored as the service stores them in image-embeddings),
 * the labels moderators' decisions. A head trained from decisions equals one trained from a features folder holding
 * the same rows (same solver, C, folds and seed); the latest decision per upload wins, UNSURE and uploads without a
 * vector of the model are left out and counted; the time range, generator filter and minimum per class hold; a
 * features folder is extended; evaluate's metrics equal those computed directly.
 */
class DecisionsCommandsTest {
    static final String MODEL = "tiny-clip-test";
    static final String EMBEDDINGS = "decisions-test-embeddings";
    static final String VERDICTS = "decisions-test-verdicts";
    static final Instant DAY1 = Instant.parse("2026-12-01T10:00:00Z");
    static final Instant DAY2 = Instant.parse("2026-12-02T10:00:00Z");
    static final Instant DAY3 = Instant.parse("2026-12-03T10:00:00Z");
    static final Instant DAY4 = Instant.parse("2026-12-04T10:00:00Z");

    @RegisterExtension
    static final BrokerAndRegistry kafka = new BrokerAndRegistry();
    @TempDir
    static Path tmp;

    /** The embedded samples: upload id (u-00.. in the features' row order) → typ and vector. */
    static final Map<String, String> typs = new LinkedHashMap<>();
    static final Map<String, float[]> vectors = new LinkedHashMap<>();
    static FeaturesFolder.Info info;

    @BeforeAll
    static void embedAndStore() throws Exception {
        Path features = tmp.resolve("embedded");
        Run embed = run("embed", "--input", "samples/training", "--output", features.toString(), "--device", "cpu");
        assertThat(embed.exitCode()).as(embed.err()).isZero();
        FeaturesFolder.Features f = FeaturesFolder.read(features);
        info = f.info();
        for (FeaturesFolder.Entry e : f.entries()) {
            String id = "u-%02d".formatted(e.row());
            typs.put(id, ImageInputs.typFromFolder(e.filename()));
            float[] v = new float[info.dim()];
            System.arraycopy(f.matrix().data(), e.row() * info.dim(), v, 0, info.dim());
            vectors.put(id, v);
        }
        assertThat(typs).hasSize(36);
        assertThat(new java.util.TreeSet<>(typs.values())).containsExactly("real", "smooth", "stripes");

        kafka.broker().createTopics(2, EMBEDDINGS, VERDICTS);
        Topics.Topic<String, ImageEmbedding> topic = Topics.embeddings(EMBEDDINGS, new OutputSchemas(kafka.registry().url()));
        try (KafkaProducer<String, ImageEmbedding> out = new KafkaProducer<>(producerProps(), new StringSerializer(),
                topic.valueSerde().serializer())) {
            int offset = 0;
            for (Map.Entry<String, float[]> v : vectors.entrySet()) {
                TestClients.send(out, EMBEDDINGS, v.getKey(), embedding(v.getKey(), MODEL, v.getValue(), offset++));
            }
            // Decided, but embedded by another backbone only.
            TestClients.send(out, EMBEDDINGS, "u-other", embedding("u-other", "other-model", vectors.get("u-00"), offset));
        }
    }

    @Test
    void aHeadFromDecisionsEqualsTheHeadFromAFeaturesFolderOfTheSameRows() throws Exception {
        String decisions = decisionsTopic("d-equal");
        Map<String, String> expected = new TreeMap<>(typs);
        try (DecisionRecords out = decisionWriter(decisions)) {
            typs.forEach((id, typ) -> out.send(id, label(typ), generator(typ), DAY1));
            // Changed decisions: the latest counts.
            out.send("u-00", DecisionLabel.AI_GENERATED, "smooth", DAY2);
            out.send("u-00", DecisionLabel.REAL, null, DAY3);
            out.send("u-20", DecisionLabel.REAL, null, DAY2);
            out.send("u-20", label(typs.get("u-20")), generator(typs.get("u-20")), DAY3);
            // The latest is UNSURE: left out.
            out.send("u-05", DecisionLabel.UNSURE, null, DAY2);
            expected.remove("u-05");
            // A retried POST: the same decision twice is one.
            var twice = DecisionRecords.decision("u-30", label(typs.get("u-30")), generator(typs.get("u-30")), DAY2);
            out.send(twice);
            out.send(twice);
            out.send("u-other", DecisionLabel.AI_GENERATED, "smooth", DAY1);
            out.send("u-missing", DecisionLabel.REAL, null, DAY1);
        }
        Path fromDecisions = tmp.resolve("from-decisions.json");
        Run train = train(decisions, fromDecisions);
        assertThat(train.exitCode()).as(train.err()).isZero();
        assertThat(train.err()).contains("decisions: 45 records in " + decisions + ", 35 labelled uploads with a vector"
                + " of tiny-clip-test {real=11, smooth=12, stripes=12}; left out: 1 embedding of another model than"
                + " tiny-clip-test only (other-model), 1 latest decision UNSURE, 1 no embedding");

        Path fromFeatures = tmp.resolve("from-features.json");
        Run baseline = run("train", "--input", features("same-rows", expected).toString(), "--output",
                fromFeatures.toString(), "--c", "1", "--folds", "3", "--date", "2026-12-01", "--version", "v1");
        assertThat(baseline.exitCode()).as(baseline.err()).isZero();

        LinearHead a = LinearHead.load(fromDecisions);
        LinearHead b = LinearHead.load(fromFeatures);
        assertThat(a.weights()).containsExactly(b.weights());
        assertThat(a.bias()).isEqualTo(b.bias());
        assertThat(a.threshold()).isEqualTo(b.threshold());
        assertThat(a.training().featuresSha256()).isEqualTo(b.training().featuresSha256());
        assertThat(a.training().counts()).isEqualTo(Map.of("real", 11, "smooth", 12, "stripes", 12));
        assertThat(a.training().input()).isEqualTo("decisions " + decisions);
        assertThat(b.training().decisions()).isNull();
        LinearHead.Decisions provenance = a.training().decisions();
        assertThat(provenance.topic()).isEqualTo(decisions);
        assertThat(provenance.embeddingsTopic()).isEqualTo(EMBEDDINGS);
        assertThat(provenance.classes()).isEqualTo(Map.of("real", 11, "synthetic", 24));
        assertThat(provenance.counts()).isEqualTo(Map.of("real", 11, "smooth", 12, "stripes", 12));
        assertThat(provenance.decisionRecords()).isEqualTo(45);
        assertThat(provenance.skipped()).isEqualTo(Map.of("latest decision UNSURE", 1L, "no embedding", 1L,
                "embedding of another model than tiny-clip-test only (other-model)", 1L));
        assertThat(provenance.since()).isNull();
        assertThat(provenance.minPerClass()).isEqualTo(10);

        // Fewer real decisions than asked for: refused, naming the fix.
        Run refused = train(decisions, tmp.resolve("refused.json"), "--min-per-class", "12");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("only 11 real decided uploads with a vector of the model in " + decisions)
                .contains("--min-per-class is 12: label more uploads in the console");
        assertThat(tmp.resolve("refused.json")).doesNotExist();
    }

    @Test
    void theTimeRangeAndTheGeneratorFilterSelectTheLabelsThatStoodThen() throws Exception {
        String decisions = decisionsTopic("d-range");
        try (DecisionRecords out = decisionWriter(decisions)) {
            Map<String, Instant> day = Map.of("real", DAY1, "smooth", DAY2, "stripes", DAY3);
            typs.forEach((id, typ) -> out.send(id, label(typ), generator(typ), day.get(typ)));
            out.send("u-00", DecisionLabel.AI_GENERATED, "stripes", DAY4); // after --until below
        }
        assertThat(typs.get("u-00")).isEqualTo("real");
        Path head = tmp.resolve("range.json");
        Run run = train(decisions, head, "--since", "2026-12-01", "--until", DAY4.toString(), "--generator", "stripes");
        assertThat(run.exitCode()).as(run.err()).isZero();
        LinearHead.Decisions provenance = LinearHead.load(head).training().decisions();
        assertThat(provenance.counts()).isEqualTo(Map.of("real", 12, "stripes", 12));
        assertThat(provenance.skipped()).isEqualTo(Map.of("generator not selected", 12L,
                "decided at or after --until (records)", 1L));
        assertThat(provenance.since()).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(provenance.until()).isEqualTo("2026-12-04T10:00:00Z");
        assertThat(provenance.generators()).containsExactly("stripes");
        assertThat(LinearHead.load(head).training().date()).isEqualTo("2026-12-03");

        // From day 2 on, u-00's latest decision is AI_GENERATED and no real decision is left: refused.
        Run noReal = train(decisions, tmp.resolve("no-real.json"), "--since", "2026-12-02");
        assertThat(noReal.exitCode()).isEqualTo(1);
        assertThat(noReal.err()).contains("only 0 real decided uploads").contains("{real=0, synthetic=25}")
                .contains("or add the original training set with --input");
        Run empty = train(decisions, tmp.resolve("empty.json"), "--since", "2026-12-03", "--until", "2026-12-02");
        assertThat(empty.exitCode()).isEqualTo(2);
        assertThat(empty.err()).contains("the time range is empty");
    }

    @Test
    void decisionsExtendAFeaturesFolder() throws Exception {
        String decisions = decisionsTopic("d-extend");
        Map<String, String> original = new LinkedHashMap<>();
        Map<String, String> decided = new LinkedHashMap<>();
        typs.forEach((id, typ) -> (original.size() < 18 ? original : decided).put(id, typ));
        assertThat(decided.values()).doesNotContain("real");
        try (DecisionRecords out = decisionWriter(decisions)) {
            decided.forEach((id, typ) -> out.send(id, label(typ), generator(typ), DAY1));
        }
        Path extended = tmp.resolve("extended.json");
        Run run = train(decisions, extended, "--input", features("original", original).toString());
        assertThat(run.exitCode()).as(run.err()).isZero();

        Map<String, String> all = new LinkedHashMap<>(original);
        all.putAll(decided);
        Path whole = tmp.resolve("whole.json");
        Run baseline = run("train", "--input", features("whole", all).toString(), "--output", whole.toString(), "--c",
                "1", "--folds", "3", "--date", "2026-12-01", "--version", "v1");
        assertThat(baseline.exitCode()).as(baseline.err()).isZero();
        LinearHead a = LinearHead.load(extended);
        LinearHead b = LinearHead.load(whole);
        assertThat(a.weights()).containsExactly(b.weights());
        assertThat(a.bias()).isEqualTo(b.bias());
        assertThat(a.training().input()).isEqualTo("features features-original + decisions " + decisions);
        assertThat(a.training().counts()).isEqualTo(b.training().counts());
        assertThat(a.training().decisions().classes()).isEqualTo(Map.of("real", 0, "synthetic", 18));

        Run images = train(decisions, tmp.resolve("x.json"), "--input", "samples/training");
        assertThat(images.exitCode()).isEqualTo(2);
        assertThat(images.err()).contains("embed the images first");
    }

    @Test
    void evaluateOnDecisionsGivesTheMetricsOfTheHeadAndOfTheLiveVerdicts() throws Exception {
        String decisions = decisionsTopic("d-evaluate");
        try (DecisionRecords out = decisionWriter(decisions)) {
            typs.forEach((id, typ) -> out.send(id, label(typ), generator(typ), DAY1));
        }
        LinearHead head = LinearHead.load(Path.of("models", MODEL, "head.json"));
        List<String> typList = new ArrayList<>(new TreeMap<>(typs).values());
        double[] llrs = new TreeMap<>(vectors).values().stream().mapToDouble(v -> head.llr(v, true)).toArray();

        Path byHead = tmp.resolve("eval-head");
        Run run = run("evaluate", "--decisions", "--decisions-topic", decisions, "--embeddings-topic", EMBEDDINGS,
                "--head", Path.of("models", MODEL, "head.json").toString(), "--output-dir", byHead.toString(),
                "--bootstrap-servers", kafka.broker().bootstrapServers(), "--registry-url", kafka.registry().url());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertMetrics(byHead, DetectionReport.compute(typList, Map.of("llr", llrs), head.threshold()));

        // The live verdicts: one per upload, plus a rescored one of another head that must not count.
        double[] live = new double[llrs.length];
        try (KafkaProducer<String, ModerationVerdict> out = new KafkaProducer<>(producerProps(), new StringSerializer(),
                Topics.verdicts(VERDICTS, new OutputSchemas(kafka.registry().url())).valueSerde().serializer())) {
            int i = 0;
            for (String id : new TreeMap<>(typs).keySet()) {
                live[i] = llrs[i] * 0.5 + (i % 3) * 0.1; // scores of some other head, live at the time
                TestClients.send(out, VERDICTS, id, verdict(id, live[i], head, false));
                TestClients.send(out, VERDICTS, id, verdict(id, -llrs[i], head, true));
                i++;
            }
        }
        Path byVerdicts = tmp.resolve("eval-live");
        Run liveRun = run("evaluate", "--decisions", "--decisions-topic", decisions, "--verdicts-topic", VERDICTS,
                "--output-dir", byVerdicts.toString(), "--bootstrap-servers", kafka.broker().bootstrapServers(),
                "--registry-url", kafka.registry().url());
        assertThat(liveRun.exitCode()).as(liveRun.err()).isZero();
        assertThat(liveRun.err()).contains("decisions: 36 reviewed uploads with a verdict {real=12, smooth=12, stripes=12}");
        assertMetrics(byVerdicts, DetectionReport.compute(typList, Map.of("llr", live), head.threshold()));
    }

    /** metrics.csv as evaluate wrote it, value for value against {@code expected}. */
    private static void assertMetrics(Path dir, DetectionReport expected) throws Exception {
        List<CSVRecord> rows = TrainingCommandsTest.csv(dir.resolve("metrics.csv"));
        assertThat(rows).hasSize(expected.rows().size());
        for (int i = 0; i < rows.size(); i++) {
            DetectionReport.Row want = expected.rows().get(i);
            assertThat(rows.get(i).get("metric")).isEqualTo(want.metric());
            for (String generator : expected.generators()) {
                assertThat(Double.parseDouble(rows.get(i).get(generator))).as(want.metric() + " " + generator)
                        .isCloseTo(want.byGenerator().get(generator), Offset.offset(1e-12));
            }
            assertThat(Double.parseDouble(rows.get(i).get("AVG"))).isCloseTo(want.average(), Offset.offset(1e-12));
        }
    }

    private static Run train(String decisions, Path output, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--decisions", "--decisions-topic", decisions,
                "--embeddings-topic", EMBEDDINGS, "--bootstrap-servers", kafka.broker().bootstrapServers(),
                "--registry-url", kafka.registry().url(), "--output", output.toString(), "--c", "1", "--folds", "3",
                "--date", "2026-12-01", "--version", "v1"));
        args.addAll(List.of(more));
        if (List.of(more).contains("--since")) { // the head's date comes from the decisions then
            int date = args.indexOf("--date");
            args.subList(date, date + 2).clear();
        }
        return run(args.toArray(String[]::new));
    }

    /** A features folder holding the embedded samples {@code rows} (id → typ), in that order, with a typ column. */
    private static Path features(String name, Map<String, String> rows) throws Exception {
        int dim = info.dim();
        float[] data = new float[rows.size() * dim];
        List<FeaturesFolder.Entry> entries = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, String> row : rows.entrySet()) {
            System.arraycopy(vectors.get(row.getKey()), 0, data, i * dim, dim);
            entries.add(new FeaturesFolder.Entry(row.getKey(), List.of(row.getValue()), i, null));
            i++;
        }
        FeaturesFolder.Info copy = new FeaturesFolder.Info(info.format(), info.modelId(), info.modelSha256(),
                info.manifestSha256(), dim, rows.size(), info.dtype(), info.l2Normalized(), info.preprocess(), "2026-11-30");
        Path dir = tmp.resolve("features-" + name);
        FeaturesFolder.write(dir, new FeaturesFolder.Features(copy, List.of("typ"), entries, new Npy.Matrix(rows.size(), dim, data)));
        return dir;
    }

    private static String decisionsTopic(String name) throws Exception {
        kafka.broker().createTopics(Topics.Names.DEFAULT.withSuffix("-" + name)
                .newTopic(Topics.DECISIONS + "-" + name, 2, (short) 1, 1 << 20));
        return Topics.DECISIONS + "-" + name;
    }

    private static DecisionRecords decisionWriter(String topic) {
        return new DecisionRecords(kafka.broker().bootstrapServers(), kafka.registry().url(), topic);
    }

    private static DecisionLabel label(String typ) {
        return typ.equals("real") ? DecisionLabel.REAL : DecisionLabel.AI_GENERATED;
    }

    private static String generator(String typ) {
        return typ.equals("real") ? null : typ;
    }

    private static ImageEmbedding embedding(String id, String model, float[] vector, int offset) {
        return OutputRecords.embedding(new OutputRecords.UploadRef(id, "uploader", "00", 0, offset), model, "exact",
                vector, false, DAY1);
    }

    private static ModerationVerdict verdict(String id, double llr, LinearHead head, boolean rescored) {
        ScoreOutcome.Scored scored = new ScoreOutcome.Scored(llr, head.probability(llr), head.isSynthetic(llr));
        return OutputRecords.verdict(new OutputRecords.UploadRef(id, "uploader", "00", 0, 0), scored, head, MODEL,
                "exact", DAY2, 0, rescored);
    }

    private static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.broker().bootstrapServers());
        return p;
    }
}

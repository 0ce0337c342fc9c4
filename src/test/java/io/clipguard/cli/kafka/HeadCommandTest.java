package io.clipguard.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clipguard.cli.ClipguardCli;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.model.LinearHead;
import io.clipguard.model.TestModels;
import io.clipguard.testing.BrokerAndRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tools/clipguard head publish|activate|list} on a real KRaft broker and the real Apicurio Registry, with the
 * bundled 64-d model folder (models/tiny-clip-test, found from the head's model id as a user's checkout would): a head
 * that does not fit the backbone is refused before the control topic calls it active, and {@code head list} never marks
 * as active a version the instances refuse. What the instances themselves do with such a head is RecalibrationTest's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HeadCommandTest {
    static final String TOPIC = "detector-heads-cli";
    static final String BAD_DIM_REASON = "it has 10 weights but model 'tiny-clip-test' outputs 64-d features";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    @RegisterExtension
    static final BrokerAndRegistry kafka = new BrokerAndRegistry();

    record Run(int exit, String out, String err) {}



    @Test
    @Order(1)
    void aFittingHeadIsPublishedAndActivated() throws Exception {
        Run run = head("publish", "--file", headFile("fits-v1", 64, j -> { }).toString(), "--activate");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("published head fits-v1 of model tiny-clip-test (64 weights) to " + TOPIC)
                .contains("activated head fits-v1 of model tiny-clip-test: instances switch within seconds (see /q/health/ready)");
        assertThat(run.err()).isEmpty();
        assertThat(catalog().activeVersion("tiny-clip-test")).hasValue("fits-v1");
    }

    @Test
    @Order(2)
    void aHeadOfTheWrongDimensionIsRefusedAndNothingIsPublished() throws Exception {
        Path badDim = headFile("bad-dim", 10, j -> { });
        Run run = head("publish", "--file", badDim.toString(), "--activate");
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("head publish: " + badDim + " does not fit the backbone in "
                + Path.of("models", "tiny-clip-test") + ": " + BAD_DIM_REASON + ". Instances serving model 'tiny-clip-test'"
                + " would refuse it and keep their current head. Retrain it on this model's features (tools/clipguard train"
                + " --model-dir " + Path.of("models", "tiny-clip-test") + "). Nothing was published.\n");
        assertThat(catalog().list()).extracting(HeadCatalog.Entry::version).containsExactly("fits-v1");
        assertThat(catalog().activeVersion("tiny-clip-test")).hasValue("fits-v1");

        // Only manifest.json is needed to check: a folder without the (large) model file will do.
        Path manifestOnly = Files.createDirectories(tmp.resolve("manifest-only"));
        Files.copy(TestModels.TINY.resolve("manifest.json"), manifestOnly.resolve("manifest.json"));
        run = head("publish", "--file", badDim.toString(), "--model-dir", manifestOnly.toString());
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).contains(BAD_DIM_REASON).contains("Nothing was published.");
    }

    @Test
    @Order(3)
    void aHeadOfAnotherModelIsRefusedAgainstTheNamedModelDir() throws Exception {
        Path other = headFile("other-v1", 64, j -> j.put("model_id", "other-model"));
        Run run = head("publish", "--file", other.toString(), "--model-dir", TestModels.TINY.toString());
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).contains("it was trained for model_id 'other-model' but the backbone is 'tiny-clip-test'")
                .contains("Pass --model-dir with the folder of model 'other-model'.");
        assertThat(catalog().list()).extracting(HeadCatalog.Entry::version).doesNotContain("other-v1");
    }

    @Test
    @Order(4)
    void withoutAModelFolderThePublicationSaysItWasNotChecked() throws Exception {
        Path other = headFile("other-v1", 64, j -> j.put("model_id", "other-model"));
        Run run = head("publish", "--file", other.toString(), "--activate");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.err()).contains("no model folder " + Path.of("models", "other-model")
                + " here, so the head was not checked against its backbone (pass --model-dir to check it)");
        assertThat(run.out()).contains("activated head other-v1 of model other-model: instances switch within seconds if it"
                + " fits their backbone (see /q/health/ready)");
        assertThat(head("list").out()).contains("fit not checked for model other-model: no model folder "
                + Path.of("models", "other-model") + " here (pass --model-dir)");
    }

    @Test
    @Order(5)
    void listMarksAnActivatedMisfitAsRefusedAndActivateRefusesIt() throws Exception {
        // Another writer that does not check (a CLI without the model folder, an old version) activates the misfit.
        Path badDim = headFile("bad-dim", 10, j -> { });
        catalog().publish(LinearHead.load(badDim), Files.readString(badDim), true, "test@elsewhere");

        String list = head("list").out();
        assertThat(list).containsPattern("(?m)^!\\s+tiny-clip-test\\s+bad-dim\\s+10\\s+.*refused by instances: "
                + BAD_DIM_REASON + "$");
        assertThat(list).containsPattern("(?m)^\\s+tiny-clip-test\\s+fits-v1\\s+64\\s");
        assertThat(list).doesNotContainPattern("(?m)^\\*\\s+tiny-clip-test");
        assertThat(list).containsPattern("(?m)^\\*\\s+other-model\\s+other-v1\\s+64\\s");

        Run run = head("activate", "bad-dim");
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).contains("head activate: head bad-dim of model tiny-clip-test does not fit the backbone in "
                + Path.of("models", "tiny-clip-test") + ": " + BAD_DIM_REASON).endsWith("Not activated.\n");

        run = head("activate", "fits-v1");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(catalog().activeVersion("tiny-clip-test")).hasValue("fits-v1");
        list = head("list").out();
        assertThat(list).containsPattern("(?m)^\\*\\s+tiny-clip-test\\s+fits-v1\\s+64\\s");
        assertThat(list).containsPattern("(?m)^\\s+tiny-clip-test\\s+bad-dim\\s+10\\s+.*does not fit, an activation would be"
                + " refused: " + BAD_DIM_REASON + "$");
    }

    @Test
    @Order(6)
    void aFileThatIsNotAHeadNamesTheField() throws Exception {
        Path noBias = headFile("no-bias", 64, j -> j.remove("bias"));
        Run run = head("publish", "--file", noBias.toString());
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).startsWith("head publish: " + noBias + " is not a head file: field 'bias' is missing (a number)."
                + " A head file is {\"format\": \"clipguard-head/v1\"").doesNotContain("DeserializationFeature");

        Path notJson = Files.writeString(tmp.resolve("notes.txt"), "bias = 0.5\n");
        run = head("publish", "--file", notJson.toString());
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.err()).startsWith("head publish: " + notJson + " is not a head file: it is not valid JSON (line 1");
    }

    private static HeadCatalog catalog() {
        return new HeadCatalog(kafka.broker().bootstrapServers(), kafka.registry().url(), TOPIC);
    }

    /** The tiny model's head with another version, its first {@code dim} weights, and {@code edit} applied. */
    private static Path headFile(String version, int dim, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode head = (ObjectNode) JSON.readTree(TestModels.TINY.resolve("head.json").toFile());
        ArrayNode weights = JSON.createArrayNode();
        for (int i = 0; i < dim; i++) {
            weights.add(head.get("weights").get(i % 64).asDouble());
        }
        head.set("weights", weights);
        head.put("version", version);
        edit.accept(head);
        Path file = tmp.resolve(version + ".json");
        JSON.writeValue(file.toFile(), head);
        return file;
    }

    /** Runs {@code tools/clipguard head ARGS} against this test's broker, registry and topic. */
    private static Run head(String... args) {
        List<String> all = new ArrayList<>(List.of("head"));
        all.addAll(List.of(args));
        all.addAll(List.of("--bootstrap-servers", kafka.broker().bootstrapServers(), "--registry-url", kafka.registry().url(),
                "--heads-topic", TOPIC));
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(stdout, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(stderr, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            exit = ClipguardCli.commandLine().execute(all.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        Run run = new Run(exit, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
        out.print(run.out());
        err.print(run.err());
        return run;
    }
}

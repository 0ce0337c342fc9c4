package io.clipguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayInputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;

/**
 * The console in a real browser (Debian's headless Chromium through chromedriver), as a moderator uses it, against a
 * real broker and registry: log in, filter the queue, open an upload with the keyboard, see its image, decide with a
 * key, move on with another, and see the dashboard count the decision, which a consumer then reads from
 * moderation-decisions. Screenshots of the login, the queue, an upload and the dashboard go to target/console-screenshots/.
 * Skipped without chromium and chromedriver, unless CLIPGUARD_BROWSER_TESTS=required.
 */
@ExtendWith(Chromium.IfInstalled.class) // first: a skipped class starts neither Quarkus nor the broker
@QuarkusTest
@QuarkusTestResource(value = ConsoleTestResources.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {
    static final Path SCREENSHOTS = Path.of("target/console-screenshots");
    static final String UPLOADER = "studio-7";
    static final String OTHER_UPLOADER = "night-owl";

    @TestHTTPResource("/")
    URL root;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "clipguard.registry.url")
    String registryUrl;

    final String run = TestClients.newId().substring(0, 8);
    final String portrait = "up-" + run + "-portrait";
    final String flower = "up-" + run + "-flower";
    final String harbour = "up-" + run + "-harbour";
    final Map<String, String> images = Map.of(portrait, "grace_hopper.jpg", flower, "flower.jpg", harbour, "china.jpg");
    ChromeDriver browser;

    /**
     * Three uploads with their images, verdicts and high-score alerts (alert threshold 0.6): two of studio-7 at 0.97 and
     * 0.93, one of night-owl at 0.64, and studio-7's burst alert over its two.
     */
    @BeforeAll
    void writeAlertsAndStartTheBrowser() throws Exception {
        for (var upload : List.of(Map.entry(harbour, 0.64), Map.entry(flower, 0.93), Map.entry(portrait, 0.97))) {
            String id = upload.getKey();
            ConsoleTestResources.writeAlertedUpload(bootstrap, registryUrl, id,
                    id.equals(harbour) ? OTHER_UPLOADER : UPLOADER, image(id), upload.getValue(), 0.6);
        }
        Instant window = Instant.now().truncatedTo(ChronoUnit.HOURS);
        UploaderBurstAlert burst = UploaderBurstAlert.newBuilder().setUploaderId(UPLOADER).setCount(2).setWindowStart(window)
                .setWindowEnd(window.plus(1, ChronoUnit.HOURS)).setUploadIds(List.of(flower, portrait)).setBurstCount(2)
                .setProbabilityThreshold(0.6).setVerdictTopic(Topics.VERDICTS).build();
        var bursts = Topics.burstAlerts(Topics.BURST_ALERTS, new OutputSchemas(registryUrl));
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrap, "acks", "all"),
                new StringSerializer(), bursts.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.BURST_ALERTS, UPLOADER, burst)).get();
        }
        Files.createDirectories(SCREENSHOTS);
        browser = Chromium.start(1440, 1000);
    }

    @AfterAll
    void quitTheBrowser() {
        if (browser != null) browser.quit(); // ends chromium and stops chromedriver
    }

    private byte[] image(String uploadId) throws Exception {
        return Files.readAllBytes(Path.of("src/test/resources/golden/images", images.get(uploadId)));
    }

    @Test
    void aModeratorFiltersOpensAnUploadDecidesByKeyAndSeesItCounted() throws Exception {
        // Every page needs a login: the queue's address lands on the login form.
        browser.get(root + "console");
        assertThat(browser.getCurrentUrl()).endsWith("/login");
        screenshot("login");
        browser.findElement(By.id("username")).sendKeys("alice");
        browser.findElement(By.id("password")).sendKeys(ConsoleTestResources.PASSWORD);
        browser.findElement(By.id("login")).click();
        // Back to the page asked for (a click does not wait for the navigation it starts).
        Waits.await("the queue after logging in").until(browser::getCurrentUrl, url -> url.endsWith("/console"));

        // The queue, once the console's stores hold the three alerts and the burst: newest first.
        Waits.await("the three alerts and the burst in the queue").until(() -> {
            browser.navigate().refresh();
            return browser.findElements(By.cssSelector("#queue tbody tr.alert, #queue tbody tr.burst")).size();
        }, n -> n == 4);
        assertThat(queueUploadIds()).containsExactly(portrait, flower, harbour);
        assertThat(browser.findElement(By.cssSelector("#queue tr.burst")).getText()).contains(UPLOADER).contains(flower);
        screenshot("queue");

        int confirmedBefore = dashboardCell("confirmed");
        assertThat(dashboardCell("raised")).isEqualTo(3);
        browser.get(root + "console");

        // Filter: not reviewed yet, p(AI) from 0.9. night-owl's 0.64 and the burst (no score of its own) drop out.
        new Select(browser.findElement(By.id("filter-reviewed"))).selectByValue("no");
        browser.findElement(By.name("pmin")).sendKeys("0.9");
        browser.findElement(By.id("apply")).click();
        awaitUrl("pmin=0.9");
        assertThat(browser.getCurrentUrl()).contains("reviewed=no");
        assertThat(queueUploadIds()).containsExactly(portrait, flower);
        assertThat(browser.findElements(By.cssSelector("#queue tr.burst"))).isEmpty();
        screenshot("queue-filtered");

        // o opens the first upload to review, keeping the filters for "next".
        keys("o");
        awaitUrl("/console/uploads/" + portrait);
        assertThat(browser.getCurrentUrl()).contains("pmin=0.9");
        assertThat(browser.findElement(By.id("uploader")).getText()).isEqualTo(UPLOADER);
        assertThat(browser.findElement(By.id("probability")).getText()).isEqualTo("0.9700");
        // The image is the upload's own, decoded by the browser: its natural width is the JPEG's.
        int width = ImageIO.read(new ByteArrayInputStream(image(portrait))).getWidth();
        assertThat(Waits.await("the upload's image decoded").until(() -> naturalWidth("upload-image"), w -> w != 0))
                .isEqualTo(width);
        screenshot("upload");

        // A generator name, Escape to leave the field, then a: AI-generated. The page after it shows what was saved.
        WebElement generator = browser.findElement(By.id("generator"));
        generator.sendKeys("NewGen 9");
        generator.sendKeys(Keys.ESCAPE);
        keys("a");
        awaitUrl("saved=");
        WebElement saved = Waits.await("the saved decision").until(() -> browser.findElements(By.id("saved")), l -> !l.isEmpty()).get(0);
        assertThat(saved.getText()).startsWith("Saved: AI-generated by alice.");
        assertThat(browser.getCurrentUrl()).contains("/console/uploads/" + portrait).contains("pmin=0.9");
        assertThat(browser.findElement(By.id("history")).getText()).contains("NewGen 9").contains("alice");
        screenshot("upload-saved");

        // n: the next upload of the filtered queue.
        keys("n");
        awaitUrl("/console/uploads/" + flower);

        // The dashboard counts the decision: reviewed and confirmed moved by one for head-v2.
        assertThat(Waits.await("the dashboard counting the decision").until(() -> dashboardCell("confirmed"),
                n -> n == confirmedBefore + 1)).isEqualTo(1);
        assertThat(dashboardCell("reviewed")).isEqualTo(1);
        assertThat(browser.findElement(By.cssSelector("#generators")).getText()).contains("NewGen 9");
        screenshot("dashboard");
        browser.get(root + "console");
        assertThat(browser.findElement(By.cssSelector("#queue tr.reviewed")).getText()).contains(portrait).contains("AI-generated alice");
        screenshot("queue-after");

        // And the decision is on moderation-decisions, once, with who made it.
        List<ModerationDecision> onTopic = TestClients.readCommitted(bootstrap, Topics.DECISIONS,
                        TestClients.<ModerationDecision>avroReader(registryUrl), got -> !got.isEmpty(), Duration.ofSeconds(30))
                .stream().map(r -> r.value()).toList();
        assertThat(onTopic).hasSize(1);
        ModerationDecision d = onTopic.get(0);
        assertThat(d.getUploadId()).isEqualTo(portrait);
        assertThat(d.getDecision()).isEqualTo(DecisionLabel.AI_GENERATED);
        assertThat(d.getGenerator()).isEqualTo("NewGen 9");
        assertThat(d.getReviewer()).isEqualTo("alice");
        assertThat(d.getHeadVersion()).isEqualTo("head-v2");
        assertThat(d.getAlertKind()).isEqualTo("high-score");
    }

    /** Until the browser is at an address containing {@code part} (keys start navigations that end on their own). */
    private void awaitUrl(String part) {
        Waits.await("the browser at " + part).until(browser::getCurrentUrl, url -> url.contains(part));
    }

    /** The upload ids of the queue's high-score rows, top to bottom. */
    private List<String> queueUploadIds() {
        return browser.findElements(By.cssSelector("#queue tr.alert a.open")).stream().map(WebElement::getText).toList();
    }

    /** The dashboard's {@code column} (raised, reviewed, confirmed) for tiny-clip-test / head-v2, freshly loaded. */
    private int dashboardCell(String column) {
        browser.get(root + "console/dashboard");
        return Integer.parseInt(browser.findElement(By.cssSelector("#heads tbody tr td.num." + column)).getText().strip());
    }

    /** Keys typed as a moderator types them: to whatever has the focus (the page, after Escape left a field). */
    private void keys(String keys) {
        new Actions(browser).sendKeys(keys).perform();
    }

    /** The image element's naturalWidth once it has loaded (0 while loading, or when it could not be decoded). */
    private int naturalWidth(String id) {
        Object w = ((JavascriptExecutor) browser).executeScript(
                "const i = document.getElementById(arguments[0]); return i.complete ? i.naturalWidth : 0;", id);
        return ((Number) w).intValue();
    }

    private void screenshot(String name) throws Exception {
        Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}

package io.clipguard.streams.alerting;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.ModerationTopology;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.DrivenTopology;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.TestClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploader bursts through the topology under the TopologyTestDriver (real engine, model, images and registry; no
 * broker): K high-score verdicts of one uploader in one window raise one alert, K-1 raise none, K spread over K
 * windows raise none, more in the same window raise no second one, and the next window counts afresh. Windows follow
 * the upload records' timestamps, which the test sets hours apart, so the outcome does not depend on any clock.
 */
class BurstAlertTest {
    static final int K = 3;
    static final Duration W = Duration.ofHours(1);

    @TempDir
    Path tmp;

    record Upload(String id, String uploader, Instant at, byte[] image) {}

    @Test
    void kHighScoresOfOneUploaderInOneWindowRaiseOneAlert() throws Exception {
        Path images = Path.of("src/test/resources/golden/images");
        List<byte[]> candidates = new ArrayList<>();
        for (String name : List.of("china.jpg", "flower.jpg", "grace_hopper.jpg", "rgb_640x427.png")) {
            candidates.add(Files.readAllBytes(images.resolve(name)));
        }
        try (ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            // Two real images the tiny model scores apart; the burst threshold sits between them.
            double[] p;
            try (ScoringEngine engine = ScoringEngine.open(EngineConfig.builder(ModerationPipeline.TINY_MODEL).device(Device.AUTO).build())) {
                p = engine.scoreAll(candidates).stream().mapToDouble(o -> ((ScoreOutcome.Scored) o).probability()).toArray();
            }
            int hi = 0;
            int lo = 0;
            for (int i = 1; i < p.length; i++) {
                hi = p[i] > p[hi] ? i : hi;
                lo = p[i] < p[lo] ? i : lo;
            }
            assertThat(p[hi]).as("the tiny model scores the images apart").isGreaterThan(p[lo]);
            byte[] high = candidates.get(hi);
            byte[] low = candidates.get(lo);
            double threshold = (p[hi] + p[lo]) / 2;

            // Max 2 ids listed of the K = 3 counted; grace of a whole window: uploads are sent in timestamp order anyway.
            BurstAlerting.Settings burst = new BurstAlerting.Settings(K, W, threshold, 2, W);
            ModerationTopology.Settings s = ModerationPipeline.settings("-burst", 8, Duration.ofMillis(50), 2.0, burst);
            // Window-aligned, a few hours back.
            Instant t0 = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(4));
            List<Upload> uploads = new ArrayList<>(List.of(
                    // alice: K in window 1 -> one alert; a 4th in the same window -> no second alert
                    new Upload("a1", "alice", t0.plusSeconds(60), high),
                    new Upload("a2", "alice", t0.plusSeconds(120), high),
                    new Upload("a3", "alice", t0.plusSeconds(180), high),
                    new Upload("a4", "alice", t0.plusSeconds(240), high),
                    // bob: K-1 high scores in window 1 -> none
                    new Upload("b1", "bob", t0.plusSeconds(300), high),
                    new Upload("b2", "bob", t0.plusSeconds(360), high),
                    // carol: K uploads in window 1, but low scores -> none
                    new Upload("c1", "carol", t0.plusSeconds(400), low),
                    new Upload("c2", "carol", t0.plusSeconds(410), low),
                    new Upload("c3", "carol", t0.plusSeconds(420), low),
                    // dave: K high scores, one per window -> none
                    new Upload("d1", "dave", t0.plusSeconds(1000), high),
                    new Upload("d2", "dave", t0.plus(W).plusSeconds(1000), high),
                    new Upload("d3", "dave", t0.plus(W.multipliedBy(2)).plusSeconds(1000), high),
                    // alice again in window 2: counted afresh -> a second alert, for window 2
                    new Upload("a5", "alice", t0.plus(W).plusSeconds(60), high),
                    new Upload("a6", "alice", t0.plus(W).plusSeconds(61), high),
                    new Upload("a7", "alice", t0.plus(W).plusSeconds(62), high),
                    // zed: K in window 4
                    new Upload("z1", "zed", t0.plus(W.multipliedBy(3)).plusSeconds(1), high),
                    new Upload("z2", "zed", t0.plus(W.multipliedBy(3)).plusSeconds(2), high),
                    new Upload("z3", "zed", t0.plus(W.multipliedBy(3)).plusSeconds(3), high)));
            uploads.sort(Comparator.comparing(Upload::at));

            try (DrivenTopology topology = new DrivenTopology(registry.url(), s, List.of(), tmp.resolve("state"))) {
                for (Upload u : uploads) {
                    topology.upload(ImageUploaded.newBuilder(TestClients.inline(u.id(), u.image()))
                            .setUploaderId(u.uploader()).setUploadedAt(u.at()).build(), u.at());
                }
                topology.flushWaitingBatch(); // the last, partial batch of 8

                List<TestRecord<String, ModerationVerdict>> verdicts = topology.verdicts();
                assertThat(verdicts).hasSize(uploads.size());
                assertThat(verdicts).filteredOn(r -> r.value().getUploaderId().equals("carol"))
                        .allSatisfy(r -> assertThat(r.value().getProbability()).isLessThan(threshold));

                List<TestRecord<String, UploaderBurstAlert>> alerts = topology.burstAlerts();
                assertThat(alerts).extracting(r -> r.value().getUploaderId() + " " + r.value().getUploadIds() + " "
                                + r.value().getWindowStart() + ".." + r.value().getWindowEnd())
                        .containsExactly(
                                "alice [a1, a2] " + t0 + ".." + t0.plus(W),
                                "alice [a5, a6] " + t0.plus(W) + ".." + t0.plus(W.multipliedBy(2)),
                                "zed [z1, z2] " + t0.plus(W.multipliedBy(3)) + ".." + t0.plus(W.multipliedBy(4)));
                UploaderBurstAlert first = alerts.getFirst().value();
                assertThat(first.getCount()).isEqualTo(K);
                assertThat(first.getBurstCount()).isEqualTo(K);
                assertThat(first.getProbabilityThreshold()).isEqualTo(threshold);
                assertThat(first.getVerdictTopic()).isEqualTo(s.topics().verdicts());
                assertThat(alerts.getFirst().key()).isEqualTo("alice");
                // Raised when the K-th verdict came (a3 at t0 + 180 s), not when the window closed.
                assertThat(alerts.getFirst().timestamp()).isEqualTo(t0.plusSeconds(180).toEpochMilli());
                assertThat(topology.parts().counted("clipguard.burst.alerts")).isEqualTo(3);
            }
        }
    }
}

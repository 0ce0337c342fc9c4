package io.clipguard.console.store;

import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.UploaderBurstAlert;
import java.time.Instant;

/** One queue line: a high-score alert (with the latest decision on its upload, if any) or a burst alert. */
public record QueueRow(Instant raisedAt, HighScoreAlert alert, ModerationDecision decision, UploaderBurstAlert burst) {
    public boolean isBurst() {
        return burst != null;
    }

    public String uploaderId() {
        return isBurst() ? burst.getUploaderId() : alert.getUploaderId();
    }
}

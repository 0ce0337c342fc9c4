package io.clipguard.streams.lifecycle;

import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.moderation.UploadScorer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class StreamThreadFailurePolicyTest {
    final List<String> fatal = new ArrayList<>();
    final AtomicLong clock = new AtomicLong();
    final StreamThreadFailurePolicy policy = new StreamThreadFailurePolicy(fatal::add, clock::get);

    @Test
    void transientErrorsReplaceTheThreadFatalOnesShutTheClientDownWithTheReason() {
        assertThat(policy.handle(new StreamsException(new TimeoutException("broker restarting")))).isEqualTo(REPLACE_THREAD);
        assertThat(policy.handle(new StreamsException(new UploadScorer.EngineUnavailableException("device lost"))))
                .isEqualTo(REPLACE_THREAD);
        // Seen in tools/soak-lifecycle after the broker was killed and restarted mid-transaction.
        assertThat(policy.handle(new StreamsException("Error encountered trying to commit a transaction",
                new org.apache.kafka.common.errors.InvalidTxnStateException("invalid state")))).isEqualTo(REPLACE_THREAD);
        assertThat(fatal).isEmpty();

        assertThat(policy.handle(new MissingSourceTopicException("image-uploads is gone"))).isEqualTo(SHUTDOWN_CLIENT);
        assertThat(policy.handle(new StreamsException("Existing internal topic x-changelog has invalid partitions: expected: 4; actual: 1")))
                .isEqualTo(SHUTDOWN_CLIENT);
        assertThat(policy.handle(new StreamsException(new NullPointerException("bug")))).isEqualTo(SHUTDOWN_CLIENT);
        assertThat(fatal).hasSize(3);
        assertThat(fatal.get(0)).contains("fatal").contains("image-uploads is gone");
        assertThat(fatal.get(2)).contains("NullPointerException: bug");
    }

    @Test
    void aTransientErrorThatKeepsComingIsFatalOnceTheReplacementBudgetIsSpent() {
        for (int i = 0; i < StreamThreadFailurePolicy.MAX_REPLACEMENTS; i++) {
            assertThat(policy.handle(new StreamsException(new TimeoutException("t" + i)))).isEqualTo(REPLACE_THREAD);
        }
        assertThat(policy.handle(new StreamsException(new TimeoutException("again")))).isEqualTo(SHUTDOWN_CLIENT);
        assertThat(fatal).singleElement().asString().contains("more than " + StreamThreadFailurePolicy.MAX_REPLACEMENTS);

        // Replacements older than the window no longer count.
        clock.addAndGet(StreamThreadFailurePolicy.WINDOW.toNanos() + 1);
        assertThat(policy.handle(new StreamsException(new TimeoutException("later")))).isEqualTo(REPLACE_THREAD);
    }
}

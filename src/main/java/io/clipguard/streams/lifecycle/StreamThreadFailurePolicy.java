package io.clipguard.streams.lifecycle;

import io.clipguard.model.ModelLoadException;
import io.clipguard.moderation.UploadScorer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.apache.kafka.common.errors.UnknownProducerIdException;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.errors.TopologyException;
import org.jboss.logging.Logger;

/**
 * What happens when a stream thread dies (Kafka Streams asks its uncaught-exception handler; the Quarkus extension
 * installs this bean as that handler):
 * <ul>
 *   <li><b>transient</b> — a retriable Kafka error (timeouts, leader changes, a broker restarting), a transaction-state
 *       error that a broker crash leaves behind (invalid transaction state, fenced or unknown producer, old epoch: seen
 *       in tools/soak-lifecycle after a broker was killed), an I/O error, or the inference engine being unavailable:
 *       the thread is replaced (REPLACE_THREAD). Exactly-once makes this safe: the replacement's producer fences the
 *       dead thread's, whose open transaction aborts, and its uploads are consumed again. At most
 *       {@value #MAX_REPLACEMENTS} replacements per {@link #WINDOW}: a "transient" error that keeps coming is not;</li>
 *   <li><b>fatal</b> — everything else, in particular missing source topics, topic/partition mismatches (Kafka
 *       Streams' internal topic validation), topology errors, a model that cannot load, JVM errors, and unknown
 *       exceptions (most likely a bug that would fail again on the same record): the whole client shuts down
 *       (SHUTDOWN_CLIENT), liveness turns DOWN with the reason, and the orchestrator restarts the instance.</li>
 * </ul>
 */
@ApplicationScoped
public class StreamThreadFailurePolicy implements StreamsUncaughtExceptionHandler {
    static final int MAX_REPLACEMENTS = 10;
    static final Duration WINDOW = Duration.ofMinutes(5);
    private static final Logger LOG = Logger.getLogger(StreamThreadFailurePolicy.class);

    /** What a transactional producer meets after its broker (transaction coordinator) crashed and came back. */
    private static final java.util.List<Class<? extends Throwable>> TRANSACTION_STATE = java.util.List.of(
            InvalidTxnStateException.class, InvalidProducerEpochException.class, ProducerFencedException.class,
            UnknownProducerIdException.class, OutOfOrderSequenceException.class, TransactionAbortedException.class,
            InvalidPidMappingException.class);

    private final Consumer<String> onFatal;
    private final LongSupplier nanoClock;
    private final Deque<Long> replacements = new ArrayDeque<>();

    @Inject
    public StreamThreadFailurePolicy(LifecycleStatus status) {
        this(status::fail, System::nanoTime);
    }

    /** @param onFatal told the reason when the client is shut down */
    public StreamThreadFailurePolicy(Consumer<String> onFatal, LongSupplier nanoClock) {
        this.onFatal = onFatal;
        this.nanoClock = nanoClock;
    }

    @Override
    public synchronized StreamThreadExceptionResponse handle(Throwable exception) {
        long now = nanoClock.getAsLong();
        while (!replacements.isEmpty() && now - replacements.peekFirst() > WINDOW.toNanos()) {
            replacements.removeFirst();
        }
        if (isTransient(exception) && replacements.size() < MAX_REPLACEMENTS) {
            replacements.addLast(now);
            LOG.warnf(exception, "a stream thread died of a transient error; replacing it (%d of at most %d replacements in %s)",
                    replacements.size(), MAX_REPLACEMENTS, WINDOW);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        String reason = (isTransient(exception) ? "more than " + MAX_REPLACEMENTS + " stream threads died within " + WINDOW
                + ", the last of: " : "a stream thread died of a fatal error: ") + describe(exception);
        LOG.errorf(exception, "%s; shutting Kafka Streams down (liveness is DOWN: restart this instance)", reason);
        onFatal.accept(reason);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    /** Transient: a known-retriable cause, and no known-fatal one, anywhere in the cause chain. */
    static boolean isTransient(Throwable exception) {
        boolean retriable = false;
        for (Throwable t = exception; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof MissingSourceTopicException || t instanceof TopologyException || t instanceof ModelLoadException
                    || t instanceof Error) {
                return false;
            }
            retriable |= t instanceof RetriableException || isTransactionState(t)
                    || t instanceof IOException
                    || t instanceof java.util.concurrent.TimeoutException || t instanceof UploadScorer.EngineUnavailableException;
        }
        return retriable;
    }

    private static boolean isTransactionState(Throwable t) {
        return TRANSACTION_STATE.stream().anyMatch(c -> c.isInstance(t));
    }

    private static String describe(Throwable exception) {
        Throwable root = exception;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == exception ? String.valueOf(exception) : exception + " (caused by " + root + ")";
    }
}

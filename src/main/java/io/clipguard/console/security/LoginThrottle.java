package io.clipguard.console.security;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Refuses logins for a user name or from a client address that failed {@code maxFailures} times within
 * {@code window}, until the oldest of those failures leaves the window; such a refusal does not even check the
 * password, so guessing is capped at maxFailures per window per name and per address.
 */
public final class LoginThrottle {
    private final int maxFailures;
    private final Duration window;
    private final Clock clock;
    private final ConcurrentHashMap<String, Deque<Long>> failures = new ConcurrentHashMap<>();

    public LoginThrottle(int maxFailures, Duration window, Clock clock) {
        this.maxFailures = maxFailures;
        this.window = window;
        this.clock = clock;
    }

    /** Whether any of these keys (e.g. "user:alice", "addr:10.0.0.1") is locked out now. */
    public boolean locked(String... keys) {
        long now = clock.millis();
        for (String key : keys) {
            Deque<Long> times = failures.get(key);
            if (times != null) {
                synchronized (times) {
                    prune(times, now);
                    if (times.size() >= maxFailures) return true;
                }
            }
        }
        return false;
    }

    public void failed(String... keys) {
        long now = clock.millis();
        if (failures.size() > 100_000) {
            failures.clear(); // bounded memory under a spray of names; the cap still holds per window for live keys
        }
        for (String key : keys) {
            Deque<Long> times = failures.computeIfAbsent(key, k -> new ArrayDeque<>());
            synchronized (times) {
                prune(times, now);
                times.addLast(now);
            }
        }
    }

    public void succeeded(String key) {
        failures.remove(key);
    }

    private void prune(Deque<Long> times, long now) {
        while (!times.isEmpty() && times.peekFirst() <= now - window.toMillis()) times.removeFirst();
    }
}

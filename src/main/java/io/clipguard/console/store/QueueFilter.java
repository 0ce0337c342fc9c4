package io.clipguard.console.store;

import io.clipguard.avro.DecisionLabel;

/**
 * What the queue shows. Null means "any". Burst alerts carry no score, head or decision of their own, so they appear
 * only while no filter other than {@code kind} and {@code uploaderId} is set.
 *
 * @param kind        which alerts: both (null), high-score only or burst only
 * @param decision    the latest decision's label (implies reviewed)
 * @param reviewed    true: only uploads with a decision; false: only those without one
 */
public record QueueFilter(Kind kind, String headVersion, String modelId, String uploaderId, DecisionLabel decision,
                          Boolean reviewed, Double minProbability, Double maxProbability) {
    public static final QueueFilter ALL = new QueueFilter(null, null, null, null, null, null, null, null);

    public enum Kind { HIGH_SCORE, BURST }

    boolean wantsHighScore() {
        return kind != Kind.BURST;
    }

    boolean wantsBursts() {
        return kind != Kind.HIGH_SCORE && headVersion == null && modelId == null && decision == null && reviewed == null
                && minProbability == null && maxProbability == null;
    }
}

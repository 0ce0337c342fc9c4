package io.clipguard.console.store;

import java.util.List;

/**
 * Alert precision per head version (alerts raised; reviewed = decided AI-generated or real, unsure left out;
 * confirmed = AI-generated; precision = confirmed / reviewed) and, per generator name, how many uploads moderators
 * confirmed as that generator and how many of those the detector had alerted on (the detection share: a new generator
 * slipping through shows as a low share).
 */
public record Dashboard(List<HeadRow> heads, List<GeneratorRow> generators) {
    public record HeadRow(String modelId, String headVersion, long raised, long reviewed, long confirmed, long unsure,
                          Precision precision) {}

    public record GeneratorRow(String generator, long confirmed, long alerted, Precision detected) {}
}

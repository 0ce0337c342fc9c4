package io.clipguard.scoring;

/**
 * What a running engine serves, for logs, health endpoints and output metadata.
 *
 * @param device "CUDA:0" or "CPU": where inference actually runs (after any AUTO fallback)
 */
public record EngineInfo(String modelId, String headVersion, double threshold, String device, int featureDim,
                         int maxBatchSize) {}

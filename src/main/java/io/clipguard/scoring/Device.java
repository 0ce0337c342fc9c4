package io.clipguard.scoring;

/** Where inference runs. */
public enum Device {
    /** CUDA when its execution provider loads, else CPU (one log line says why). */
    AUTO,
    /** CUDA or fail at startup with the reason. */
    CUDA,
    /** CPU only. */
    CPU
}

package io.clipguard.inference;

/** Where inference runs. */
public enum Device {
    /**
     * CUDA when its execution provider loads, else CPU (one log line says why). Trying CUDA makes ONNX Runtime extract
     * its ~370 MB CUDA provider library to the temp folder at startup: use {@link #CPU} on hosts known to have no GPU.
     */
    AUTO,
    /** CUDA or fail at startup with the reason. */
    CUDA,
    /** CPU only. */
    CPU
}

/**
 * Image impairments for robustness reports ("laundering": re-compression, resizing, cropping, blur, what sharing
 * platforms do, the DMimageDetection test operations), each pixel-identical to the Pillow 9.4 call its documentation
 * names, parsed from a small spec syntax ({@code jpeg:70}, {@code resize:0.5+jpeg:70}, ...).
 *
 * <p>Imports only the JDK (jdk.incubator.vector too, in PanamaBoxBlurPasses only) and {@code io.clipguard.image}
 * (decoding, PIL's resampler, the JPEG/WebP encoders). Knows nothing of models, Kafka, topics or the command line.
 */
package io.clipguard.image.impair;

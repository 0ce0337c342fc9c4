/**
 * Image decoding and CLIP preprocessing: encoded bytes to the normalised 224x224 tensor, PIL-faithful (same pixels as
 * the reference's PIL + torchvision), with sizes checked and the decode budget taken before allocation.
 *
 * <p>Imports only the JDK (jdk.incubator.vector too, in PanamaResamplePasses and PanamaSpecies only), ImageIO readers and OpenCV. Knows
 * nothing of models, Kafka or topics.
 */
package io.clipguard.image;

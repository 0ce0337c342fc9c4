/**
 * Features folders ({@code .npy}) and the LIBLINEAR head trainer with cross-validation and Platt scaling.
 *
 * <p>May import {@code evaluation} and {@code model}.
 */
package io.clipguard.training;

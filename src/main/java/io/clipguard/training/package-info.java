/**
 * Features folders ({@code .npy}) and the head trainer (LIBLINEAR's solvers over dense rows) with cross-validation
 * and Platt scaling.
 *
 * <p>May import {@code evaluation} and {@code model}.
 */
package io.clipguard.training;

/**
 * Detection metrics (AUC, balanced accuracy, TPR at fixed FPR) and their charts.
 *
 * <p>Imports nothing of this project.
 */
package io.clipguard.evaluation;

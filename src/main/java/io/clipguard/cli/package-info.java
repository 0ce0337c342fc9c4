/**
 * {@code tools/clipguard}: the root command and the offline commands ({@code score}, {@code embed}, {@code train},
 * {@code evaluate}, {@code verify-model}).
 *
 * <p>The top of the command line: may import {@code cli.kafka}, {@code cli.options} and the library packages.
 */
package io.clipguard.cli;

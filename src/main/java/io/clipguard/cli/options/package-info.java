/**
 * Options and output helpers shared by the offline and the Kafka commands (decode options, fusion options, progress display).
 *
 * <p>Imports no other command package.
 */
package io.clipguard.cli.options;

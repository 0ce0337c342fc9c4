/**
 * The moderators' console (docs/console.md): server-rendered pages over the alerts and verdicts (the queue, an upload
 * with its image, the dashboard), decisions written to {@code moderation-decisions}, and the console's own Kafka
 * Streams instance whose global state stores are the pages' read model. A role of the service, switched on by
 * {@code clipguard.console.enabled}. Subpackages: {@code store} (the read model: key layouts, indexers, queries) and
 * {@code security} (users file, bcrypt, login throttling).
 *
 * <p>May import {@code contracts}, {@code fetch}, {@code image} (format sniffing only) and the Avro classes; nothing
 * of the scoring service ({@code streams}). Only the console (and the command line's {@code console-user}) imports it.
 */
package io.clipguard.console;

/**
 * The console's read model: global state stores built by the console's own Kafka Streams instance from
 * moderation-alerts, moderation-burst-alerts, moderation-verdicts and moderation-decisions (every console instance
 * holds all of them, so any instance answers any page), their key layouts (newest first by reverse-timestamp keys) and
 * the queries the pages make (paged with a bounded scan budget).
 *
 * <p>May import {@code contracts} and the Avro classes; nothing else of the project.
 */
package io.clipguard.console.store;

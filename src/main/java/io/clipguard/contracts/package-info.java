/**
 * The data contracts in one home: topic names with their serdes and Avro schemas ({@code Topics}), schema
 * registration ({@code OutputSchemas}), building the output records (verdicts, alerts, embeddings, dead letters:
 * {@code OutputRecords}), the control topic {@code detector-heads} as a catalogue
 * ({@code HeadCatalog}) and bounded topic reads ({@code TopicScan}). Used by the topology, the CLI's Kafka commands,
 * the config and the tests.
 *
 * <p>May import {@code model}, {@code scoring} and the generated Avro classes; nothing that uses it.
 */
package io.clipguard.contracts;

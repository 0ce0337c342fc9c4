// A third-party consumer (kafkajs, default codecs only: none and gzip): reads <topic> from the beginning until
// <count> records came, decodes each through the registry (Confluent wire format) and prints them as a JSON array.
// Works on any of clipguard's Avro topics, e.g. moderation-verdicts after the service or after `rescore`.
// Usage: node consume.js <brokers> <ccompat url> <topic> <count> [timeout ms, default 60000]
// Exits non-zero when fewer came in time, or a record cannot be read (an unsupported codec, an unknown schema).
'use strict';
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

const [brokers, registryUrl, topic, countArg, timeoutArg] = process.argv.slice(2);
const count = Number(countArg);
const timeoutMs = Number(timeoutArg || 60_000);

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl });
  const consumer = new Kafka({ clientId: 'clipguard-interop', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
    .consumer({ groupId: `clipguard-interop-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  const records = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(`${records.length} of ${count} records of ${topic} within ${timeoutMs} ms`)),
        timeoutMs).unref();
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          const value = await registry.decode(message.value);
          records.push({ key: message.key && message.key.toString(), partition, offset: message.offset, value });
          if (records.length >= count) resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  // Bytes as base64, not Buffer's {"type":"Buffer","data":[...]}.
  console.log(JSON.stringify(records, (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data)
    ? Buffer.from(v.data).toString('base64') : v)));
}

main().then(() => process.exit(0), (e) => { console.error(`consume.js: ${e.stack || e}`); process.exit(1); });

// A third-party producer (kafkajs + @kafkajs/confluent-schema-registry, default options): registers an .avsc file under
// <topic>-value, looks it up by the file's content, and sends one ImageUploaded with an image inline.
// Usage: node produce-upload.js <brokers> <ccompat url> <avsc file> <topic> <upload id> <image file>
// Prints {"id", "lookedUpId", "partition", "offset"}; exits non-zero on any failure or after 60 s.
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

setTimeout(() => { console.error('produce-upload.js: no result within 60 s'); process.exit(3); }, 60_000).unref();
const [brokers, registryUrl, avscFile, topic, uploadId, imageFile] = process.argv.slice(2);

async function main() {
  const registry = new SchemaRegistry({ host: registryUrl });
  const schema = { type: SchemaType.AVRO, schema: fs.readFileSync(avscFile, 'utf8') };
  const subject = `${topic}-value`;
  const { id } = await registry.register(schema, { subject });
  const lookedUpId = await registry.getRegistryIdBySchema(subject, schema);
  // avsc wraps a union of two records in an object named after the branch's full name.
  const value = await registry.encode(id, {
    uploadId, uploaderId: 'kafkajs', uploadedAt: Date.now(), contentType: null,
    image: { 'io.clipguard.avro.InlineImage': { bytes: fs.readFileSync(imageFile) } },
    attributes: { client: 'kafkajs' },
  });
  const producer = new Kafka({ clientId: 'clipguard-interop', brokers: brokers.split(','), logLevel: logLevel.ERROR })
    .producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const [sent] = await producer.send({ topic, messages: [{ key: uploadId, value }] });
    console.log(JSON.stringify({ id, lookedUpId, partition: sent.partition, offset: sent.baseOffset }));
  } finally {
    await producer.disconnect();
  }
}

main().catch((e) => { console.error(`produce-upload.js: ${e.stack || e}`); process.exit(1); });

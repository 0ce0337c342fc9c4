package io.clipguard.cli.kafka;

import io.clipguard.avro.ImageReference;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.InlineImage;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Publishes every file of a folder as an upload event: image files inline, {@code *.uri} files as references to the
 * URI they contain (a relative {@code file:} URI is resolved against the folder). Example:
 * {@code tools/clipguard publish samples/uploads}.
 */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = "Publish the files of a folder to image-uploads as ImageUploaded events (Avro, registry wire format).")
public final class PublishCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Parameters(index = "0", description = "Folder of images (inline) and *.uri files (by reference).")
    Path folder;

    @Option(names = "--topic", defaultValue = Topics.UPLOADS, description = "Topic (default ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--uploader", defaultValue = "sample-uploader", description = "Uploader id to put in the events.")
    String uploader;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(folder)) {
            System.err.println("not a folder: " + folder);
            return 2;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.DEFAULT_MAX_RECORD_BYTES); // the service reads no larger
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        var uploads = Topics.uploads(topic, new OutputSchemas(kafka.registryUrl));
        try (KafkaProducer<String, ImageUploaded> producer = new KafkaProducer<>(props, uploads.keySerde().serializer(),
                uploads.valueSerde().serializer())) {
            for (Path file : files) {
                String id = file.getFileName() + "-" + UUID.randomUUID().toString().substring(0, 8);
                Object image = file.toString().endsWith(".uri")
                        ? new ImageReference(resolve(Files.readString(file).strip()))
                        : new InlineImage(ByteBuffer.wrap(Files.readAllBytes(file)));
                ImageUploaded event = ImageUploaded.newBuilder().setUploadId(id).setUploaderId(uploader)
                        .setUploadedAt(Instant.now()).setContentType(null).setImage(image)
                        .setAttributes(Map.of("source-file", file.getFileName().toString())).build();
                producer.send(new ProducerRecord<>(topic, id, event)).get();
                System.out.println("published " + id + (image instanceof ImageReference r ? " -> " + r.getUri() : ""));
            }
        }
        return 0;
    }

    private String resolve(String uri) {
        if (uri.startsWith("file:") && !uri.startsWith("file:/")) {
            return folder.toAbsolutePath().resolve(uri.substring("file:".length())).normalize().toUri().toString();
        }
        return uri;
    }
}

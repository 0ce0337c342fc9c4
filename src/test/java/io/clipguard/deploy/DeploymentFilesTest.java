package io.clipguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files cannot be run here (no Docker engine, no cluster), so this checks what can drift from the
 * service: setting names, topics, ports, probe paths, the GPU requests. Reads the files from the repository root.
 */
class DeploymentFilesTest {

    private static final Path ROOT = repositoryRoot();
    private static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    private static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
    private static final Path DOCKERFILE = ROOT.resolve("deploy/Dockerfile");
    private static final Pattern TOPIC_ARGUMENT = Pattern.compile("--topic\\s+(\\S+)");

    private static Properties properties;
    /** Environment-variable name → the application.properties key it overrides. */
    private static Map<String, String> keyByEnvName;

    @BeforeAll
    static void readApplicationProperties() throws IOException {
        properties = new Properties();
        try (Reader reader = Files.newBufferedReader(ROOT.resolve("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        keyByEnvName = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            String previous = keyByEnvName.put(envName(key), key);
            // Two keys with one variable name would make an override ambiguous.
            assertThat(previous).as("keys %s and %s share the variable %s", previous, key, envName(key)).isNull();
        }
    }

    /** SmallRye Config's rule: upper-case, every character other than a letter or digit becomes '_'. */
    private static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    @Test
    void settingNameCheckAcceptsRealKeysOnly() {
        assertThat(keyByEnvName).containsEntry("CLIPGUARD_ENGINE_MAX_BATCH_SIZE", "clipguard.engine.max-batch-size")
                .containsEntry("CLIPGUARD_STATE_DIR", "clipguard.state-dir")
                .containsEntry("KAFKA_BOOTSTRAP_SERVERS", "kafka.bootstrap.servers")
                .doesNotContainKey("CLIPGUARD_ENGINE_MAX_BATCHSIZE")
                .doesNotContainKey("CLIPGUARD_ENGINE_BATCH_SIZE");
        assertThat(unknownSettings(Map.of("CLIPGUARD_ENGINE_MAX_BATCHSIZE", "8", "JAVA_TOOL_OPTIONS", "-Xmx1g")))
                .containsExactly("CLIPGUARD_ENGINE_MAX_BATCHSIZE");
    }

    @Test
    void everyYamlFileParses() throws IOException {
        List<Path> files = yamlFiles();
        assertThat(files).contains(COMPOSE, KUBERNETES.resolve("deployment.yaml"), KUBERNETES.resolve("configmap.yaml"),
                KUBERNETES.resolve("service.yaml"));
        for (Path file : files) {
            List<Object> documents = loadAll(file);
            assertThat(documents).as(file.toString()).isNotEmpty().allSatisfy(d -> assertThat(d).isInstanceOf(Map.class));
        }
    }

    // ---------------------------------------------------------------- docker-compose.yml

    @Test
    void composeServiceSetsOnlyRealSettings() throws IOException {
        Map<String, Object> clipguard = composeService("clipguard");
        Map<String, String> env = environment(clipguard.get("environment"));
        assertThat(env).containsKeys("KAFKA_BOOTSTRAP_SERVERS", "CLIPGUARD_REGISTRY_URL", "CLIPGUARD_ENGINE_MODEL_DIR");
        assertThat(unknownSettings(env)).as("variables that name no application.properties key").isEmpty();
    }

    @Test
    void composeServiceReservesOneNvidiaGpu() throws IOException {
        Map<String, Object> deploy = map(composeService("clipguard").get("deploy"));
        List<Object> devices = list(map(map(deploy.get("resources")).get("reservations")).get("devices"));
        assertThat(devices).singleElement().satisfies(device -> {
            Map<String, Object> d = map(device);
            assertThat(d).containsEntry("driver", "nvidia").containsEntry("count", 1);
            assertThat(list(d.get("capabilities"))).contains("gpu");
        });
    }

    @Test
    void composeCreatesExactlyTheServiceTopicsBeforeTheServiceStarts() throws IOException {
        Map<String, Object> services = map(map(loadAll(COMPOSE).getFirst()).get("services"));
        List<String> creators = services.entrySet().stream()
                .filter(e -> String.valueOf(map(e.getValue()).get("command")).contains("kafka-topics.sh"))
                .map(Map.Entry::getKey).toList();
        assertThat(creators).as("services running kafka-topics.sh").hasSize(1);
        String command = String.valueOf(map(services.get(creators.getFirst())).get("command"));
        assertThat(command).contains("--create");

        Set<String> created = new TreeSet<>();
        Matcher topic = TOPIC_ARGUMENT.matcher(command);
        while (topic.find()) {
            created.add(topic.group(1));
        }
        Set<String> configured = properties.stringPropertyNames().stream().filter(k -> k.startsWith("clipguard.topics."))
                .map(properties::getProperty).collect(Collectors.toCollection(TreeSet::new));
        assertThat(configured).isEqualTo(new TreeSet<>(io.clipguard.contracts.Topics.Names.DEFAULT.all()));
        assertThat(created).isEqualTo(configured);

        Map<String, Object> dependsOn = map(composeService("clipguard").get("depends_on"));
        assertThat(map(dependsOn.get(creators.getFirst()))).containsEntry("condition", "service_completed_successfully");
    }

    @Test
    void composeBrokerServesTheServiceAndItsRecordSize() throws IOException {
        Map<String, String> broker = environment(composeService("kafka").get("environment"));
        String bootstrap = environment(composeService("clipguard").get("environment")).get("KAFKA_BOOTSTRAP_SERVERS");
        List<String> advertised = List.of(broker.get("KAFKA_ADVERTISED_LISTENERS").split(","));
        assertThat(advertised).anySatisfy(listener -> assertThat(listener).endsWith("://" + bootstrap));
        assertThat(Long.parseLong(broker.get("KAFKA_MESSAGE_MAX_BYTES")))
                .isGreaterThanOrEqualTo(Long.parseLong(properties.getProperty("clipguard.max-record-bytes")));
    }

    @Test
    void theServiceRecordLimitIsTheDefaultTheCommandLineUses() {
        // application.properties cannot name the constant, so the number is checked here.
        assertThat(Integer.parseInt(properties.getProperty("clipguard.max-record-bytes")))
                .isEqualTo(io.clipguard.contracts.Topics.DEFAULT_MAX_RECORD_BYTES);
    }

    @Test
    void composeBuildsTheDockerfileWhoseSettingsAndPortMatch() throws IOException {
        Map<String, Object> build = map(composeService("clipguard").get("build"));
        assertThat(ROOT.resolve(String.valueOf(build.get("context"))).resolve(String.valueOf(build.get("dockerfile"))).normalize())
                .isEqualTo(DOCKERFILE).isRegularFile();
        assertThat(String.join(" ", list(map(composeService("clipguard").get("healthcheck")).get("test")).stream()
                .map(String::valueOf).toList())).contains("/q/health/ready");

        // Dockerfile instructions, continuation lines joined.
        List<String> instructions = List.of(Files.readString(DOCKERFILE).replaceAll("\\\\\\r?\\n", " ").split("\\r?\\n"));
        Map<String, String> env = new LinkedHashMap<>();
        Matcher assignment = Pattern.compile("(?:^|\\s)([A-Za-z_][A-Za-z0-9_]*)=").matcher("");
        instructions.stream().filter(line -> line.startsWith("ENV ")).forEach(line -> {
            assignment.reset(line);
            while (assignment.find()) {
                env.put(assignment.group(1), "");
            }
        });
        assertThat(env).containsKeys("CLIPGUARD_ENGINE_MODEL_DIR", "CLIPGUARD_STATE_DIR");
        assertThat(unknownSettings(env)).isEmpty();
        assertThat(instructions).contains("EXPOSE " + properties.getProperty("quarkus.http.port"));
    }

    // ---------------------------------------------------------------- deploy/kubernetes

    @Test
    void configMapSetsOnlyRealSettingsAsStrings() throws IOException {
        Map<String, Object> configMap = kubernetesObject("ConfigMap");
        Map<String, Object> data = map(configMap.get("data"));
        // ConfigMap values must be strings; an unquoted 32 or false is refused by the API server.
        assertThat(data.values()).allSatisfy(v -> assertThat(v).isInstanceOf(String.class));
        Map<String, String> env = data.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> String.valueOf(e.getValue())));
        assertThat(env).containsKeys("KAFKA_BOOTSTRAP_SERVERS", "CLIPGUARD_REGISTRY_URL", "CLIPGUARD_ENGINE_MODEL_DIR",
                "CLIPGUARD_STATE_DIR");
        assertThat(unknownSettings(env)).as("variables that name no application.properties key").isEmpty();
    }

    @Test
    void deploymentRequestsOneGpuAndProbesTheQuarkusHealthEndpoints() throws IOException {
        Map<String, Object> container = container();
        Map<String, Object> resources = map(container.get("resources"));
        assertThat(String.valueOf(map(resources.get("requests")).get("nvidia.com/gpu"))).isEqualTo("1");
        assertThat(String.valueOf(map(resources.get("limits")).get("nvidia.com/gpu"))).isEqualTo("1");

        int httpPort = Integer.parseInt(properties.getProperty("quarkus.http.port"));
        assertThat(probe(container, "livenessProbe")).containsEntry("path", "/q/health/live");
        assertThat(probe(container, "readinessProbe")).containsEntry("path", "/q/health/ready");
        for (String name : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
            if (container.containsKey(name)) {
                assertThat(containerPort(container, probe(container, name).get("port"))).as(name).isEqualTo(httpPort);
            }
        }
        List<String> envFrom = list(container.get("envFrom")).stream()
                .map(e -> String.valueOf(map(map(e).get("configMapRef")).get("name"))).toList();
        assertThat(envFrom).contains(String.valueOf(map(kubernetesObject("ConfigMap").get("metadata")).get("name")));
        Map<String, String> inlineEnv = list(container.getOrDefault("env", List.of())).stream().map(DeploymentFilesTest::map)
                .collect(Collectors.toMap(e -> String.valueOf(e.get("name")), e -> String.valueOf(e.get("value"))));
        assertThat(unknownSettings(inlineEnv)).isEmpty();
    }

    @Test
    void podsAreScrapedWhereQuarkusServesMetrics() throws IOException {
        String metricsPath = properties.getProperty("quarkus.micrometer.export.prometheus.path");
        Map<String, Object> annotations = map(map(podTemplate().get("metadata")).get("annotations"));
        assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", properties.getProperty("quarkus.http.port"))
                .containsEntry("prometheus.io/path", metricsPath);

        Map<String, Object> servicePort = map(list(map(kubernetesObject("Service").get("spec")).get("ports")).getFirst());
        assertThat(containerPort(container(), servicePort.get("targetPort")))
                .isEqualTo(Integer.parseInt(properties.getProperty("quarkus.http.port")));
        Path serviceMonitor = KUBERNETES.resolve("servicemonitor.yaml");
        if (Files.exists(serviceMonitor)) {
            Map<String, Object> endpoint = map(list(map(map(loadAll(serviceMonitor).getFirst()).get("spec")).get("endpoints"))
                    .getFirst());
            assertThat(endpoint).containsEntry("path", metricsPath).containsEntry("port", servicePort.get("name"));
        }
        // The plain Prometheus job: the path Quarkus serves, and the job name the alert rules and dashboard select.
        Map<String, Object> job = map(list(map(loadAll(ROOT.resolve("deploy/prometheus/scrape-config.yml")).getFirst())
                .get("scrape_configs")).getFirst());
        assertThat(job).containsEntry("job_name", "clipguard").containsEntry("metrics_path", metricsPath);
    }

    @Test
    void stateDirIsAnEmptyDirAndTheModelIsMounted() throws IOException {
        Map<String, String> settings = map(kubernetesObject("ConfigMap").get("data")).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> String.valueOf(e.getValue())));
        Map<String, Map<String, Object>> volumes = list(map(podTemplate().get("spec")).get("volumes")).stream().map(DeploymentFilesTest::map)
                .collect(Collectors.toMap(v -> String.valueOf(v.get("name")), v -> v));
        Map<String, String> volumeByMountPath = list(container().get("volumeMounts")).stream().map(DeploymentFilesTest::map)
                .collect(Collectors.toMap(m -> String.valueOf(m.get("mountPath")), m -> String.valueOf(m.get("name"))));

        String stateVolume = volumeByMountPath.get(settings.get("CLIPGUARD_STATE_DIR"));
        assertThat(stateVolume).as("volume mounted at CLIPGUARD_STATE_DIR").isNotNull();
        assertThat(volumes.get(stateVolume)).containsKey("emptyDir");

        String modelDir = settings.get("CLIPGUARD_ENGINE_MODEL_DIR");
        assertThat(volumeByMountPath.keySet()).as("a mount holding " + modelDir)
                .anySatisfy(mountPath -> assertThat(modelDir).startsWith(mountPath + "/"));
    }

    // ---------------------------------------------------------------- helpers

    /** CLIPGUARD_* and KAFKA_* variables (the service's own namespaces) that override no application.properties key. */
    private static List<String> unknownSettings(Map<String, String> env) {
        return env.keySet().stream().filter(name -> name.startsWith("CLIPGUARD_") || name.startsWith("KAFKA_"))
                .filter(name -> !keyByEnvName.containsKey(name)).sorted().toList();
    }

    private static List<Path> yamlFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(COMPOSE);
        try (Stream<Path> deploy = Files.walk(ROOT.resolve("deploy"))) {
            deploy.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().forEach(files::add);
        }
        return files;
    }

    private static List<Object> loadAll(Path file) throws IOException {
        List<Object> documents = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file)) {
            for (Object document : new Yaml().loadAll(reader)) {
                if (document != null) {
                    documents.add(document);
                }
            }
        }
        return documents;
    }

    private static Map<String, Object> composeService(String name) throws IOException {
        Map<String, Object> service = map(map(map(loadAll(COMPOSE).getFirst()).get("services")).get(name));
        assertThat(service).as("compose service " + name).isNotEmpty();
        return service;
    }

    /** Compose accepts environment as a map or as a list of NAME=value. */
    private static Map<String, String> environment(Object environment) {
        Map<String, String> env = new LinkedHashMap<>();
        if (environment instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
        } else if (environment instanceof List<?> l) {
            l.forEach(entry -> {
                String[] nameValue = String.valueOf(entry).split("=", 2);
                env.put(nameValue[0], nameValue.length > 1 ? nameValue[1] : "");
            });
        }
        return env;
    }

    private static Map<String, Object> kubernetesObject(String kind) throws IOException {
        List<Map<String, Object>> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(KUBERNETES)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                loadAll(file).stream().map(DeploymentFilesTest::map).filter(d -> kind.equals(d.get("kind"))).forEach(found::add);
            }
        }
        assertThat(found).as("objects of kind " + kind).hasSize(1);
        return found.getFirst();
    }

    private static Map<String, Object> podTemplate() throws IOException {
        return map(map(kubernetesObject("Deployment").get("spec")).get("template"));
    }

    private static Map<String, Object> container() throws IOException {
        List<Object> containers = list(map(podTemplate().get("spec")).get("containers"));
        assertThat(containers).hasSize(1);
        return map(containers.getFirst());
    }

    private static Map<String, Object> probe(Map<String, Object> container, String name) {
        return map(map(container.get(name)).get("httpGet"));
    }

    /** A probe's or service's port: a number, or the name of one of the container's ports. */
    private static int containerPort(Map<String, Object> container, Object port) {
        if (port instanceof Integer number) {
            return number;
        }
        return list(container.get("ports")).stream().map(DeploymentFilesTest::map)
                .filter(p -> String.valueOf(port).equals(p.get("name"))).map(p -> (Integer) p.get("containerPort"))
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + port));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertThat(value).as("YAML mapping").isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        assertThat(value).as("YAML sequence").isInstanceOf(List.class);
        return (List<Object>) value;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docker-compose.yml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no docker-compose.yml above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}

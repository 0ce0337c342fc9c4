package io.clipguard.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.clipguard.image.DecodeMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package rules of README's layout, checked on the compiled main classes: no package cycle, and each layer knows
 * nothing of the layers above it (image decoding knows nothing of Kafka, the engine nothing of topics, the topology
 * nothing of pixels). A change that breaks one fails here, naming the offending dependency.
 *
 * <p>Run alone: {@code ./mvnw test -Dtest=ArchitectureTest}.
 */
class ArchitectureTest {

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.clipguard");
    }

    @Test
    void noPackageCycles() {
        // Every package is its own slice (io.clipguard.streams and io.clipguard.streams.heads are two), so a
        // subpackage that imports its parent while the parent imports it is a cycle too.
        slices().matching("io.clipguard.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void imageAndInferenceKnowNothingOfKafkaOrTopics() {
        noClasses().that().resideInAnyPackage("io.clipguard.image..", "io.clipguard.inference..", "io.clipguard.model..",
                        "io.clipguard.scoring..", "io.clipguard.fetch..", "io.clipguard.training..",
                        "io.clipguard.evaluation..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "io.clipguard.contracts..",
                        "io.clipguard.avro..", "io.clipguard.moderation..", "io.clipguard.streams..",
                        "io.clipguard.recalibration..", "io.clipguard.cli..")
                .check(main);
    }

    @Test
    void theTopologyKnowsNothingOfPixels() {
        // Only the wiring may name image types: EngineProducer builds the engine. DecodeMode is a setting that a
        // verdict reports (decodeMode), not pixels, so it may cross.
        noClasses().that().resideInAnyPackage("io.clipguard.streams", "io.clipguard.streams.heads",
                        "io.clipguard.streams.alerting", "io.clipguard.streams.lifecycle", "io.clipguard.contracts..",
                        "io.clipguard.recalibration..", "io.clipguard.moderation..")
                .and().doNotHaveSimpleName("EngineProducer")
                .should().dependOnClassesThat(resideInAPackage("io.clipguard.image..").and(not(equivalentTo(DecodeMode.class))))
                .check(main);
    }

    @Test
    void onlyTheCommandLineImportsTheCommandLine() {
        noClasses().that().resideOutsideOfPackage("io.clipguard.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.clipguard.cli..")
                .check(main);
    }

    @Test
    void nothingBelowTheServiceImportsIt() {
        noClasses().that().resideOutsideOfPackage("io.clipguard.streams..")
                .should().dependOnClassesThat().resideInAPackage("io.clipguard.streams..")
                .check(main);
    }

    @Test
    void onlyTheConsoleImportsTheConsole() {
        // The command line may make users-file lines (console-user); nothing else knows the console.
        noClasses().that().resideOutsideOfPackages("io.clipguard.console..", "io.clipguard.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.clipguard.console..")
                .check(main);
        noClasses().that().resideInAPackage("io.clipguard.console..")
                .should().dependOnClassesThat().resideInAnyPackage("io.clipguard.streams..", "io.clipguard.cli..")
                .check(main);
    }
}

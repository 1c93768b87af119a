package dev.shrink4j.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The module rules of docs/DESIGN.md, checked on the compiled classes of every module on the CLI's classpath. */
class LayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.shrink4j");

    @Test
    void onlyThePanamaPackageTouchesTheIncubatingVectorApi() {
        noClasses().that().resideOutsideOfPackage("dev.shrink4j.tensors.kernels.panama..")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
                .check(CLASSES);
    }

    @Test
    void tensorsDependsOnTheJdkOnly() {
        noClasses().that().resideInAPackage("dev.shrink4j.tensors..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.shrink4j.model..", "dev.shrink4j.quantize..", "dev.shrink4j.prune..", "dev.shrink4j.lowrank..",
                        "dev.shrink4j.cli..", "dev.shrink4j.cuda..", "com.fasterxml..", "org.apache..", "com.github.tjake..")
                .check(CLASSES);
    }

    @Test
    void methodsDoNotDependOnTheCli() {
        noClasses().that().resideInAnyPackage("dev.shrink4j.model..", "dev.shrink4j.quantize..", "dev.shrink4j.prune..", "dev.shrink4j.lowrank..")
                .should().dependOnClassesThat().resideInAPackage("dev.shrink4j.cli..")
                .check(CLASSES);
    }
}

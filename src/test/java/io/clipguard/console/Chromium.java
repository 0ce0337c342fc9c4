package io.clipguard.console;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's {@code chromium} and {@code chromium-driver}, headless. Both paths are given to Selenium explicitly: with a
 * driver executable and a browser binary named, Selenium Manager has nothing to look up and downloads nothing (it
 * cannot here: the machine reaches no browser download site). A test class using it is skipped, saying what to
 * install, when either is missing, unless {@code CLIPGUARD_BROWSER_TESTS=required} (set by {@code .ci/run}, which
 * installs them), where it fails.
 */
final class Chromium {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static final String INSTALL = "apt-get install chromium chromium-driver";

    private Chromium() {}

    /** What is missing, or an empty list. */
    static List<String> missing() {
        List<String> missing = new ArrayList<>();
        for (Path p : List.of(BINARY, DRIVER)) {
            if (!Files.isExecutable(p)) missing.add(p.toString());
        }
        return missing;
    }

    static boolean required() {
        return "required".equals(System.getenv("CLIPGUARD_BROWSER_TESTS"));
    }

    /** A headless Chromium of {@code width} × {@code height} CSS pixels, its driver started on a free port. */
    static ChromeDriver start(int width, int height) {
        List<String> missing = missing();
        if (!missing.isEmpty()) {
            throw new AssertionError("no " + missing + " (" + INSTALL + ")" + (required() ? ", and CLIPGUARD_BROWSER_TESTS=required" : ""));
        }
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, DRIVER.toString());
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(BINARY.toFile()).addArguments(
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=" + width + "," + height,
                "--lang=en-GB", "--no-first-run", "--disable-extensions");
        return new ChromeDriver(service, options);
    }

    /** Skips the class without Chromium (before Quarkus and the broker start), unless browser tests are required. */
    static final class IfInstalled implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            List<String> missing = missing();
            if (missing.isEmpty()) return ConditionEvaluationResult.enabled("chromium and chromedriver found");
            if (required()) return ConditionEvaluationResult.enabled("CLIPGUARD_BROWSER_TESTS=required: fails without " + missing);
            return ConditionEvaluationResult.disabled("browser test skipped: no " + missing + "; install them with `" + INSTALL
                    + "` (CLIPGUARD_BROWSER_TESTS=required makes this a failure)");
        }
    }
}

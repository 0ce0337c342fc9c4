package io.clipguard.cli.kafka;

import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --model-dir} of the head commands: the backbone a head is checked against before the control topic says it is
 * active, with the rule the instances apply ({@link LinearHead#misfit}), so that the command and the fleet agree.
 */
final class HeadFitOptions {
    @Option(names = "--model-dir", paramLabel = "DIR",
            description = "Model folder of the backbone the instances serve, to check heads against (model id, feature"
                    + " dimension; only manifest.json is read). Default: models/<the head's model id> under the working"
                    + " directory, when it exists; without either the fit is not checked here.")
    Path modelDir;

    /** A backbone known here: its folder and manifest. */
    record Backbone(Path dir, ModelManifest manifest) {
        Optional<LinearHead.Misfit> misfit(LinearHead head) {
            return head.misfit(manifest.id(), manifest.featureDim());
        }
    }

    /**
     * The backbone to check a head of {@code modelId} against: {@code --model-dir} when given (whatever model it
     * holds: the user named it), else {@code models/<modelId>} when it exists; empty when neither.
     *
     * @throws ModelLoadException the folder cannot be read (the message says which and why)
     */
    Optional<Backbone> forHead(String modelId) throws ModelLoadException {
        return modelDir != null ? Optional.of(read(modelDir)) : byDefault(modelId);
    }

    /**
     * The backbone of {@code modelId} for listing several models: {@code --model-dir} when it holds that model, else
     * {@code models/<modelId>} when it exists.
     */
    Optional<Backbone> ofModel(String modelId) throws ModelLoadException {
        if (modelDir != null) {
            Backbone given = read(modelDir);
            if (given.manifest().id().equals(modelId)) {
                return Optional.of(given);
            }
        }
        return byDefault(modelId);
    }

    /**
     * Why {@code head} cannot go live on {@code backbone}, with what to do, as the head commands print it; empty when it
     * fits.
     */
    static Optional<String> refusal(LinearHead head, String origin, Backbone backbone) {
        return backbone.misfit(head).map(m -> origin + " does not fit the backbone in " + backbone.dir() + ": "
                + m.reason() + ". Instances serving model '" + backbone.manifest().id() + "' would refuse it and keep"
                + " their current head. " + (m.otherModel()
                ? "Pass --model-dir with the folder of model '" + head.modelId() + "'."
                : "Retrain it on this model's features (tools/clipguard train --model-dir " + backbone.dir() + ")."));
    }

    private static Optional<Backbone> byDefault(String modelId) throws ModelLoadException {
        Path dir = ModelManifest.defaultDir(modelId);
        return Files.isDirectory(dir) ? Optional.of(read(dir)) : Optional.empty();
    }

    private static Backbone read(Path dir) throws ModelLoadException {
        try {
            return new Backbone(dir, ModelManifest.read(dir));
        } catch (ModelLoadException e) {
            throw new ModelLoadException("cannot check heads against the model folder " + dir + ": " + e.getMessage()
                    + " (fix it, or pass --model-dir with the folder of the backbone)", e);
        }
    }
}

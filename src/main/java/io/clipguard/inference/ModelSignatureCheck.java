package io.clipguard.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import java.util.Arrays;
import java.util.Map;

/**
 * Compares an ONNX graph's inputs and outputs with what its manifest declares, so a manifest that belongs to another
 * model file is refused on load with a message naming both sides.
 */
final class ModelSignatureCheck {
    private ModelSignatureCheck() {}

    /** The session must have exactly the manifest's input and output: names, element types, ranks, fixed sizes. */
    static void check(OrtSession session, ModelManifest manifest, String modelPath)
            throws ModelLoadException {
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            ModelManifest.InputSpec in = manifest.input();
            ModelManifest.OutputSpec out = manifest.output();
            NodeInfo actualIn = inputs.get(in.name());
            if (inputs.size() != 1 || actualIn == null || !(actualIn.getInfo() instanceof TensorInfo inInfo)
                    || dtypeName(inInfo) == null || !dtypeName(inInfo).equals(in.dtype().manifestName())
                    || !shapeMatches(in.shape(), inInfo.getShape())) {
                throw new ModelLoadException("manifest says input " + in.describe() + " but " + modelPath + " has "
                        + describe(inputs) + ": the manifest does not belong to this model file; re-export the model"
                        + " (tools/export_clip_onnx.py writes both) or correct manifest.json");
            }
            NodeInfo actualOut = outputs.get(out.name());
            if (actualOut == null || !(actualOut.getInfo() instanceof TensorInfo outInfo)
                    || dtypeName(outInfo) == null || !dtypeName(outInfo).equals(out.dtype().manifestName())
                    || !shapeMatches(new long[] {-1, out.dim()}, outInfo.getShape())) {
                throw new ModelLoadException("manifest says output " + out.describe() + " but " + modelPath + " has "
                        + describe(outputs) + ": the manifest does not belong to this model file; re-export the model"
                        + " (tools/export_clip_onnx.py writes both) or correct manifest.json");
            }
        } catch (OrtException e) {
            throw new ModelLoadException("cannot read the inputs/outputs of " + modelPath + ": " + e.getMessage(), e);
        }
    }

    /** A manifest -1 needs a dynamic (or symbolic) dimension; any other size must be equal, or dynamic in the model. */
    private static boolean shapeMatches(long[] manifestShape, long[] modelShape) {
        if (manifestShape.length != modelShape.length) {
            return false;
        }
        for (int i = 0; i < manifestShape.length; i++) {
            boolean dynamic = modelShape[i] < 0;
            if (manifestShape[i] < 0 ? !dynamic : !(dynamic || modelShape[i] == manifestShape[i])) {
                return false;
            }
        }
        return true;
    }

    private static String dtypeName(TensorInfo info) {
        return switch (info.type) {
            case FLOAT -> "float32";
            case FLOAT16 -> "float16";
            default -> null;
        };
    }

    private static String describe(Map<String, NodeInfo> nodes) {
        StringBuilder sb = new StringBuilder();
        for (NodeInfo node : nodes.values()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            ValueInfo info = node.getInfo();
            sb.append('\'').append(node.getName()).append("' ");
            if (info instanceof TensorInfo t) {
                String dtype = dtypeName(t);
                sb.append(dtype != null ? dtype : t.type.name().toLowerCase(java.util.Locale.ROOT)).append(' ')
                        .append(Arrays.toString(t.getShape()).replace(" ", ""));
            } else {
                sb.append(info);
            }
        }
        return sb.toString();
    }
}

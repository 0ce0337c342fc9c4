package io.clipguard.training;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.clipguard.model.CanonicalJson;
import io.clipguard.model.JsonDocument;
import io.clipguard.model.ModelLoadException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

/**
 * A features folder, written by {@code embed} and read by {@code train} (and by numpy): {@value #MATRIX} (float32,
 * N×D, the model's output before L2 normalisation), {@value #INDEX} ({@code row,filename,<carried columns>,error}; a
 * failed image has an error and an empty row) and {@value #INFO} (model, preprocessing, date).
 */
public final class FeaturesFolder {
    public static final String MATRIX = "features.npy";
    public static final String INDEX = "index.csv";
    public static final String INFO = "features.json";
    public static final String FORMAT = "clipguard-features/v1";

    private static final JsonDocument<Info> INFO_DOCUMENT = new JsonDocument<>(Info.class, "features description", FORMAT,
            "tools/clipguard embed writes it beside " + MATRIX + " and " + INDEX + " (see docs/training.md); recompute"
                    + " the features with it", "Recompute the features with tools/clipguard embed.");

    private FeaturesFolder() {}

    /**
     * What the features are.
     *
     * @param modelSha256    the manifest's sha256 of model.onnx (null when the manifest gives none)
     * @param manifestSha256 sha256 of the model folder's manifest.json bytes
     * @param l2Normalized   true only when the graph itself normalises (manifest l2_normalize = graph)
     * @param preprocess     the manifest's preprocessing block, as it was
     * @param date           the day the features were computed (UTC, yyyy-MM-dd)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Info(String format, @JsonProperty("model_id") String modelId,
                       @JsonProperty("model_sha256") String modelSha256,
                       @JsonProperty("manifest_sha256") String manifestSha256, int dim, int rows, String dtype,
                       @JsonProperty("l2_normalized") boolean l2Normalized, JsonNode preprocess, String date) {}

    /** One index row: the image, its carried columns, and its matrix row (-1 when it failed with {@code error}). */
    public record Entry(String filename, List<String> carried, int row, String error) {
        public boolean ok() {
            return row >= 0;
        }
    }

    public record Features(Info info, List<String> carriedColumns, List<Entry> entries, Npy.Matrix matrix) {}

    public static boolean isFeaturesFolder(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(INFO));
    }

    public static void write(Path dir, Features features) throws IOException {
        Files.createDirectories(dir);
        Npy.write(dir.resolve(MATRIX), features.matrix());
        try (BufferedWriter writer = Files.newBufferedWriter(dir.resolve(INDEX), StandardCharsets.UTF_8);
             CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            List<String> header = new ArrayList<>(List.of("row", "filename"));
            header.addAll(features.carriedColumns());
            header.add("error");
            csv.printRecord(header);
            for (Entry e : features.entries()) {
                List<String> record = new ArrayList<>();
                record.add(e.ok() ? Integer.toString(e.row()) : "");
                record.add(e.filename());
                record.addAll(e.carried());
                record.add(e.error() == null ? "" : e.error());
                csv.printRecord(record);
            }
        }
        CanonicalJson.write(dir.resolve(INFO), features.info());
    }

    /** Reads a folder written by {@link #write}, checking that the index, the matrix and the info agree. */
    public static Features read(Path dir) throws IOException {
        Info info;
        try {
            info = INFO_DOCUMENT.read(Files.readString(dir.resolve(INFO)), dir.resolve(INFO).toString());
        } catch (ModelLoadException e) {
            throw new IOException(e.getMessage(), e);
        }
        Npy.Matrix matrix = Npy.read(dir.resolve(MATRIX));
        if (matrix.cols() != info.dim() || matrix.rows() != info.rows()) {
            throw new IOException(dir + ": " + MATRIX + " is " + matrix.rows() + "x" + matrix.cols() + " but " + INFO
                    + " says " + info.rows() + "x" + info.dim() + "; the folder is inconsistent, run embed again");
        }
        List<String> carried;
        List<Entry> entries = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(dir.resolve(INDEX), StandardCharsets.UTF_8);
             CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader)) {
            List<String> columns = parser.getHeaderNames();
            if (columns.size() < 3 || !columns.get(0).equals("row") || !columns.get(1).equals("filename")
                    || !columns.getLast().equals("error")) {
                throw new IOException(dir.resolve(INDEX) + ": header must be row,filename,<columns>,error; got "
                        + columns);
            }
            carried = List.copyOf(columns.subList(2, columns.size() - 1));
            for (CSVRecord r : parser) {
                if (r.size() != columns.size()) {
                    throw new IOException(dir.resolve(INDEX) + " line " + parser.getCurrentLineNumber() + " has "
                            + r.size() + " cells, the header " + columns.size());
                }
                String row = r.get(0);
                int index = row.isEmpty() ? -1 : parseRow(row, matrix.rows(), dir);
                List<String> values = new ArrayList<>();
                for (int i = 2; i < columns.size() - 1; i++) {
                    values.add(r.get(i));
                }
                entries.add(new Entry(r.get(1), values, index, r.get(columns.size() - 1)));
            }
        }
        return new Features(info, carried, entries, matrix);
    }

    private static int parseRow(String cell, int rows, Path dir) throws IOException {
        try {
            int row = Integer.parseInt(cell);
            if (row < 0 || row >= rows) {
                throw new IOException(dir.resolve(INDEX) + ": row " + row + " is outside the " + rows + "-row matrix");
            }
            return row;
        } catch (NumberFormatException e) {
            throw new IOException(dir.resolve(INDEX) + ": row '" + cell + "' is not a number");
        }
    }
}

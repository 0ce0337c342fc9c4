package io.clipguard.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * The image list every image command takes as {@code --input}: a CSV with a {@code filename} column (paths relative to
 * the CSV's folder; other columns are carried to the output), or a folder (every regular file below it, sorted).
 */
final class ImageInputs {
    static final String FILENAME_COLUMN = "filename";
    static final String TYP_COLUMN = "typ";
    /** The {@code typ} value of negatives (real photographs), as in the reference's CSV convention. */
    static final String REAL = "real";

    private ImageInputs() {}

    /** One input row: its filename cell, the file it names, and the other columns to carry over. */
    record InputRow(String filename, Path file, List<String> carried) {}

    /** The rows, with the names of the carried columns. */
    record InputList(List<String> carriedColumns, List<InputRow> rows) {
        /** Index of a carried column, or -1. */
        int column(String name) {
            return carriedColumns.indexOf(name);
        }

        /** Each row's {@code typ}: the column if the list has one, else the first folder of its filename. */
        List<String> typs() {
            int typ = column(TYP_COLUMN);
            return rows.stream().map(r -> typ >= 0 ? r.carried().get(typ) : typFromFolder(r.filename())).toList();
        }
    }

    /**
     * The folder layout of labelled images: {@code real/...} are real photographs, {@code <generator>/...} that
     * generator's images. A file directly in the top folder has no type ("").
     */
    static String typFromFolder(String filename) {
        int slash = filename.indexOf('/');
        return slash > 0 ? filename.substring(0, slash) : "";
    }

    /**
     * Reads a labelled image list: a CSV that must have a {@code typ} column, or a folder whose first-level folders
     * are the types ({@code real/}, {@code <generator>/}), added as a {@code typ} column.
     */
    static InputList readLabelled(Path input, Collection<String> reservedColumns) throws IOException {
        InputList list = read(input, reservedColumns);
        if (Files.isDirectory(input)) {
            List<InputRow> rows = list.rows().stream().map(r -> new InputRow(r.filename(), r.file(),
                    List.of(typFromFolder(r.filename())))).toList();
            return new InputList(List.of(TYP_COLUMN), rows);
        }
        if (list.column(TYP_COLUMN) < 0) {
            throw new IOException(input + " has no '" + TYP_COLUMN + "' column (columns: filename, "
                    + list.carriedColumns() + "); label every image: typ=real for real photographs, the generator's"
                    + " name for generated ones");
        }
        return list;
    }

    /**
     * Reads {@code input}. {@code reservedColumns}: columns the command writes itself, dropped from the carried ones.
     */
    static InputList read(Path input, Collection<String> reservedColumns) throws IOException {
        if (Files.isDirectory(input)) {
            try (Stream<Path> walk = Files.walk(input)) {
                List<InputRow> rows = walk.filter(Files::isRegularFile)
                        .map(p -> new InputRow(input.relativize(p).toString().replace('\\', '/'), p, List.of()))
                        .sorted((a, b) -> a.filename().compareTo(b.filename()))
                        .toList();
                return new InputList(List.of(), rows);
            }
        }
        if (!Files.isRegularFile(input)) {
            throw new IOException("--input " + input + " is neither a CSV file nor a folder");
        }
        Path base = input.toAbsolutePath().getParent();
        try (Reader reader = skipByteOrderMark(Files.newBufferedReader(input, StandardCharsets.UTF_8));
             CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
                     .setIgnoreSurroundingSpaces(true).get().parse(reader)) {
            List<String> columns = parser.getHeaderNames();
            if (!columns.contains(FILENAME_COLUMN)) {
                throw new IOException(input + " has no '" + FILENAME_COLUMN + "' column (columns: " + columns
                        + "); the first line must be a header naming the image paths' column 'filename'");
            }
            Set<String> ours = Set.copyOf(reservedColumns);
            List<String> carried = columns.stream().filter(c -> !c.equals(FILENAME_COLUMN) && !ours.contains(c)).toList();
            List<InputRow> rows = new ArrayList<>();
            for (CSVRecord record : parser) {
                String filename = record.isMapped(FILENAME_COLUMN) && record.isSet(FILENAME_COLUMN)
                        ? record.get(FILENAME_COLUMN) : "";
                List<String> values = carried.stream().map(c -> record.isSet(c) ? record.get(c) : "").toList();
                rows.add(new InputRow(filename, base.resolve(filename), values));
            }
            return new InputList(carried, rows);
        }
    }

    /** Spreadsheet exports often start with a UTF-8 byte order mark, which would otherwise hide the header's name. */
    static Reader skipByteOrderMark(BufferedReader reader) throws IOException {
        reader.mark(1);
        if (reader.read() != '\uFEFF') {
            reader.reset();
        }
        return reader;
    }
}

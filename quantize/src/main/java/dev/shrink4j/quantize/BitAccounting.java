package dev.shrink4j.quantize;

import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer reports and the totals over the quantized linears. Bits per weight have one definition,
 * the format's stored bytes ({@link CompressedWeight#bitsPerWeight}, {@link CompressedWeight#payloadBitsPerWeight}):
 * scales, zero points, codebooks and group indices count as what they occupy on disk.
 */
final class BitAccounting {
    private final List<Quantizer.LayerReport> reports = new ArrayList<>();
    private long parameters, payloadBytes, storageBytes;

    /** Records one compressed linear and what its method reported. */
    void add(String module, CompressedWeight cw, LayerQuantizer.Outcome o, double seconds) {
        parameters += (long) cw.dOut() * cw.dIn();
        payloadBytes += cw.payloadBytes();
        storageBytes += cw.storageBytes();
        reports.add(new Quantizer.LayerReport(module, cw.dOut(), cw.dIn(), cw.format(), o.objectiveInit(), o.objectiveAfter(),
                cw.payloadBitsPerWeight(), cw.bitsPerWeight(), seconds, o.note()));
    }

    /** Resume: a linear an interrupted run compressed, with the report it made then. */
    void addRestored(CompressedWeight cw, Quantizer.LayerReport report) {
        parameters += (long) cw.dOut() * cw.dIn();
        payloadBytes += cw.payloadBytes();
        storageBytes += cw.storageBytes();
        reports.add(report);
    }

    /** The reports of block {@code layer}'s linears, as resume records (module order). */
    java.util.Map<String, Object> blockRecord(int layer) {
        String prefix = "model.layers." + layer + ".";
        List<Object> rows = new ArrayList<>();
        for (Quantizer.LayerReport r : reports) {
            if (!r.module().startsWith(prefix)) continue;
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("module", r.module());
            m.put("format", r.format());
            m.put("objective_init", Resume.real(r.objectiveInit()));
            m.put("objective_after", Resume.real(r.objectiveAfter()));
            m.put("payload_bits", Resume.real(r.payloadBitsPerWeight()));
            m.put("total_bits", Resume.real(r.totalBitsPerWeight()));
            m.put("seconds", Resume.real(r.seconds()));
            m.put("note", r.note());
            rows.add(m);
        }
        return java.util.Map.of("reports", rows);
    }

    /** The report of {@code module} in a block record made by {@link #blockRecord}. */
    static Quantizer.LayerReport report(java.util.Map<String, Object> record, String module, CompressedWeight cw) {
        for (Object o : record.get("reports") instanceof List<?> l ? l : List.of()) {
            if (o instanceof java.util.Map<?, ?> m && module.equals(m.get("module"))) {
                return new Quantizer.LayerReport(module, cw.dOut(), cw.dIn(), String.valueOf(m.get("format")),
                        Resume.real(m.get("objective_init")), Resume.real(m.get("objective_after")), Resume.real(m.get("payload_bits")),
                        Resume.real(m.get("total_bits")), Resume.real(m.get("seconds")), String.valueOf(m.get("note")));
            }
        }
        throw new dev.shrink4j.tensors.ShrinkException("resume: the stored block has no report for " + module);
    }

    List<Quantizer.LayerReport> reports() {
        return reports;
    }

    Quantizer.Result result(java.util.Map<String, CompressedWeight> weights) {
        return new Quantizer.Result(weights, reports, parameters, payloadBytes, storageBytes);
    }
}

package dev.shrink4j.quantize;

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

    List<Quantizer.LayerReport> reports() {
        return reports;
    }

    Quantizer.Result result(java.util.Map<String, CompressedWeight> weights) {
        return new Quantizer.Result(weights, reports, parameters, payloadBytes, storageBytes);
    }
}

package dev.shrink4j.prune;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;

/**
 * A minimal runtime adapter (test only) that lets the model run CSR / N:M linears through their
 * format kernels, so a stored sparse checkpoint can be evaluated as written.
 */
final class CompressedLinears {
    private CompressedLinears() {}

    static LlamaModel.CompressedLinearLoader loader() {
        ObjectMapper json = new ObjectMapper();
        return (module, format, source, dOut, dIn) -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> descriptor = json.convertValue(format, Map.class);
            Map<String, Tensor> tensors = new HashMap<>();
            for (String n : source.names()) {
                if (n.startsWith(module + ".")) {
                    tensors.put(n, source.tensor(n));
                }
            }
            CompressedWeight w = Formats.fromTensors(module, descriptor, tensors);
            return new Linear() {
                @Override
                public int inFeatures() {
                    return w.dIn();
                }

                @Override
                public int outFeatures() {
                    return w.dOut();
                }

                @Override
                public void forward(float[] x, int n, float[] y) {
                    w.matmul(x, n, y);
                }

                @Override
                public void backwardInput(float[] dy, int n, float[] dx) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Tensor weight(Arena arena) {
                    float[] all = new float[w.dOut() * w.dIn()];
                    for (int j = 0; j < w.dOut(); j++) {
                        w.dequantizeRow(j, all, j * w.dIn());
                    }
                    return Tensor.ofFloats(arena, Shape.of(w.dOut(), w.dIn()), all);
                }

                @Override
                public float[] bias() {
                    return null;
                }
            };
        };
    }
}

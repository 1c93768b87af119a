package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * A Llama-family causal LM (Llama, Mistral, Qwen2) over weights from a {@link WeightSource}: token
 * embedding, decoder blocks, final RMSNorm and LM head. Weights stay where the source keeps them
 * (memory-mapped, any float dtype); norms are widened to small F32 arrays. Activations are F32
 * arrays with one row per token. Layers can be replaced ({@link #setLayer}) as a method compresses
 * them; all other state is immutable, so forward passes may run concurrently.
 */
public final class LlamaModel {
    private final ModelConfig config;
    private final WeightSource weights;
    private final Tensor embed; // (vocab, hidden), or null when the checkpoint stores it compressed
    private final CompressedWeight embedCompressed; // (vocab, hidden), or null: rows decoded one at a time
    private final Layer[] layers;
    private final float[] finalNorm; // (hidden)
    private volatile Linear lmHead; // (vocab, hidden); replaced by setActivations
    private final TransformerBlock block;

    /**
     * Builds a compressed linear from its stored tensors; given the module name (e.g.
     * {@code model.layers.0.mlp.down_proj}) and its entry of the config's {@code shrink4j.tensors}.
     */
    @FunctionalInterface
    public interface CompressedLinearLoader {
        Linear load(String module, Map<String, Object> format, WeightSource source, int dOut, int dIn);
    }

    private LlamaModel(ModelConfig config, WeightSource weights, CompressedLinearLoader compressed) {
        this.config = config;
        this.weights = weights;
        this.block = new TransformerBlock(config);
        int d = config.hiddenSize();
        Map<String, Object> embedFormat = config.compressedTensors().get(EMBEDDING);
        if (embedFormat != null) {
            // A lookup table, not a product: always the format's own rows (no custom loader), never widened whole.
            this.embed = null;
            this.embedCompressed = ((CompressedLinear) CompressedLinear.load(EMBEDDING, embedFormat, weights, config.vocabSize(), d)).compressed();
        } else {
            this.embed = checked(EMBEDDING + ".weight", config.vocabSize(), d);
            this.embedCompressed = null;
        }
        this.layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = loadLayer(i, compressed);
        }
        this.finalNorm = vector("model.norm.weight", d);
        if (headTied()) {
            // One table for both roles: a compressed one runs the head through the same kernels as the linears.
            this.lmHead = embed != null ? new DenseLinear(embed, null) : new CompressedLinear(embedCompressed, null);
        } else {
            this.lmHead = linear("lm_head", config.vocabSize(), d, false, compressed);
        }
    }

    /**
     * Loads {@code dir} (config.json + safetensors) mapped into {@code arena}. Forward passes read
     * weights from several threads, so the arena must be shared ({@link Arena#ofShared()}, global or auto).
     * A llama {@code .gguf} file is read in place ({@link dev.shrink4j.model.gguf.GgufCheckpoint}: float
     * tensors mapped, Q4_0/Q4_1/Q8_0 linears run as ggml blocks).
     */
    public static LlamaModel load(Path dir, Arena arena) {
        return load(dir, arena, CompressedLinear::load);
    }

    /** As {@link #load(Path, Arena)}, with a loader for compressed linears named in the config. */
    public static LlamaModel load(Path dir, Arena arena, CompressedLinearLoader compressed) {
        if (dev.shrink4j.model.gguf.GgufCheckpoint.is(dir)) {
            var gguf = dev.shrink4j.model.gguf.GgufCheckpoint.open(dir, arena);
            return new LlamaModel(gguf.config(), gguf, compressed);
        }
        ModelConfig config = ModelConfig.load(dir);
        return new LlamaModel(config, CheckpointWeights.open(dir, arena), compressed);
    }

    /**
     * A model over an existing weight source (checks every tensor's presence and shape); compressed
     * linears named in the config are read with {@link CompressedLinear#load}.
     */
    public static LlamaModel of(ModelConfig config, WeightSource weights) {
        return new LlamaModel(config, weights, CompressedLinear::load);
    }

    public static LlamaModel of(ModelConfig config, WeightSource weights, CompressedLinearLoader compressed) {
        return new LlamaModel(config, weights, compressed);
    }

    /** The embedding's module name (its dense tensor is {@code model.embed_tokens.weight}). */
    public static final String EMBEDDING = "model.embed_tokens";

    /** Whether the output head is the embedding table (tie_word_embeddings and no lm_head stored, dense or compressed). */
    public boolean headTied() {
        return config.tieWordEmbeddings() && !weights.contains("lm_head.weight") && !config.compressedTensors().containsKey("lm_head");
    }

    private Layer loadLayer(int i, CompressedLinearLoader compressed) {
        int d = config.hiddenSize();
        int f = config.intermediateSize(i);
        String pre = "model.layers." + i + ".";
        Map<Proj, Linear> lin = new EnumMap<>(Proj.class);
        float[] attnNorm = null;
        if (config.hasAttention(i)) {
            attnNorm = vector(pre + "input_layernorm.weight", d);
            lin.put(Proj.Q, linear(Proj.Q.module(i), config.qDim(), d, config.attentionBias(), compressed));
            lin.put(Proj.K, linear(Proj.K.module(i), config.kvDim(), d, config.attentionBias(), compressed));
            lin.put(Proj.V, linear(Proj.V.module(i), config.kvDim(), d, config.attentionBias(), compressed));
            lin.put(Proj.O, linear(Proj.O.module(i), d, config.qDim(), config.outputBias(), compressed));
        }
        lin.put(Proj.GATE, linear(Proj.GATE.module(i), f, d, false, compressed));
        lin.put(Proj.UP, linear(Proj.UP.module(i), f, d, false, compressed));
        lin.put(Proj.DOWN, linear(Proj.DOWN.module(i), d, f, false, compressed));
        return new Layer(i, attnNorm, lin, vector(pre + "post_attention_layernorm.weight", d));
    }

    private Linear linear(String module, int dOut, int dIn, boolean bias, CompressedLinearLoader compressed) {
        Map<String, Object> format = config.compressedTensors().get(module);
        if (format != null) {
            CompressedLinearLoader loader = compressed != null ? compressed : CompressedLinear::load;
            return loader.load(module, format, weights, dOut, dIn);
        }
        Tensor w = checked(module + ".weight", dOut, dIn);
        return new DenseLinear(w, bias ? vector(module + ".bias", dOut) : null);
    }

    private Tensor checked(String name, long... dims) {
        Tensor t = weights.tensor(name);
        if (!Arrays.equals(t.shape().dims(), dims)) {
            throw new ShrinkException("tensor " + name + " in " + where() + " has shape " + Arrays.toString(t.shape().dims())
                    + ", expected " + Arrays.toString(dims) + " from config.json");
        }
        if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            throw new ShrinkException("tensor " + name + " in " + where() + " is " + t.dtype() + ", expected F32, F16 or BF16");
        }
        return t;
    }

    private String where() {
        return weights.directory() == null ? "the weights" : weights.directory().toString();
    }

    private float[] vector(String name, int n) {
        return checked(name, n).toFloatArray();
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Whether the checkpoint holds compressed linears ({@code shrink4j.tensors}). Methods that read
     * weights through {@link Linear#weight} see them dequantized, block by block.
     */
    public boolean isCompressed() {
        return !config.compressedTensors().isEmpty();
    }

    public WeightSource weights() {
        return weights;
    }

    public int numLayers() {
        return layers.length;
    }

    public Layer layer(int i) {
        return layers[i];
    }

    /**
     * Sets what every compressed linear multiplies its weights with: F32 activations, or int8 blocks
     * of 32 where the format supports it (uniform 4/8-bit, groups of whole blocks; others keep F32).
     * Returns how many linears now run with int8 activations.
     */
    public synchronized int setActivations(dev.shrink4j.tensors.formats.ActivationPrecision p) {
        int int8 = 0;
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            for (Proj proj : Proj.values()) {
                if (layer.linear(proj) instanceof CompressedLinear cl) {
                    CompressedLinear now = cl.withActivations(p);
                    layer = layer.with(proj, now);
                    if (now.activations() == dev.shrink4j.tensors.formats.ActivationPrecision.INT8) int8++;
                }
            }
            layers[i] = layer;
        }
        if (lmHead instanceof CompressedLinear cl) {
            lmHead = cl.withActivations(p);
            if (((CompressedLinear) lmHead).activations() == dev.shrink4j.tensors.formats.ActivationPrecision.INT8) int8++;
        }
        return int8;
    }

    /** Installs a (compressed) replacement of layer {@code layer.index()}. */
    public synchronized void setLayer(Layer layer) {
        layers[layer.index()] = layer;
    }

    /** The embedding table (vocab, hidden), or null when it is stored compressed ({@link #embeddingCompressed}). */
    public Tensor embedding() {
        return embed;
    }

    /** The compressed embedding table (vocab, hidden), or null when it is dense ({@link #embedding}). */
    public CompressedWeight embeddingCompressed() {
        return embedCompressed;
    }

    /**
     * Embedding row {@code id} as F32 into dst[off, off + hidden): the stored row widened, or, for a
     * compressed table, that one row decoded (the table is never widened whole).
     */
    public void embeddingRow(int id, float[] dst, int off) {
        int d = config.hiddenSize();
        if (embed != null) embed.readFloats((long) id * d, dst, off, d);
        else embedCompressed.dequantizeRow(id, dst, off);
    }

    public Linear lmHead() {
        return lmHead;
    }

    public float[] finalNorm() {
        return finalNorm;
    }

    TransformerBlock block() {
        return block;
    }

    /**
     * Embedding rows of {@code tokens}, (n, hidden). Meant for one sequence or one batch: a whole
     * calibration set goes through {@link BlockPipeline}, which embeds sequence by sequence off-heap.
     */
    public float[] embed(int[] tokens) {
        float[] x = new float[Math.multiplyExact(tokens.length, config.hiddenSize())];
        embed(tokens, x);
        return x;
    }

    /**
     * Embedding rows of {@code tokens} into {@code x}.
     *
     * @param x (n, hidden) or longer; Modified (the first n rows)
     */
    public void embed(int[] tokens, float[] x) {
        int d = config.hiddenSize();
        if ((long) tokens.length * d > x.length) {
            throw new IllegalArgumentException(tokens.length + " tokens of " + d + " floats do not fit in " + x.length);
        }
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + config.vocabSize());
            }
            embeddingRow(id, x, t * d);
        }
    }

    /**
     * Runs block {@code layer} on {@code batch} sequences of {@code seqLen} tokens: out (n, hidden)
     * from x (n, hidden). {@code observer} (nullable) sees each group's input.
     */
    public void forwardLayer(int layer, float[] x, int batch, int seqLen, float[] out, LinearObserver observer) {
        block.forward(layers[layer], x, batch, seqLen, out, TransformerBlock.Forward.PLAIN.withObserver(observer));
    }

    /**
     * Runs block {@code layer} only up to {@code group}'s input and hands it to {@code observer}
     * (true-sequential statistics with the block's current, possibly compressed, weights).
     */
    public void groupInput(int layer, float[] x, int batch, int seqLen, Group group, LinearObserver observer) {
        block.forward(layers[layer], x, batch, seqLen, null, TransformerBlock.Forward.PLAIN.withObserver(observer).stoppingAfter(group));
    }

    /** Final hidden states (n, hidden) of {@code batch} sequences, flattened in {@code tokens}. */
    public float[] hidden(int[] tokens, int batch) {
        int seqLen = tokens.length / batch;
        float[] x = embed(tokens);
        float[] y = new float[x.length];
        for (int l = 0; l < layers.length; l++) {
            block.forward(layers[l], x, batch, seqLen, y, TransformerBlock.Forward.PLAIN);
            float[] t = x;
            x = y;
            y = t;
        }
        return x;
    }

    /** Logits (rows, vocab) of hidden rows [r0, r1) of x (.., hidden), after the final norm. */
    public float[] logits(float[] x, int r0, int r1) {
        int d = config.hiddenSize();
        int n = r1 - r0;
        float[] h = new float[n * d];
        RmsNorm.forward(Arrays.copyOfRange(x, r0 * d, r1 * d), n, d, finalNorm, config.rmsNormEps(), h, null);
        float[] logits = new float[n * config.vocabSize()];
        lmHead.forward(h, n, logits);
        return logits;
    }

    /** Logits (T, vocab) of one sequence. */
    public float[] logits(int[] tokens) {
        float[] x = hidden(tokens, 1);
        return logits(x, 0, tokens.length);
    }
}

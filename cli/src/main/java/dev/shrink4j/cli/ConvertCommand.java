package dev.shrink4j.cli;

import dev.shrink4j.model.gguf.LlamaGgufExport;
import dev.shrink4j.model.gguf.LlamaGgufImport;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j convert IN OUT --to gguf|safetensors}: Hugging Face directory ↔ GGUF, no Python. */
final class ConvertCommand implements Command {
    @Override public String name() {
        return "convert";
    }

    @Override public String summary() {
        return "convert a Hugging Face checkpoint directory to GGUF (llama.cpp) or a GGUF file back";
    }

    @Override public String arguments() {
        return "IN OUT";
    }

    @Override public String footer() {
        return "\nWithout --dtype every float tensor keeps its dtype, so HF -> GGUF -> HF is bit-identical; GGUF block"
                + "\ntypes (Q4_0, Q8_0, Q4_K, ...) are dequantized to F32 (or --dtype). Q/K rows are permuted to"
                + "\nllama.cpp's RoPE layout and back; config.json and the tokenizer files travel inside the GGUF.";
    }

    @Override public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("to").hasArg().argName("F").desc("gguf|safetensors (default: the other format than IN)").build());
        o.addOption(Option.builder().longOpt("dtype").hasArg().argName("T").desc("f32|f16|bf16: convert every matrix (norms stay F32 in GGUF)").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        return o;
    }

    @Override public int run(CommandLine cl, Console console) {
        Args args = new Args(cl);
        List<String> paths = args.positionals("IN", "OUT");
        Path in = Path.of(paths.get(0));
        if (!Files.exists(in)) throw new dev.shrink4j.tensors.ShrinkException("IN " + in + ": no such file or directory");
        boolean fromGguf = GgufFile.looksLikeGguf(in);
        String to = args.choice("to", fromGguf ? "safetensors" : "gguf", List.of("gguf", "safetensors"));
        if (fromGguf == to.equals("gguf")) {
            throw new UsageException("IN " + in + " is already " + (fromGguf ? "a GGUF file" : "a safetensors checkpoint") + "; --to " + to + " converts the other way");
        }
        String dtypeName = cl.hasOption("dtype") ? args.choice("dtype", null, List.of("f32", "f16", "bf16")) : null;
        Path out = args.output(in, paths.get(1));
        if (to.equals("gguf")) {
            Path dir = Args.inputDir("IN", in);
            GgufType t = dtypeName == null ? null : GgufType.byName(dtypeName).orElseThrow();
            LlamaGgufExport.write(dir, out, args.has("force"), t == null ? LlamaGgufExport::sameType : (name, tensor) -> t);
            console.out().printf("wrote %s (GGUF v3, llama, %s)%n", out, dtypeName == null ? "dtypes kept" : dtypeName);
        } else {
            DType d = dtypeName == null ? null : DType.valueOf(dtypeName.toUpperCase(java.util.Locale.ROOT));
            LlamaGgufImport.Result r = LlamaGgufImport.write(in, out, d, args.has("force"));
            console.out().printf("wrote %s: %d tensors from %s%s%n", r.dir(), r.tensors(), r.typesRead(),
                    r.tokenizer() ? "" : " (no tokenizer: the GGUF carries no tokenizer.json; eval and generate need one)");
        }
        return 0;
    }
}

package dev.shrink4j.prune;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import java.util.Arrays;

/** A few TinyStories-like sentences for quick calibration and evaluation on the demo model. */
final class DemoText {
    static final String TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the park. \
            One day, she saw a big, red ball. She wanted to play with it, but it was too high. \
            Lily asked her mom for help. Her mom smiled and said, "Let's get it together." \
            They jumped and jumped until the ball fell down. Lily was very happy and said thank you. \
            Then a little dog came to the park. The dog wanted to play too. Lily threw the ball and the dog ran fast. \
            They played all day in the sun, and when it was time to go home, Lily hugged the dog and waved goodbye.
            """;

    private DemoText() {}

    /** The text's tokens without BOS, repeated until at least {@code n} tokens, cut to n. */
    static int[] tokens(LlamaModel model, int n) {
        int[] once = Tokenizer.load(model.weights().directory(), model.config()).encode(TEXT, false);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = once[i % once.length];
        }
        return out;
    }

    /** (windows, seqLen) evaluation windows with BOS first. */
    static int[] windows(LlamaModel model, int windows, int seqLen) {
        return CalibrationNll.windows(tokens(model, windows * (seqLen - 1)), seqLen, model.config().bosTokenId(), windows);
    }

    static int[] slice(int[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }
}

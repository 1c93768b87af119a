package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibrationTest {
    static Arena arena;
    static LlamaModel model;
    static Tokenizer tokenizer;

    @TempDir Path dir;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = LlamaModel.load(TestData.demoModel(), arena);
        tokenizer = Tokenizer.load(TestData.demoModel(), model.config());
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    @Test
    void windowsAreSeededSlicesOfTheTextWithBos() throws IOException {
        Path text = dir.resolve("calib.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(10));
        int[] stream = tokenizer.encode(Files.readString(text), false);
        Calibration a = Calibration.fromFile(text, tokenizer, model.config(), 5, 16, 7);
        Calibration b = Calibration.fromFile(text, tokenizer, model.config(), 5, 16, 7);
        assertEquals(new Calibration.Record(text.toString(), 5, 16, 7, stream.length, 80), a.record());
        for (int s = 0; s < 5; s++) {
            assertArrayEquals(a.sequences()[s], b.sequences()[s], "same seed, same windows");
            assertEquals(model.config().bosTokenId(), a.sequences()[s][0]);
            assertTrue(containsAt(stream, a.sequences()[s]), "window " + s + " is a slice of the text");
        }
        int[] longer = tokenizer.encode(Files.readString(text).repeat(6), false);
        assertEquals(512, Calibration.fromTokens(longer, "t", model.config(), 1, 0, 1).record().seqLen(), "T defaults to min(2048, context)");
    }

    @Test
    void badRequestsAreNamed() throws IOException {
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "\n");
        assertTrue(assertThrows(ShrinkException.class, () -> Calibration.fromFile(empty, tokenizer, model.config(), 2, 16, 1))
                .getMessage().contains("is empty"));
        int[] stream = tokenizer.encode("a short text", false);
        assertTrue(assertThrows(ShrinkException.class, () -> Calibration.fromTokens(stream, "t", model.config(), 2, 1024, 1))
                .getMessage().contains("exceeds the model's context of 512"));
        assertTrue(assertThrows(ShrinkException.class, () -> Calibration.fromTokens(stream, "t", model.config(), 2, 64, 1))
                .getMessage().contains("fewer than one window"));
    }

    @Test
    void selfGeneratedCalibrationIsSeeded() {
        Calibration a = Calibration.selfGenerated(model, tokenizer, 2, 16, 5);
        Calibration b = Calibration.selfGenerated(model, tokenizer, 2, 16, 5);
        assertEquals("self", a.record().file());
        for (int s = 0; s < 2; s++) assertArrayEquals(a.sequences()[s], b.sequences()[s]);
        String text = tokenizer.decode(a.sequences()[0]);
        assertTrue(text.chars().filter(Character::isLetter).count() > 8, text);
    }

    private static boolean containsAt(int[] stream, int[] window) {
        outer:
        for (int off = 0; off + window.length - 1 <= stream.length; off++) {
            for (int i = 1; i < window.length; i++) if (stream[off + i - 1] != window[i]) continue outer;
            return true;
        }
        return false;
    }
}

package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;

/**
 * A text handed to {@link java.util.regex.Matcher} that counts the characters the matcher reads and
 * stops it past a budget linear in the text's length. A {@code tokenizer.json} names its own split
 * pattern, and a pattern such as {@code (a+)+$} backtracks exponentially (a 30-character input takes
 * minutes): the budget turns that into one clear error instead of a hung process. Real pre-tokenizer
 * patterns read each character a few to a few dozen times.
 */
final class RegexBudget implements CharSequence {
    /** Character reads allowed per character of text, and a floor for short texts. */
    static final long READS_PER_CHAR = 2_000;
    static final long MIN_READS = 1_000_000;

    private final String text;
    private final String what;
    private final long budget;
    private long reads;

    RegexBudget(String text, String what) {
        this.text = text;
        this.what = what;
        this.budget = MIN_READS + READS_PER_CHAR * text.length();
    }

    @Override
    public char charAt(int index) {
        if (++reads > budget) {
            throw new ShrinkException(what + ": the pre-tokenizer pattern backtracks too much on a text of " + text.length()
                    + " characters (more than " + budget + " steps); the pattern is unsafe (e.g. nested quantifiers like (a+)+)");
        }
        return text.charAt(index);
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.substring(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}

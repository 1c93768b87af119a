package dev.shrink4j.cli;

import java.util.Collection;
import java.util.List;

/** "Did you mean …?" for misspelt commands, flags and choices: the nearest candidate by edit distance. */
final class Suggest {
    private Suggest() {}

    /**
     * {@code "; did you mean X?"} for the one candidate that starts with {@code typed}, else for the
     * candidate nearest to it when close enough (at most a third of the letters differ), else {@code ""}.
     */
    static String didYouMean(String typed, Collection<String> candidates) {
        // A unique candidate that starts with what was typed (a flag cut short) wins outright.
        String bare = typed.replaceFirst("^-+", "");
        if (bare.length() >= 3) {
            List<String> prefixed = candidates.stream().filter(c -> c.startsWith(typed)).toList();
            if (prefixed.size() == 1) return "; did you mean " + prefixed.get(0) + "?";
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(typed, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        if (best == null) return "";
        boolean close = bestDistance <= Math.max(1, Math.max(typed.length(), best.length()) / 3)
                || (bare.length() >= 3 && typed.startsWith(best));
        return close ? "; did you mean " + best + "?" : "";
    }

    /** Levenshtein distance with adjacent transpositions (optimal string alignment). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}

package dev.shrink4j.lowrank;

/** Small conversions shared by the decompositions (row-major throughout). */
final class Dense {
    private Dense() {}

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}

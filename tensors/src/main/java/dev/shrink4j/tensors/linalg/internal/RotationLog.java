package dev.shrink4j.tensors.linalg.internal;

/**
 * Plane rotations recorded for later application to the rows of a (rows, cols) row-major matrix:
 * row i ← c·row i + s·row j, row j ← c·row j − s·row i. Applying them one at a time would stream the
 * whole matrix per rotation; instead the log is replayed over column strips of {@link #STRIP}
 * values, so each strip (rows × STRIP doubles) stays in cache for all the recorded rotations.
 */
public final class RotationLog {
    static final int STRIP = 64;
    private static final int CAPACITY = 1 << 19;

    private final double[] target; // (rows, cols)
    private final int cols;
    private final int[] ri = new int[CAPACITY];
    private final int[] rj = new int[CAPACITY];
    private final double[] cs = new double[CAPACITY];
    private final double[] sn = new double[CAPACITY];
    private int size;

    public RotationLog(double[] target, int cols) {
        this.target = target;
        this.cols = cols;
    }

    /** Records a rotation of rows i and j (applied in recording order). */
    public void rotate(int i, int j, double c, double s) {
        if (size == CAPACITY) {
            flush();
        }
        ri[size] = i;
        rj[size] = j;
        cs[size] = c;
        sn[size] = s;
        size++;
    }

    /** Applies every recorded rotation to the target and empties the log. */
    public void flush() {
        if (size == 0) {
            return;
        }
        VectorOps ops = VectorOps.get();
        for (int c0 = 0; c0 < cols; c0 += STRIP) {
            ops.rotateStrip(target, cols, c0, Math.min(STRIP, cols - c0), ri, rj, cs, sn, size);
        }
        size = 0;
    }
}

package dev.shrink4j.tensors.linalg.internal;

/**
 * Plane rotations recorded for later application to the rows of a (rows, cols) row-major matrix:
 * row i ← c·row i + s·row j, row j ← c·row j − s·row i. Applying them one at a time would stream the
 * whole matrix per rotation; instead the log is replayed over column strips of
 * {@link VectorOps#preferredStrip()} values copied out contiguously, so each strip stays in L2 for
 * all the recorded rotations.
 */
public final class RotationLog {
    private static final int CAPACITY = 1 << 19;

    private final double[] target; // (rows, cols)
    private final int cols;
    private int[] ri = new int[1024];
    private int[] rj = new int[1024];
    private double[] cs = new double[1024];
    private double[] sn = new double[1024];
    private int size;

    public RotationLog(double[] target, int cols) {
        this.target = target;
        this.cols = cols;
    }

    /** Records a rotation of rows i and j (applied in recording order). */
    public void rotate(int i, int j, double c, double s) {
        if (size == ri.length) {
            if (size >= CAPACITY) {
                flush();
            } else { // grow: small problems never allocate the full log
                int cap = Math.min(CAPACITY, 2 * size);
                ri = java.util.Arrays.copyOf(ri, cap);
                rj = java.util.Arrays.copyOf(rj, cap);
                cs = java.util.Arrays.copyOf(cs, cap);
                sn = java.util.Arrays.copyOf(sn, cap);
            }
        }
        ri[size] = i;
        rj[size] = j;
        cs[size] = c;
        sn[size] = s;
        size++;
    }

    /** Applies every recorded rotation to the target and empties the log. */
    public void flush() {
        if (size == 0 || cols == 0) {
            size = 0;
            return;
        }
        VectorOps ops = VectorOps.get();
        int strip = ops.preferredStrip();
        int rows = target.length / cols;
        // Rows of the target are a (often power-of-two) stride apart, which maps a strip onto a few
        // cache sets; a contiguous copy of the strip stays in L2 for the whole replay.
        double[] buf = new double[rows * strip];
        for (int c0 = 0; c0 < cols; c0 += strip) {
            int w = Math.min(strip, cols - c0);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(target, r * cols + c0, buf, r * w, w);
            }
            ops.rotateStrip(buf, w, 0, w, ri, rj, cs, sn, size);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(buf, r * w, target, r * cols + c0, w);
            }
        }
        size = 0;
    }
}

package dev.shrink4j.tensors.linalg.internal;

/**
 * The level-1/2 loops of {@code linalg} that C2 does not vectorize on its own: fp64 dot products
 * (a reduction) and the replay of plane rotations over a strip of rows of one array (two offsets into
 * the same array, which defeats the auto-vectorizer's alias analysis). {@link #SCALAR} is the
 * reference; the Vector API version lives in {@code kernels.panama.PanamaLinalgOps}.
 */
public interface VectorOps {
    /** Σ x[xo+i]·y[yo+i], i < len. */
    double dot(double[] x, int xo, double[] y, int yo, int len);

    /** out[0] = Σ x[xo1+i]·y[yo+i], out[1] = Σ x[xo2+i]·y[yo+i], i < len (two rows against one vector, y loaded once). */
    default void dot2(double[] x, int xo1, int xo2, double[] y, int yo, int len, double[] out) {
        out[0] = dot(x, xo1, y, yo, len);
        out[1] = dot(x, xo2, y, yo, len);
    }

    /**
     * For k in [0, count): with a = t[ri[k]·cols + c0 ..], b = t[rj[k]·cols + c0 ..] (w values each),
     * a ← c·a + s·b, b ← c·b − s·a, using (c, s) = (cs[k], sn[k]).
     */
    void rotateStrip(double[] t, int cols, int c0, int w, int[] ri, int[] rj, double[] cs, double[] sn, int count);

    /** Strip width (values) that {@link #rotateStrip} handles best. */
    int preferredStrip();

    String name();

    VectorOps SCALAR = new VectorOps() {
        @Override
        public double dot(double[] x, int xo, double[] y, int yo, int len) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 3 < len; i += 4) {
                s0 += x[xo + i] * y[yo + i];
                s1 += x[xo + i + 1] * y[yo + i + 1];
                s2 += x[xo + i + 2] * y[yo + i + 2];
                s3 += x[xo + i + 3] * y[yo + i + 3];
            }
            for (; i < len; i++) {
                s0 += x[xo + i] * y[yo + i];
            }
            return (s0 + s1) + (s2 + s3);
        }

        @Override
        public void rotateStrip(double[] t, int cols, int c0, int w, int[] ri, int[] rj, double[] cs, double[] sn, int count) {
            for (int k = 0; k < count; k++) {
                int oi = ri[k] * cols + c0;
                int oj = rj[k] * cols + c0;
                double c = cs[k];
                double s = sn[k];
                for (int q = 0; q < w; q++) {
                    double x = t[oi + q];
                    double y = t[oj + q];
                    t[oi + q] = c * x + s * y;
                    t[oj + q] = c * y - s * x;
                }
            }
        }

        @Override
        public int preferredStrip() {
            return 64;
        }

        @Override
        public String name() {
            return "scalar";
        }
    };

    /** The implementation in use: Vector API when available, unless {@code shrink4j.kernels=scalar}. */
    static VectorOps get() {
        return Holder.OPS;
    }

    /** Lazy holder so the Panama class is loaded by name only once. */
    final class Holder {
        static final VectorOps OPS = choose();

        private Holder() {}

        private static VectorOps choose() {
            String forced = System.getProperty("shrink4j.kernels", "").trim().toLowerCase(java.util.Locale.ROOT);
            if (forced.equals("scalar") || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return SCALAR;
            }
            try {
                Class<?> cls = Class.forName("dev.shrink4j.tensors.kernels.panama.PanamaLinalgOps");
                return (VectorOps) cls.getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return SCALAR;
            }
        }
    }
}

package dev.shrink4j.tensors;

import java.util.Arrays;

/** An immutable row-major shape. A rank-0 shape has one element. */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
        }
        this.dims = dims;
    }

    public static Shape of(long... dims) {
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Number of elements; throws if it does not fit in a long. */
    public long numel() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Elements per index of the first dimension (1 for rank ≤ 1). */
    public long rowNumel() {
        long n = 1;
        for (int i = 1; i < dims.length; i++) {
            n = Math.multiplyExact(n, dims[i]);
        }
        return n;
    }

    /** This shape with the first dimension replaced. */
    public Shape withFirst(long first) {
        long[] d = dims.clone();
        d[0] = first;
        return new Shape(d);
    }

    /** Rank-2 shorthand: (rows, cols). */
    public static Shape matrix(long rows, long cols) {
        return new Shape(new long[] {rows, cols});
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}

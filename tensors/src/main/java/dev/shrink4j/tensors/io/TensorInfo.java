package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;

/** One header entry of a safetensors file: byte range {@code [begin, end)} relative to the data section. */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {
    public long byteSize() {
        return end - begin;
    }
}

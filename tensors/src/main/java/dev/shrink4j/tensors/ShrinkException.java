package dev.shrink4j.tensors;

/**
 * A user-facing failure: bad input data, a missing tensor, an impossible request. The message is
 * written for people (it names the file, tensor or flag and what was expected); the CLI prints it on
 * one line without a stack trace and exits with status 1.
 */
public class ShrinkException extends RuntimeException {
    public ShrinkException(String message) {
        super(message);
    }

    public ShrinkException(String message, Throwable cause) {
        super(message, cause);
    }
}

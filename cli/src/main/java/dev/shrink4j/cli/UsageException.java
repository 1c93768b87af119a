package dev.shrink4j.cli;

/** A wrong flag or argument: printed on one line with a hint to {@code --help}; exit status 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}

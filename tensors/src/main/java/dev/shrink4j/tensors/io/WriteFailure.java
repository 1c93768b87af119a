package dev.shrink4j.tensors.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.ReadOnlyFileSystemException;
import java.util.Locale;

/**
 * Why a write failed, in words a user acts on. The JDK's {@link FileSystemException}s carry only the
 * path as their message ({@code AccessDeniedException: /out}) or the C library's text in
 * {@code getReason()}; a full disk and a file-size limit ({@code ulimit -f}) arrive as plain
 * {@link IOException}s whose message is the errno text.
 */
public final class WriteFailure {
    private WriteFailure() {}

    /** "permission denied", "disk full (No space left on device)", ... for {@code e}. */
    public static String describe(Throwable e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof ReadOnlyFileSystemException) return "read-only file system";
        if (e instanceof NotDirectoryException n) return n.getFile() + " is not a directory";
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + " exists and is not a directory";
        if (e instanceof NoSuchFileException n) return "no such file or directory: " + n.getFile();
        String text = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
        if (text == null) return e.getClass().getSimpleName();
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.contains("no space left")) return "disk full (" + text + ")";
        if (lower.contains("disk quota")) return "disk quota exceeded (" + text + ")";
        if (lower.contains("file too large")) return "file too large for this file system or the process's file-size limit (" + text + ")";
        if (lower.contains("read-only file system")) return "read-only file system";
        if (lower.contains("permission denied")) return "permission denied";
        return text;
    }

    /** {@link #describe} for I/O failures only. */
    static String of(IOException e) {
        return describe(e);
    }
}

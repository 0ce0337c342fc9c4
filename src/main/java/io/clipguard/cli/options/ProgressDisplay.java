package io.clipguard.cli.options;

import java.io.Console;

/** Whether a command draws its progress bar: as --progress / --no-progress say, else only on a terminal. */
public final class ProgressDisplay {
    private ProgressDisplay() {
    }

    /** @param requested the command's --progress (true), --no-progress (false), or neither (null) */
    public static boolean show(Boolean requested) {
        if (requested != null) {
            return requested;
        }
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try { // Java 22+ returns a Console even when redirected; isTerminal() tells (absent on 21: then it is one)
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }
}

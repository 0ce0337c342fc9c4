package io.clipguard.console.store;

import java.util.List;

/**
 * A page of the queue, newest first. {@code next} is the cursor of the following page, null at the end; a page may be
 * short and still have a next cursor when the scan budget ran out first (a narrow filter over many alerts).
 *
 * @param scanned store entries read to make this page (bounded by the budget)
 */
public record QueuePage(List<QueueRow> rows, String next, int scanned, boolean budgetExhausted) {}

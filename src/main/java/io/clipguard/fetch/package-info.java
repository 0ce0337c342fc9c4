/**
 * Images by reference: {@code file:} under allowed roots and SSRF-safe {@code http(s):}.
 *
 * <p>Imports nothing of this project.
 */
package io.clipguard.fetch;

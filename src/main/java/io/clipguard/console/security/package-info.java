/**
 * Who may use the console: the users file (name, roles, bcrypt hash), the identity provider behind form login, and
 * the login throttle.
 *
 * <p>Imports nothing of this project.
 */
package io.clipguard.console.security;

/**
 * Who may use the console: the users file (name, roles, bcrypt hash), the identity provider behind form login, the
 * login throttle, and which login the console's paths take (form, or the OIDC code flow when configured).
 *
 * <p>Imports nothing of this project.
 */
package io.clipguard.console.security;

// Package auth holds the security primitives Hallmark's web console and API
// build on: password hashing and policy, opaque tokens, session cookies and
// timeouts, CSRF protection, login rate limiting, and the role/permission
// model for authorities, assessor labs and manufacturers.
//
// It deliberately knows nothing about routing or storage: callers persist
// the hashes it produces and ask it yes/no questions. Everything here fails
// closed: malformed input, unknown actions and inconsistent principals are
// refused rather than guessed at.
package auth

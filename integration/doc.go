// Package integration holds end-to-end tests of the generated audited repositories against a real PostgreSQL.
package integration

// Package redteam is the red-team suite of issue 11: "a trail the application's credentials cannot forge or
// silence". Every subtest is one attack, made with the credentials of the role that would make it (the
// application's auditrepo_app, a login member of auditrepo_owner, the reviewer), and asserts its outcome:
//
//   - REFUSED, with the SQLSTATE the server (or the audit schema) gives; or
//   - ACCEPTED WITH A TRUE ROW: the change is in the trail, read back as the reviewer, with images equal to the
//     record's real before and after, and actor_kind 'unattributed' unless the attacker made a valid claim.
//
// The one attack that may succeed is attaching a false actor to a true row: the application's role may call
// auditrepo_claim.claim itself, in the statement that writes, and name whom it likes. The suite asserts that too,
// and that the images of such a row are still true.
//
// Run it with `go test ./reliability/redteam/ -run RedTeam`.
package redteam

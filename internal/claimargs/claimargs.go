// Package claimargs is the contract between the runtime (package audit) and the SQL the generator writes
// (package templates) that neither may state alone: how many arguments a claim takes. It is internal so that
// audit's public API does not carry it and generated code cannot depend on it.
package claimargs

// Count is the number of claim arguments: actor kind, user id, IP, user agent and request id, in that order.
// audit's Call appends them after a statement's own arguments, and the generated claim reads them as its
// placeholders $n to $n+Count-1, where $n follows the statement's last parameter.
const Count = 5

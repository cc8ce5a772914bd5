// Package vet is a veterinary practice's PHI models: a module that adopts auditrepo from outside (the
// external-module test copies it to a temporary directory and runs it there).
//
// The patient of every audit row is a client: a client's own row (self), a pet through its client_id (a direct
// column), a visit through its pet (a two-hop path).
package vet

import (
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrepo/auditrepo/audit"
)

//go:generate go tool sqlc generate
//go:generate go tool auditrepo-gen -out gen/repo

// Client is a pet's owner: every row is a patient's own record.
type Client struct {
	audit.Model `table:"clients" patient:"self"`
	ID          int64
	Name        string
	Phone       string
	PortalPin   string             `audit:"exclude"`
	UpdatedAt   pgtype.Timestamptz `audit:"nonphi"`
}

// Pet belongs to a client.
type Pet struct {
	audit.Model `table:"pets" patient:"client_id"`
	ID          int64
	ClientID    int64
	Name        string
	Species     string
}

// Visit is a pet's visit; its patient is the pet's client.
type Visit struct {
	audit.Model `table:"visits" patient:"pet_id -> pets.client_id"`
	ID          int64
	PetID       int64
	Reason      string
	Diagnosis   string `audit:"redact"`
}

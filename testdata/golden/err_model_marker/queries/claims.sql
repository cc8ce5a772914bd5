-- name: CreateClaim :one
INSERT INTO claims (visit_id, amount) VALUES ($1, round($2::numeric, 2)) RETURNING *;

-- name: CreateClaimLine :one
INSERT INTO claim_lines (claim_id, code, kind, billed_as) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: DeleteClaimLine :exec
DELETE FROM claim_lines WHERE id = $1;

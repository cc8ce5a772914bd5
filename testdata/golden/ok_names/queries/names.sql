-- name: CreateRepo :one
INSERT INTO repos (name) VALUES ($1) RETURNING *;

-- name: DeleteInstall :exec
DELETE FROM installs WHERE id = $1;

-- name: DeleteProcessLinux :exec
DELETE FROM process_linux WHERE id = $1;

-- name: CreateThing :one
INSERT INTO things (r, db, audit, err, call) VALUES ($1, $2, $3, $4, $5) RETURNING *;

-- name: DeleteThingByR :exec
DELETE FROM things WHERE r = $1;

-- name: DeleteThingByDb :one
DELETE FROM things WHERE db = $1 RETURNING *;

-- name: DeleteThingByAudit :execrows
DELETE FROM things WHERE audit = $1;

-- name: DeleteThingByCall :one
DELETE FROM things WHERE call = $1 RETURNING *;

-- name: GetUser :one
SELECT * FROM users WHERE id = $1;

-- name: CreateUser :one
INSERT INTO users (username, email, password, auth_token, user_type, role, first_name, last_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: UpdateUser :one
UPDATE users
SET email = $2, user_type = $3, role = $4, first_name = $5, last_name = $6, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: UpdateUserPassword :one
UPDATE users SET password = $2, auth_token = NULL, updated_at = now() WHERE id = $1 RETURNING *;

-- name: UpdateUserLastLogin :one
UPDATE users SET last_login = $2 WHERE id = $1 RETURNING *;

-- name: DeleteUser :exec
DELETE FROM users WHERE id = $1;

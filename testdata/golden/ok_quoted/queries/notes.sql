-- name: CreateChartNote :one
INSERT INTO "Chart Notes" ("Patient", "Body Text", "select") VALUES ($1, $2, $3) RETURNING *;

-- name: UpdateChartNote :one
UPDATE "Chart Notes" AS "N" SET "Body Text" = $2 WHERE "N".id = $1 RETURNING *;

-- name: DeleteChartNote :exec
DELETE FROM public."Chart Notes" WHERE id = $1;

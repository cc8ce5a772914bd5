-- name: MergeAppointment :exec
MERGE INTO appointments a
USING (SELECT $1::bigint AS id, $2::text AS status) s ON a.id = s.id
WHEN MATCHED THEN UPDATE SET status = s.status;

-- name: ImportRooms :copyfrom
INSERT INTO rooms (name) VALUES ($1);

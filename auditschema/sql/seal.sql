{{- define "seal" -}}
-- Sealing (package seal): the signed checkpoints and the leaf hashes of the sealed rows.
{{- end -}}

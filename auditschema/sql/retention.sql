{{- define "retention" -}}
-- Retention (auditrepo retention): legal holds, the retention log, and the function that drops old partitions.
{{- end -}}

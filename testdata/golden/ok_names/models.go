// Package oknames has models and columns whose generated names would collide: a model's file with the bundle's
// or the install file's, sqlc's parameter with the method's receiver, variables and packages.
package oknames

import "github.com/auditrepo/auditrepo/audit"

type Repo struct {
	audit.Model `table:"repos" patient:"self"`
	ID          int64
	Name        string
}

type Install struct {
	audit.Model `table:"installs" patient:"self"`
	ID          int64
	Name        string
}

type ProcessLinux struct {
	audit.Model `table:"process_linux" patient:"self"`
	ID          int64
	Name        string
}

type Thing struct {
	audit.Model `table:"things" patient:"self"`
	ID          int64
	R           int64
	Db          int64
	Audit       string
	Err         string
	Call        string
}

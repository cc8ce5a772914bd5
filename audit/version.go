package audit

// Version is the version of auditrepo, the module this package belongs to: the runtime, the generator
// (cmd/auditrepo-gen) and the audit schema library (auditschema) are released together under it. It follows
// semantic versioning; before 1.0.0 a minor release may change the API.
const Version = "0.1.0"

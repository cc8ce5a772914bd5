// Package externaltest holds TestExternalModule: a module outside this one (testdata/external/vet) adopting
// auditrepo the way the README says, built and run end to end in a temporary directory.
package externaltest

// Package access decides who may do what in the registry. A caller is a
// Principal, named by the URI ecoregistry://<organisation>/<name> in its
// verified client certificate. A Policy (YAML or JSON) binds roles, each
// with a scope, to the principals of organisations: a registration office
// its jurisdictions and right types, an exchange its exchange ids and
// admitted accounts, a holder or pledgee its accounts, a regulator its
// authority's right types. One table (table.go) says which role may call
// which RPC and names the check of the call's data each role must pass; the
// checks sit beside it (checks.go, answers.go) and read what they need of
// recorded state through the Facts port. An Authorizer applies the current
// policy and can swap it while serving.
//
// The package knows the API's request messages, which its checks read, and
// the domain's rules of division codes; it knows nothing of transport or
// storage.
package access

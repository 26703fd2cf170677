//go:build tools

// Package tools pins etcd's main package (the root of go.etcd.io/etcd/server/v3) for `go mod tidy`.
package tools

import _ "go.etcd.io/etcd/server/v3"
